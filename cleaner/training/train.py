"""`make train`: build line-labelled rows and train the shipped model.

Rows come from the training split of the corpora (see ``corpus.py``) and
from every ``*.labels.tsv`` below the folder of hand-labelled pages, which
weigh more: they are pages exactly as users scrape them. Rows of the
corpora are cached under ``build/`` keyed by the data and the code that
makes them, so retraining and evaluation do not rebuild them. Training is
deterministic: the same data gives the same model.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import hashlib
import sys
from pathlib import Path

import numpy as np
import sklearn

from cleaner.model import LineModel
from cleaner.training import dataset
from cleaner.training.corpus import read_all
from cleaner.training.dataset import Rows

#: Weight of one hand-labelled line relative to one corpus line.
HAND_LABELLED_WEIGHT = 20.0
#: Share of corpus rows used for training (a fixed, seeded sample) to keep training short.
CORPUS_SAMPLE = 1.0
KEEP_ITERATIONS = 300
REASON_ITERATIONS = 100
CACHE_DIR = Path("build/cache")
PACKAGE = Path(__file__).resolve().parent.parent


def row_code(start: str = "training/dataset.py") -> list[str]:
    """The package files that shape corpus rows: dataset.py and every cleaner module it
    imports, however deep. Derived, not listed, so a new module cannot be left out of
    the cache key (a hand-kept list once missed two, and stale rows were reused)."""
    found: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        for node in ast.walk(ast.parse((PACKAGE / name).read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "cleaner":
                todo += [f"{alias.name}.py" for alias in node.names
                         if (PACKAGE / f"{alias.name}.py").exists()]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cleaner."):
                todo.append(node.module.removeprefix("cleaner.").replace(".", "/") + ".py")
    return sorted(found)


def _cache_key(data_dir: Path) -> str:
    digest = hashlib.sha1()
    for name in row_code():
        digest.update((PACKAGE / name).read_bytes())
    for path in sorted(data_dir.glob("*/gold.jsonl")) + sorted(data_dir.glob("*/html")):
        stat = path.stat()
        digest.update(f"{path.relative_to(data_dir)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def corpus_training_rows(data_dir: str | Path, progress: bool = True) -> Rows:
    """Rows of all training-split corpus pages, from the cache when it is current."""
    data_dir = Path(data_dir).resolve()
    cache = CACHE_DIR / f"corpus-rows-{_cache_key(data_dir)}.npz"
    if cache.exists():
        with np.load(cache, allow_pickle=False) as saved:
            return Rows(saved["features"], saved["labels"].astype(object), saved["weights"],
                        saved["groups"], saved["pages"])
    pages = [page for page in read_all(data_dir) if not page.held_out]
    if not pages:
        raise SystemExit(f"{data_dir}: no training pages found (expected */gold.jsonl and */html)")
    rows = dataset.corpus_rows(pages, progress=progress)
    cache.parent.mkdir(parents=True, exist_ok=True)
    temporary = cache.with_suffix(".tmp.npz")
    np.savez(temporary, features=rows.features, labels=rows.labels.astype(str),
             weights=rows.weights, groups=rows.groups, pages=rows.pages)
    temporary.replace(cache)
    return rows


def sample_mask(n: int, fraction: float, seed: int = 0) -> np.ndarray:
    """A fixed random share of n rows (same data, same sample)."""
    return np.random.RandomState(seed).random_sample(n) < fraction


def hand_labelled_training_rows(paths: list[Path], first_group: int) -> Rows:
    pages = dataset.hand_labelled_pages(paths)
    return Rows.concat(dataset.hand_labelled_rows(lines, HAND_LABELLED_WEIGHT, first_group + i)
                       for i, lines in enumerate(pages))


def train(corpus: Rows, hand_labelled: Rows, metadata: dict | None = None) -> LineModel:
    """Fit on a sample of corpus rows and all hand-labelled rows; folds split whole pages."""
    rows = Rows.concat([corpus, hand_labelled])
    fit_mask = np.concatenate([sample_mask(len(corpus), CORPUS_SAMPLE),
                               np.ones(len(hand_labelled), bool)])
    return LineModel.fit(rows.features, rows.labels, rows.pages, rows.weights,
                         folds=rows.groups % 2, fit_mask=fit_mask, metadata=metadata,
                         keep_iter=KEEP_ITERATIONS, reason_iter=REASON_ITERATIONS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cleaner.training.train", description=__doc__)
    parser.add_argument("--data", default="../shared/data", help="folder of gold-text corpora")
    parser.add_argument("--labelled", default="tests/fixtures/seeds",
                        help="folder searched for hand-labelled *.labels.tsv pages")
    parser.add_argument("--model", default="models/cleaner.npz", help="model file to write")
    parser.add_argument("--card", default=None, help="model card to write (default: beside model)")
    args = parser.parse_args(argv)

    started = datetime.datetime.now(datetime.timezone.utc)
    corpus = corpus_training_rows(args.data)
    hand_files = dataset.labelled_files(args.labelled)
    hand = hand_labelled_training_rows(hand_files, int(corpus.groups.max(initial=-1)) + 1)
    print(f"training on {len(corpus)} corpus rows ({CORPUS_SAMPLE:.0%} used) and {len(hand)} "
          f"rows of {len(hand_files)} hand-labelled pages", file=sys.stderr)
    metadata = {
        "trained": started.strftime("%Y-%m-%d"),
        "data": str(args.data), "labelled": [str(p) for p in hand_files],
        "corpus_rows": int(len(corpus)), "hand_labelled_rows": int(len(hand)),
        "hand_labelled_weight": HAND_LABELLED_WEIGHT, "corpus_sample": CORPUS_SAMPLE,
        "keep_iterations": KEEP_ITERATIONS, "reason_iterations": REASON_ITERATIONS,
        "body_threshold": 0.5, "sklearn": sklearn.__version__,
    }
    model = train(corpus, hand, metadata)
    model.save(args.model)
    print(f"wrote {args.model}", file=sys.stderr)
    from cleaner.training.card import write_card

    card = Path(args.card) if args.card else Path(args.model).with_name("MODEL_CARD.md")
    write_card(card, model, args.data)
    print(f"wrote {card}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
