"""What ``Cleaner.clean_batch`` gives over cleaning pages one by one, in text mode.

``make eval`` cleans every page alone. Here the pages of a split are cleaned both
ways, text mode on the html-text rendering, with each page's site from
``sites.site_key``, and scored with the same shingle metric:

    python -m cleaner.training.batch_eval --data ../shared/data --model models/cleaner.npz

``--batch all`` puts every page of the corpora in the batch (their text only; the
scores stay the split's), as a user's run over many pages of few sites would.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from cleaner.api import Cleaner
from cleaner.decode import decode_bytes
from cleaner.site_memory import drop_template
from cleaner.training.corpus import GoldPage, read_all
from cleaner.training.evaluate import is_news, page_rows
from cleaner.training.metric import page_counts, score_counts
from cleaner.training.render import EVAL_RENDERER, RENDERERS
from cleaner.training.sites import site_key

ROWS = ("pooled", "news", "cleaneval", "dragnet", "l3s-gn1", "readability", "wcxb",
        "wcxb:article")


def text_and_site(page: GoldPage) -> tuple[str, str]:
    """The page as text mode reads it in ``make eval``, and its site."""
    return RENDERERS[EVAL_RENDERER](decode_bytes(page.html_bytes())), site_key(page)


def batch_gain(scored: list[GoldPage], prepared: list[tuple[str, str]], cleaner: Cleaner
               ) -> dict:
    """F1 per row alone and in the batch, and pages moved by more than 0.05 either way;
    ``prepared`` holds (text, site) of the scored pages first, then of the rest of the
    batch. Every page is labelled once; alone and in the batch differ only in the
    template lines dropped."""
    pages = [cleaner.page(text) for text, _ in prepared]
    labelled = list(cleaner.label_many(pages))
    together = drop_template(labelled, [site for _, site in prepared],
                             [page.kind for page in pages])
    golds, shown = [page.body for page in scored], pages[:len(scored)]
    before = page_counts((cleaner.render(page, lines), gold) for page, lines, gold
                         in zip(shown, labelled[:len(scored)], golds, strict=True))
    after = page_counts((cleaner.render(page, lines), gold) for page, lines, gold
                        in zip(shown, together[:len(scored)], golds, strict=True))
    moved = np.array([score_counts(b[None]).f1 - score_counts(a[None]).f1
                      for a, b in zip(before, after, strict=True)])
    rows: dict[str, list[int]] = defaultdict(list)
    for number, page in enumerate(scored):
        for row in ["pooled", *page_rows(page), *(["news"] if is_news(page) else [])]:
            rows[row].append(number)
    return {"rows": {row: (score_counts(before[numbers]), score_counts(after[numbers]))
                     for row, numbers in rows.items()},
            "up": int((moved > 0.05).sum()), "down": int((moved < -0.05).sum())}


def format_gain(result: dict) -> str:
    lines = [f"{'rows':18s} {'pages':>5s}  alone  batch"]
    for row in ROWS + tuple(sorted(set(result["rows"]) - set(ROWS))):
        if row in result["rows"]:
            before, after = result["rows"][row]
            lines.append(f"{row:18s} {before.pages:5d}  {before.f1:.4f} {after.f1:.4f}")
    lines.append(f"pages up by more than 0.05: {result['up']}, down: {result['down']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cleaner.training.batch_eval",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="../shared/data", help="corpora (default: %(default)s)")
    parser.add_argument("--model", default=None, help="model file (default: the shipped one)")
    parser.add_argument("--split", choices=("held-out", "validation"), default="held-out")
    parser.add_argument("--batch", choices=("split", "all"), default="split",
                        help="the split's pages alone (default), or every page of the corpora")
    args = parser.parse_args(argv)
    if not Path(args.data).is_dir():
        parser.error(f"{args.data}: data directory not found")
    every = list(read_all(args.data))
    chosen = [page.held_out if args.split == "held-out" else page.validation
              for page in every]
    scored = [page for page, keep in zip(every, chosen, strict=True) if keep]
    rest = [page for page, keep in zip(every, chosen, strict=True)
            if not keep and args.batch == "all"]
    with multiprocessing.get_context("spawn").Pool() as pool:
        prepared = pool.map(text_and_site, scored + rest, chunksize=8)
    result = batch_gain(scored, prepared, Cleaner(args.model, input_format="text"))
    print(f"text mode, {args.split} split, batch: {args.batch} ({len(prepared)} pages)")
    print(format_gain(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
