"""Choose the body threshold on the validation split.

A model trained ``--without-validation`` labels every validation page once per
threshold, in text mode (the html-text rendering) and HTML mode. Per corpus
(and wcxb page type) it prints the shingle F1 of the kept text, and the share
of the lines the gold calls comments, and l3s-gn1's related lines, that are
dropped: what a lower threshold gains in body it may lose in chrome, and both
are in the issue's acceptance. The held-out split is not offered: it is for
the final figure, not for choosing.

    python -m cleaner.training.thresholds --data ../shared/data --model M
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
from collections import defaultdict
from functools import partial
from pathlib import Path

import numpy as np

from cleaner.decode import decode_bytes
from cleaner.labels import BODY, Line
from cleaner.model import DROP, LineModel
from cleaner.training.corpus import GoldPage, read_all
from cleaner.training.evaluate import (
    DEFAULT_THRESHOLDS,
    WATCHED_CHROME,
    init_worker,
    kept_from,
    page_rows,
    truth_labels,
    watched_name,
    worker_cleaners,
)
from cleaner.training.metric import Score, score_pages
from cleaner.training.render import EVAL_RENDERER, RENDERERS

MODES = ("text", "html")


def sweep_page(page: GoldPage, thresholds: tuple[float, ...]
               ) -> dict[str, list[tuple[str, list[list[bool]]]]]:
    """Per mode and threshold: the kept text, and whether each watched chrome line (by
    the gold) was dropped, per row of ``WATCHED_CHROME``. The model runs once per mode: at
    threshold 0 every line but a blank one is body, with its p(body), and a threshold
    then drops the lines below it, as `LineModel.predict` would."""
    html = decode_bytes(page.html_bytes())
    sources = {"text": RENDERERS[EVAL_RENDERER](html), "html": html}
    out: dict[str, list[tuple[str, list[list[bool]]]]] = {}
    for mode, source in sources.items():
        cleaner = worker_cleaners[mode]
        rendered = cleaner.page(source)
        aligned, _ = truth_labels(rendered, page, {})
        watched = [[i for i, label in enumerate(aligned) if label == name
                    and (corpora is None or page.corpus in corpora)]
                   for name, corpora in WATCHED_CHROME]
        cleaner.body_threshold = cleaner.html_body_threshold = 0.0
        scored = cleaner.label(rendered)
        body = np.array([line.label == BODY for line in scored], bool)
        p_body = np.array([line.probability for line in scored])
        runs = []
        for threshold in thresholds:
            dropped = ~kept_from(p_body, body, threshold)
            lines = [Line(line.text, DROP, line.probability) if drop else line
                     for line, drop in zip(scored, dropped.tolist(), strict=True)]
            runs.append((cleaner.render(rendered, lines),
                         [dropped[indices].tolist() for indices in watched]))
        out[mode] = runs
    return out


def sweep(data_dir: str | Path, model_path: str | Path,
          thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS,
          processes: int | None = None) -> dict:
    """Scores per mode, report row and threshold on the validation split, and the drop
    shares of the watched chrome lines: ``{"scores": {mode: {row: [Score]}},
    "dropped": {mode: {chrome row: [(share, lines)]}}}``."""
    pages = [page for page in read_all(data_dir) if page.validation]
    if not pages:
        raise SystemExit(f"{data_dir}: no validation pages found")
    processes = processes or multiprocessing.cpu_count()
    with multiprocessing.get_context("spawn").Pool(
            processes, initializer=init_worker, initargs=(str(model_path),)) as pool:
        results = pool.map(partial(sweep_page, thresholds=tuple(thresholds)), pages,
                           chunksize=4)
    pairs: dict = defaultdict(lambda: defaultdict(lambda: [[] for _ in thresholds]))
    flags: dict = defaultdict(lambda: defaultdict(lambda: [[] for _ in thresholds]))
    for page, result in zip(pages, results, strict=True):
        for mode, runs in result.items():
            for t, (output, dropped) in enumerate(runs):
                for row in ("all", *page_rows(page)):
                    pairs[mode][row][t].append((output, page.body))
                for (name, corpora), drops in zip(WATCHED_CHROME, dropped, strict=True):
                    flags[mode][watched_name(name, corpora)][t] += drops
    scores = {mode: {row: [score_pages(p) for p in per_t] for row, per_t in rows.items()}
              for mode, rows in pairs.items()}
    dropped = {mode: {label: [(float(np.mean(f)) if f else float("nan"), len(f))
                              for f in per_t] for label, per_t in rows.items()}
               for mode, rows in flags.items()}
    return {"thresholds": list(thresholds), "scores": scores, "dropped": dropped}


def format_sweep(result: dict) -> str:
    thresholds = result["thresholds"]
    lines = []
    for mode in MODES:
        scores: dict[str, list[Score]] = result["scores"][mode]
        best = thresholds[int(np.argmax([s.f1 for s in scores["all"]]))]
        lines.append(f"{mode} mode: shingle F1 at each body threshold (best pooled: {best})")
        lines.append(f"  {'rows':<26} {'pages':>5} " + " ".join(f"{t:>6}" for t in thresholds))
        for row in ["all", *sorted(r for r in scores if r != "all")]:
            per_t = scores[row]
            lines.append(f"  {row:<26} {per_t[0].pages:>5} "
                         + " ".join(f"{s.f1:>6.3f}" for s in per_t))
        for label, per_t in result["dropped"][mode].items():
            count = per_t[0][1]
            if count:
                lines.append(f"  {label + ' dropped':<26} {count:>5} "
                             + " ".join(f"{share:>6.3f}" for share, _ in per_t))
        lines.append("")
    return "\n".join(lines).rstrip()


def _thresholds(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a comma-separated list of numbers: {text!r}") from None
    if not values or not all(0.0 <= v <= 1.0 for v in values):
        raise argparse.ArgumentTypeError(f"thresholds must be from 0 to 1: {text!r}")
    return values


def main(argv: list[str] | None = None, prog: str = "python -m cleaner.training.thresholds") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__, allow_abbrev=False,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="folder of gold-text corpora")
    parser.add_argument("--model", required=True,
                        help="model trained --without-validation (the shipped one has seen "
                             "the validation pages)")
    parser.add_argument("--thresholds", type=_thresholds, default=DEFAULT_THRESHOLDS,
                        help="comma-separated p(body) values (default: 0.3 to 0.65 by 0.05)")
    parser.add_argument("--processes", type=int, default=None,
                        help="worker processes (default: one per core)")
    args = parser.parse_args(argv)
    if not LineModel.load(args.model).metadata.get("without_validation"):
        print(f"note: {args.model} was not trained --without-validation; it has seen these "
              "pages, so the figures flatter it", file=sys.stderr)
    print(format_sweep(sweep(args.data, args.model, args.thresholds, args.processes)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
