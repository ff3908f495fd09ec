"""Training, evaluation and benchmarking: everything behind `make train/eval/bench`."""
