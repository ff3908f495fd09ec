# The front door: install, test, train, eval, bench, lint, fuzz.
PYTHON ?= python3
DATA ?= ../shared/data
LABELLED ?= tests/fixtures/seeds
MODEL ?= models/cleaner.npz
FUZZ_SECONDS ?= 180
SIGNAL_RUNS ?= 50

.PHONY: install test train eval bench bench-large lint fuzz

install:
	$(PYTHON) -m pip install --quiet -e '.[dev,datatrove,spark]'

test:
	$(PYTHON) -m pytest -q

train:
	$(PYTHON) -m cleaner.cli train --data $(DATA) --labelled $(LABELLED) -o $(MODEL) --overwrite

eval:
	$(PYTHON) -m cleaner.cli eval --data $(DATA) --labelled $(LABELLED) --model $(MODEL)

bench:
	$(PYTHON) -m cleaner.training.bench --data $(DATA) --model $(MODEL)

bench-large:
	$(PYTHON) -m cleaner.training.bench --data $(DATA) --model $(MODEL) --large 100000

lint:
	$(PYTHON) -m ruff check cleaner tests

fuzz:
	$(PYTHON) tests/fuzz_reader.py --seconds $(FUZZ_SECONDS)
	$(PYTHON) tests/fuzz_model.py --seconds $(FUZZ_SECONDS)
	$(PYTHON) tests/fuzz_signals.py --runs $(SIGNAL_RUNS)
