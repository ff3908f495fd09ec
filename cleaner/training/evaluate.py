"""`make eval`: accuracy on the held-out split and on the hand-labelled pages.

Per corpus, on pages training never sees: shingle F1/precision/recall of
cleaner in text mode (the page rendered to plain text first, by html-text),
in text mode on a rendering training never uses (one line per text node, as
naive scrapers save pages), and in HTML mode, of trafilatura on the same raw HTML, of keeping every
line, and of the alignment labels themselves (the best a line selector can
do on that rendering). On the hand-labelled pages, line accuracy of models
trained without the page being predicted (leave-one-out).
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from cleaner.api import Cleaner
from cleaner.decode import decode_bytes
from cleaner.labels import BLANK, BODY, Line
from cleaner.model import LineModel, one_thread
from cleaner.page import Page
from cleaner.training import dataset
from cleaner.training.align import align_lines_to_gold
from cleaner.training.corpus import GoldPage, read_all
from cleaner.training.metric import Score, score_pages
from cleaner.training.render import EVAL_RENDERER, RENDERERS

SYSTEMS = ("cleaner-text", "cleaner-nodes", "cleaner-html", "trafilatura", "keep-all",
           "best-lines")
#: Labels that must always be dropped on the hand-labelled pages (issue acceptance).
CHROME = ("currency", "stock", "related", "app")

_worker_cleaners: dict[str, Cleaner] = {}


def _init_worker(model_path: str) -> None:
    one_thread()  # for the life of the worker process
    model = LineModel.load(model_path)
    _worker_cleaners["text"] = Cleaner(model, input_format="text")
    _worker_cleaners["html"] = Cleaner(model, input_format="html")


def predict_page(page: GoldPage) -> tuple[str, dict[str, str]]:
    """Every system's output for one held-out page, plus the gold body."""
    import trafilatura

    html = decode_bytes(page.html_bytes())
    text = RENDERERS[EVAL_RENDERER](html)
    lines = text.split("\n")
    labels = align_lines_to_gold(lines, dataset.gold_classes(page))
    try:
        extracted = trafilatura.extract(html) or ""
    except Exception:  # trafilatura fails on some pages; that counts as empty output
        extracted = ""
    outputs = {
        "cleaner-text": _worker_cleaners["text"].clean(text),
        "cleaner-nodes": _worker_cleaners["text"].clean(RENDERERS["text-nodes"](html)),
        "cleaner-html": _worker_cleaners["html"].clean(html),
        "trafilatura": extracted,
        "keep-all": text,
        "best-lines": "\n".join(
            line for line, label in zip(lines, labels, strict=True) if label == BODY),
    }
    return page.body, outputs


def held_out_scores(data_dir: str | Path, model_path: str | Path,
                    processes: int | None = None) -> dict[str, dict[str, Score]]:
    """Scores per corpus and system on the held-out split."""
    pages = [page for page in read_all(data_dir) if page.held_out]
    processes = processes or multiprocessing.cpu_count()
    with multiprocessing.get_context("spawn").Pool(
            processes, initializer=_init_worker, initargs=(str(model_path),)) as pool:
        results = pool.map(predict_page, pages, chunksize=4)
    pairs: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for page, (gold, outputs) in zip(pages, results, strict=True):
        for system, output in outputs.items():
            pairs[page.corpus][system].append((output, gold))
    return {corpus: {system: score_pages(p) for system, p in systems.items()}
            for corpus, systems in sorted(pairs.items())}


def format_scores(scores: dict[str, dict[str, Score]]) -> str:
    header = f"{'corpus':<12} {'pages':>5}  " + "  ".join(f"{s:>16}" for s in SYSTEMS)
    rows = [header, " " * 20 + "  ".join(f"{'F1   P    R':>16}" for _ in SYSTEMS)]
    for corpus, systems in scores.items():
        pages = next(iter(systems.values())).pages
        cells = [f"{systems[s].f1:.3f} {systems[s].precision:.2f} {systems[s].recall:.2f}"
                 for s in SYSTEMS]
        rows.append(f"{corpus:<12} {pages:>5}  " + "  ".join(f"{c:>16}" for c in cells))
    return "\n".join(rows)


def seed_report(truth: list[Line], predicted: list[Line]) -> dict[str, float]:
    """Line accuracy (exact label and keep/drop), body kept, chrome dropped; blank lines aside."""
    pairs = [(t.label, p.label)
             for t, p in zip(truth, predicted, strict=True) if t.label != BLANK]
    exact = np.mean([t == p for t, p in pairs]) if pairs else 1.0
    keep = np.mean([(t == BODY) == (p == BODY) for t, p in pairs]) if pairs else 1.0
    body = [p == BODY for t, p in pairs if t == BODY]
    chrome = [p != BODY for t, p in pairs if t in CHROME]
    return {"lines": len(pairs), "label_accuracy": float(exact), "keep_accuracy": float(keep),
            "body_kept": float(np.mean(body)) if body else 1.0,
            "chrome_dropped": float(np.mean(chrome)) if chrome else 1.0}


def leave_one_out(data_dir: str | Path, labelled_dir: str | Path) -> dict[str, dict[str, float]]:
    """Each hand-labelled page predicted by a model trained on everything but that page."""
    from cleaner.training.train import corpus_training_rows, hand_labelled_training_rows, train

    corpus = corpus_training_rows(data_dir)
    files = dataset.labelled_files(labelled_dir)
    first_group = int(corpus.groups.max(initial=-1)) + 1
    results = {}
    for held in files:
        others = [f for f in files if f != held]
        model = train(corpus, hand_labelled_training_rows(others, first_group))
        truth = dataset.hand_labelled_pages([held])[0]
        # The lines themselves, not their join: a join and split would drop trailing blanks.
        predicted = Cleaner(model).label(Page([t.text for t in truth], "text"))
        results[held.name] = seed_report(truth, predicted)
        print(f"  {held.name}: {results[held.name]}", file=sys.stderr)
    return results


def format_seed_report(results: dict[str, dict[str, float]]) -> str:
    rows = [f"{'page':<40} {'lines':>5} {'label acc':>9} {'keep acc':>8} {'body kept':>9} "
            f"{'chrome dropped':>14}"]
    for name, r in results.items():
        rows.append(f"{name:<40} {r['lines']:>5} {r['label_accuracy']:>9.3f} "
                    f"{r['keep_accuracy']:>8.3f} {r['body_kept']:>9.3f} "
                    f"{r['chrome_dropped']:>14.3f}")
    total = sum(r["lines"] for r in results.values())
    if total:
        def mean(key: str) -> float:
            return sum(r[key] * r["lines"] for r in results.values()) / total
        rows.append(f"{'all (line-weighted)':<40} {total:>5} {mean('label_accuracy'):>9.3f} "
                    f"{mean('keep_accuracy'):>8.3f} {mean('body_kept'):>9.3f} "
                    f"{mean('chrome_dropped'):>14.3f}")
    return "\n".join(rows)


def main(argv: list[str] | None = None, prog: str = "python -m cleaner.training.evaluate") -> int:
    from cleaner.model import default_model_path
    from cleaner.training.train import SHIPPED_SEEDS

    parser = argparse.ArgumentParser(prog=prog, description=__doc__, allow_abbrev=False)
    parser.add_argument("--data", required=True, help="folder of gold-text corpora")
    parser.add_argument("--labelled", default=str(SHIPPED_SEEDS),
                        help="folder of hand-labelled pages (default: the shipped seeds)")
    parser.add_argument("--model", default=str(default_model_path()),
                        help="model trained without the held-out split (the shipped one is)")
    parser.add_argument("--skip-loo", action="store_true",
                        help="skip the leave-one-out retraining on hand-labelled pages")
    parser.add_argument("--card", default=None,
                        help="model card whose metrics section gets the report "
                             "(default: MODEL_CARD.md beside the model, if there is one)")
    args = parser.parse_args(argv)
    report = ["Held-out split: shingle F1 / precision / recall (cleaner-text reads the "
              f"{EVAL_RENDERER} rendering, cleaner-nodes one line per text node)",
              format_scores(held_out_scores(args.data, args.model))]
    print("\n".join(report), flush=True)
    if not args.skip_loo:
        report += ["", "Hand-labelled pages, each predicted by a model trained without it:",
                   format_seed_report(leave_one_out(args.data, args.labelled))]
        print("\n".join(report[-2:]))
    card = Path(args.card) if args.card else Path(args.model).with_name("MODEL_CARD.md")
    if card.exists() and args.skip_loo:  # the card keeps its last full `make eval` report
        print(f"{card} left as it is: --skip-loo gives part of the report", file=sys.stderr)
    elif card.exists():
        from cleaner.training.card import update_metrics

        update_metrics(card, f"$ make eval  # {datetime.date.today()}\n" + "\n".join(report))
        print(f"metrics written to {card}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
