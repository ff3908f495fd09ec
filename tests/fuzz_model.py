"""Fuzz the model loader: ``make fuzz`` (``--seconds N``), or ``--cases N`` for a fixed count.

Each case is the shipped model file mutated one way: bytes flipped, cut or
inserted; one tree array changed (indices out of range or pointing back,
NaN and infinite numbers, other dtypes and shapes, arrays dropped or added);
or one header field replaced. A worker process loads each case and, if it
loads, predicts on feature rows of a real page and on random rows with
missing values. The contract: every case either raises ModelError or gives
a model whose predictions are labels it knows with probabilities in [0, 1];
never another exception, never a crash of the worker, never more than
``--limit`` seconds. A case that breaks it is saved under
``tests/fixtures/fuzz_model/`` and the run fails.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import select
import struct
import subprocess
import sys
import time
import traceback
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cleaner import model_file  # noqa: E402
from cleaner.model import DEFAULT_MODEL_PATH, LineModel, ModelError  # noqa: E402

FOUND = Path(__file__).resolve().parent / "fixtures" / "fuzz_model"
_JUNK = [None, True, -1, 0, 2**40, 0.5, 1e308, "", "x", [], [1], {}, {"a": 1}, ["body", "nav"]]


# --------------------------------------------------------------------------- the contract


def _rows() -> np.ndarray:
    from cleaner.features import FEATURE_NAMES, page_features
    from cleaner.page import make_page

    page = (ROOT / "tests" / "fixtures" / "pages").glob("*")
    text = next(p for p in sorted(page) if p.is_file()).read_bytes().decode("utf-8", "replace")
    features, _ = page_features(make_page(text, None))
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 100, (20, len(FEATURE_NAMES)))
    noise[rng.random(noise.shape) < 0.3] = np.nan
    noise[rng.random(noise.shape) < 0.05] = np.inf
    return np.vstack([features, noise.astype(np.float32)])


def check_model_bytes(data: bytes, rows: np.ndarray) -> str:
    """'refused' or 'loaded'; AssertionError or any other exception breaks the contract."""
    try:
        model = LineModel.from_bytes(data, "fuzz")
    except ModelError as error:
        assert str(error).startswith("fuzz: "), error
        return "refused"
    labels, probability = model.predict(rows, [len(rows) - 20, 20])
    assert set(labels) <= set(model.labels), set(labels) - set(model.labels)
    assert np.isfinite(probability).all() and (probability >= 0).all()
    assert (probability <= 1 + 1e-9).all()
    proba = model.predict_proba(rows)
    assert proba.shape == (len(rows), len(model.labels)) and np.isfinite(proba).all()
    return "loaded"


def worker() -> None:
    """Read length-prefixed cases on stdin, answer one JSON line per case."""
    rows = _rows()
    source, sink = sys.stdin.buffer, sys.stdout
    while True:
        head = source.read(8)
        if len(head) < 8:
            return
        data = source.read(struct.unpack("<Q", head)[0])
        try:
            answer = {"result": check_model_bytes(data, rows)}
        except Exception:
            answer = {"result": "bug", "traceback": traceback.format_exc()[-3000:]}
        sink.write(json.dumps(answer) + "\n")
        sink.flush()


# --------------------------------------------------------------------------- mutations


def mutate_bytes(data: bytes, rng: np.random.Generator) -> bytes:
    data = bytearray(data)
    kind = rng.integers(4)
    if kind == 0:
        for i in rng.integers(0, len(data), rng.integers(1, 20)):
            data[i] = rng.integers(256)
    elif kind == 1:
        data = data[:rng.integers(0, len(data))]
    elif kind == 2:
        at = rng.integers(0, len(data))
        data[at:at] = rng.bytes(int(rng.integers(1, 200)))
    else:
        at, size = rng.integers(0, len(data)), rng.integers(1, 5000)
        data[at:at] = data[at:at + size]
    return bytes(data)


def mutate_array(array: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    kind = rng.integers(9)
    array = array.copy()
    flat = array.reshape(-1)  # a view: the word scores are 2-D, the tree arrays 1-D
    if kind == 0 and array.size:  # a few values anywhere in a plausible range, or beyond
        where = rng.integers(0, array.size, rng.integers(1, 6))
        span = max(array.size, 4)
        values = rng.integers(-3, span + 3, len(where))
        flat[where] = values.astype(array.dtype) if array.dtype != bool else values % 2
    elif kind == 1 and array.size and array.dtype.kind == "f":
        where = rng.integers(0, array.size, rng.integers(1, 6))
        flat[where] = rng.choice([np.nan, np.inf, -np.inf, 1e308, -0.0, 0.0], len(where))
    elif kind == 2 and array.size and array.dtype.kind in "iu":
        where = rng.integers(0, array.size, rng.integers(1, 6))
        flat[where] = rng.choice([0, 1, -1, 2**31 - 1, -(2**31)], len(where)).astype(
            array.dtype)
    elif kind == 3:
        return array[:rng.integers(0, array.size + 1)]
    elif kind == 4:
        with np.errstate(invalid="ignore", over="ignore"):
            return array.astype(rng.choice([np.int64, np.float32, np.uint8, bool, np.int32]))
    elif kind == 5:
        return array.reshape(1, -1) if array.size else array.reshape(0, 1)
    elif kind == 6:
        return None  # drop the array
    elif kind == 7 and array.size > 1:  # point somewhere in the same tree: cycles, sharing
        i, j = rng.integers(0, array.size, 2)
        flat[i] = flat[j]
    elif kind == 8:
        return np.concatenate((array, array[:rng.integers(0, 10)]))
    return array


def mutate_header(header: dict, rng: np.random.Generator) -> dict:
    header = json.loads(json.dumps(header))
    target = header
    path = []
    while isinstance(target, dict) and target and rng.random() < 0.6:
        key = sorted(target)[rng.integers(len(target))]
        path.append(key)
        if not isinstance(target[key], dict):
            break
        target = target[key]
    parent = header
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1] if path else sorted(header)[rng.integers(len(header))]
    if rng.random() < 0.2:
        parent.pop(key, None)
    else:
        parent[key] = _JUNK[rng.integers(len(_JUNK))]
    if isinstance(parent.get("feature_names"), list) and rng.random() < 0.3:
        names = parent["feature_names"]
        rng.shuffle(names)
    return header


def make_case(original: bytes, parts: tuple[dict, dict], rng: np.random.Generator) -> bytes:
    arrays, header = parts
    kind = rng.integers(3)
    if kind == 0:
        return mutate_bytes(original, rng)
    if kind == 1:
        arrays = dict(arrays)
        for name in rng.choice(sorted(arrays), rng.integers(1, 3), replace=False):
            changed = mutate_array(arrays[name], rng)
            if changed is None:
                del arrays[name]
            else:
                arrays[name] = changed
        return model_file.pack(arrays, header)
    return model_file.pack(arrays, mutate_header(header, rng))


# --------------------------------------------------------------------------- the driver


class Worker:
    """A child process that checks cases; restarted after a crash or a timeout."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--worker"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=dict(
                os.environ, OMP_NUM_THREADS="1"))

    def check(self, data: bytes, limit: float) -> dict:
        try:
            self.process.stdin.write(struct.pack("<Q", len(data)) + data)
            self.process.stdin.flush()
        except BrokenPipeError:
            return {"result": "crash", "code": self.process.wait()}
        ready, _, _ = select.select([self.process.stdout], [], [], limit)
        if not ready:
            return {"result": "timeout"}
        line = self.process.stdout.readline()
        if not line:
            return {"result": "crash", "code": self.process.wait()}
        return json.loads(line)

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


def run(cases: int | None, seconds: float | None, seed: int, limit: float) -> int:
    original = DEFAULT_MODEL_PATH.read_bytes()
    parts = model_file.unpack(original)
    rng = np.random.default_rng(seed)
    worker_process = Worker()
    counts: dict[str, int] = {}
    failures = 0
    started = time.monotonic()
    done = 0
    try:
        while (cases is None or done < cases) and (
                seconds is None or time.monotonic() - started < seconds):
            data = make_case(original, parts, rng)
            answer = worker_process.check(data, limit)
            done += 1
            counts[answer["result"]] = counts.get(answer["result"], 0) + 1
            if answer["result"] in ("loaded", "refused"):
                continue
            failures += 1
            FOUND.mkdir(parents=True, exist_ok=True)
            name = FOUND / f"{hashlib.sha256(data).hexdigest()[:16]}.npz"
            name.write_bytes(data)
            print(f"contract broken ({answer['result']}), saved {name}:\n"
                  f"{answer.get('traceback', answer)}", file=sys.stderr)
            if answer["result"] in ("crash", "timeout"):
                worker_process.close()
                worker_process = Worker()
    finally:
        worker_process.close()
    print(f"{done} mutated model files in {time.monotonic() - started:.0f} s: "
          f"{json.dumps(counts)}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, help="run this long")
    parser.add_argument("--cases", type=int, help="run this many cases")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--limit", type=float, default=20.0,
                        help="seconds one case may take (load and predict)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker()
        return 0
    if args.cases is None and args.seconds is None:
        args.seconds = 60.0
    print(f"seed {args.seed}")
    return run(args.cases, args.seconds, args.seed, args.limit)


if __name__ == "__main__":
    sys.exit(main())
