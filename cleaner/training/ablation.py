"""What each idea gives: train variants without it, score them on the validation split.

Every variant is trained on the same rows (training pages outside the validation
split, a fixed sample of them, fewer rounds than ``make train`` so that the whole
table takes minutes) and scored on the validation pages' cached rows, in HTML mode
and in text mode (html-text rendering): the body characters kept against those the
alignment calls body, per page and normalised like the shingle metric, and the
share of comment and related lines dropped. The held-out split is never read.

    python -m cleaner.training.ablation --data ../shared/data
"""

from __future__ import annotations

import argparse
import datetime
import sys
from collections.abc import Callable

import numpy as np

from cleaner import model as model_module
from cleaner.features import FEATURE_NAMES, PREDICTION_CONTEXT_FEATURES
from cleaner.html_blocks import LAYOUT_FEATURES
from cleaner.labels import BODY
from cleaner.model import LineModel, page_lengths
from cleaner.training.dataset import RENDERINGS, Rows
from cleaner.training.train import corpus_training_rows, sample_mask, training_pages

#: The second-stage columns added for the shape of the page (wider window, sure body,
#: body mass before and after).
WIDE_CONTEXT = ("p_body~30", "lines_since_sure_body", "lines_until_sure_body",
                "p_body_mass_before", "p_body_mass_after")
#: Renderings scored: the HTML blocks, and html-text's plain text.
SCORED = {"html": 0, "text": 2}
INSCRIPTIS_RENDERING = 3


def _masked(features: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    out = features.copy()
    out[:, [FEATURE_NAMES.index(name) for name in names]] = np.nan
    return out


def _without_wide_context(original: Callable) -> Callable:
    columns = [PREDICTION_CONTEXT_FEATURES.index(name) for name in WIDE_CONTEXT]

    def context(*args):
        out = original(*args)
        out[:, columns] = np.nan
        return out
    return context


def score(model: LineModel, rows: Rows) -> dict[str, float]:
    """Body-character F1 per mode, and comment/related lines dropped."""
    out: dict[str, float] = {}
    rendering = rows.pages % RENDERINGS
    chars = np.expm1(rows.features[:, FEATURE_NAMES.index("log_chars")].astype(float))
    for mode, index in SCORED.items():
        part = rows.select(rendering == index)
        lengths = page_lengths(part.pages)
        labels, _ = model.predict(part.features, lengths, tokens=part.tokens,
                                  ancestors=part.ancestors,
                                  html=np.full(len(lengths), index == 0))
        kept, gold = labels == BODY, part.labels == BODY
        weight = chars[rendering == index]
        tp = fp = fn = 0.0
        start = 0
        for length in lengths:
            page = slice(start, start + length)
            start += length
            a = (weight[page] * (kept[page] & gold[page])).sum()
            b = (weight[page] * (kept[page] & ~gold[page])).sum()
            c = (weight[page] * (~kept[page] & gold[page])).sum()
            total = a + b + c
            if total:
                tp, fp, fn = tp + a / total, fp + b / total, fn + c / total
        precision, recall = tp / max(tp + fp, 1e-9), tp / max(tp + fn, 1e-9)
        out[f"{mode} F1"] = 2 * precision * recall / max(precision + recall, 1e-9)
        for label in ("comments", "related"):
            chosen = part.labels == label
            out[f"{mode} {label} dropped"] = float((~kept[chosen]).mean()) if chosen.any() \
                else float("nan")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cleaner.training.ablation",
                                     description=__doc__)
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--sample", type=float, default=0.4,
                        help="share of training rows each variant is fitted on")
    parser.add_argument("--keep-iter", type=int, default=150)
    parser.add_argument("--reason-iter", type=int, default=40)
    parser.add_argument("--variants",
                        default="all,-layout,-wide-context,-dom,-inscriptis,-words,-all")
    parser.add_argument("--card", default=None, help="model card to write the table into")
    args = parser.parse_args(argv)
    rows = corpus_training_rows(args.data)
    validation_pages = np.array([p.validation for p in training_pages(args.data)], bool)
    is_validation = validation_pages[rows.groups]
    train_rows, validation_rows = rows.select(~is_validation), rows.select(is_validation)
    print(f"{len(train_rows)} training rows, {len(validation_rows)} validation rows "
          f"({int(validation_pages.sum())} pages)", file=sys.stderr)
    original_context = model_module.prediction_context
    table = {}
    for variant in args.variants.split(","):
        fit_rows = train_rows
        features, eval_features = train_rows.features, validation_rows.features
        if variant in ("-layout", "-all"):
            features = _masked(features, LAYOUT_FEATURES)
            eval_features = _masked(eval_features, LAYOUT_FEATURES)
        if variant in ("-inscriptis", "-all"):
            keep = fit_rows.pages % RENDERINGS != INSCRIPTIS_RENDERING
            fit_rows, features = fit_rows.select(keep), features[keep]
        model_module.prediction_context = (
            _without_wide_context(original_context) if variant in ("-wide-context", "-all")
            else original_context)
        without_dom = variant in ("-dom", "-all")
        mask = sample_mask(len(fit_rows), args.sample)
        model = LineModel.fit(features, fit_rows.labels, fit_rows.pages, fit_rows.weights,
                              folds=fit_rows.groups % 2, fit_mask=mask,
                              keep_iter=args.keep_iter, reason_iter=args.reason_iter,
                              tokens=None if variant in ("-words", "-all") else fit_rows.tokens,
                              groups=fit_rows.groups,
                              ancestors=None if without_dom else fit_rows.ancestors)
        evaluated = Rows(eval_features, validation_rows.labels, validation_rows.weights,
                         validation_rows.groups, validation_rows.pages, validation_rows.tokens,
                         np.full_like(validation_rows.ancestors, -1) if without_dom
                         else validation_rows.ancestors)
        table[variant] = score(model, evaluated)
        print(variant, {k: round(v, 4) for k, v in table[variant].items()}, file=sys.stderr,
              flush=True)
    model_module.prediction_context = original_context
    columns = list(next(iter(table.values())))
    rows = ["| variant | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    rows += [f"| {variant} | " + " | ".join(f"{scores[c]:.4f}" for c in columns) + " |"
             for variant, scores in table.items()]
    print("\n".join(rows))
    if args.card:
        from cleaner.training.card import update_ablation_table

        update_ablation_table(args.card, (
            f"`python -m cleaner.training.ablation` ({datetime.date.today()}): each variant "
            f"fitted on {args.sample:.0%} of the rows of the training pages outside the "
            f"validation split ({args.keep_iter} keep rounds, {args.reason_iter} reason "
            "rounds), scored on the validation pages: body-character F1 against the "
            "alignment (per page, normalised like the shingle metric) in HTML mode and in "
            "text mode (html-text), and the share of comment and related lines dropped. "
            "`-layout`: without the article-container, repeated-item and landmark features; "
            "`-wide-context`: without the second stage's wide window, sure-body distances and "
            "body mass before/after; `-inscriptis`: without the inscriptis rendering; `-all`: "
            "without any of the three.\n\n" + "\n".join(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
