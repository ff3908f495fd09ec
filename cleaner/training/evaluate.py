"""`make eval`: accuracy on the held-out split and on the hand-labelled pages.

Per corpus, on pages training never sees: shingle F1/precision/recall of
cleaner in text mode (the page rendered to plain text first, by html-text),
in text mode on renderings training never uses (one line per text node, as
naive scrapers save pages, and text hard-wrapped as text browsers dump it),
and in HTML mode; of trafilatura and readability-lxml on the same raw HTML,
of keeping every line, and of the alignment labels themselves (the best a
line selector can do on that rendering). wcxb is also scored per page type,
and pages not in English on their own rows; wcxb's snippet checks say how
many of its must-have strings each system keeps and how many of its
boilerplate strings it leaves out. Line by line, the labels cleaner gives
are compared with the labels of the alignment (which chrome lines are
dropped, and for the right reason). On the hand-labelled pages, line
accuracy of models trained without the page being predicted (leave-one-out).

Settings are chosen on the validation split (``--split validation``, with a
model trained ``--without-validation``); the held-out split is for the final
figure.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import logging
import multiprocessing
import shlex
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import NamedTuple

import numpy as np

from cleaner.api import Cleaner
from cleaner.decode import decode_bytes
from cleaner.labels import BLANK, BODY, LABELS, Line
from cleaner.model import LineModel, one_thread, page_thresholds
from cleaner.page import Page
from cleaner.training import dataset
from cleaner.training.align import align_lines_to_gold
from cleaner.training.corpus import GoldPage, read_all
from cleaner.training.metric import (
    DRAWS,
    Score,
    f1_difference,
    page_counts,
    score_counts,
    share,
    share_difference,
    tokens,
)
from cleaner.training.render import EVAL_RENDERER, RENDERERS, UNSEEN_RENDERERS
from cleaner.training.sites import site_key

SYSTEMS = ("cleaner-text", *(f"cleaner-{name}" for name in UNSEEN_RENDERERS), "cleaner-html",
           "trafilatura", "readability", "keep-all", "best-lines")
#: Systems whose output the wcxb snippet checks read.
SNIPPET_SYSTEMS = ("cleaner-text", "cleaner-html", "trafilatura", "readability")
#: Systems whose F1 difference from each of ``BASELINES`` is reported with its interval.
COMPARED = ("cleaner-text", "cleaner-html")
#: The extractors cleaner is measured against (the issue's bars), by their report names;
#: readability-lxml only where it is installed.
BASELINES = {"trafilatura": "trafilatura", "readability": "readability-lxml"}
#: Labels that must always be dropped on the hand-labelled pages (issue acceptance).
CHROME = ("currency", "stock", "related", "app")
#: Body thresholds the validation sweep and the leave-one-out are read at.
DEFAULT_THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65)
#: Frequent English words; a page whose gold has few of them is scored as not English.
_ENGLISH = frozenset("the of and to in is that for it on was with as by be this are from at "
                     "an have or not but his they which you has were their will".split())

#: Gold lines whose drop share is reported: (label, the corpora it is counted on, or all).
WATCHED_CHROME = (("comments", None), ("related", ("l3s-gn1",)))

#: Each worker process's cleaners, one per input format (set by `init_worker`).
worker_cleaners: dict[str, Cleaner] = {}


def is_english(text: str) -> bool:
    """Whether at least 15% of a text's words are frequent English words."""
    words = [word.casefold() for word in tokens(text)]
    return bool(words) and sum(word in _ENGLISH for word in words) / len(words) >= 0.15


def init_worker(model_path: str) -> None:
    one_thread()  # for the life of the worker process
    model = LineModel.load(model_path)
    worker_cleaners["text"] = Cleaner(model, input_format="text")
    worker_cleaners["html"] = Cleaner(model, input_format="html")


def watched_name(label: str, corpora: tuple[str, ...] | None) -> str:
    """How a row of ``WATCHED_CHROME`` is named in reports: ``related (l3s-gn1)``."""
    return label if corpora is None else f"{label} ({', '.join(corpora)})"


def _readability(html: str) -> str | None:
    """readability-lxml's article text, or None when it is not installed (it is an
    optional comparison: ``pip install readability-lxml``)."""
    try:
        import html_text
        from readability import Document
    except ImportError:
        return None
    # It logs its own failures with a traceback, which in the report's output reads
    # as cleaner's; the failure is counted as empty output instead.
    its_log = logging.getLogger("readability")
    level = its_log.level
    its_log.setLevel(logging.CRITICAL)
    try:
        return html_text.extract_text(Document(html).summary(html_partial=True))
    except Exception:  # it fails on some pages; that counts as empty output
        return ""
    finally:
        its_log.setLevel(level)


def readability_installed() -> bool:
    """Whether readability-lxml, the second comparison, can be imported (it is installed
    apart from the package's extras)."""
    return importlib.util.find_spec("readability") is not None


def truth_labels(page: Page, gold: GoldPage,
                 kinds: dict[str, str]) -> tuple[list[str], list[str]]:
    """Labels of a rendering by the alignment to the gold alone, and with unaligned
    chrome named as training names it."""
    aligned = align_lines_to_gold(page.lines, dataset.gold_classes(gold), dataset.FALLBACK_LABEL)
    return aligned, dataset.name_chrome(page.lines, aligned, kinds)


def _pairs(truth: tuple[list[str], list[str]], labelled: list[Line]) -> list[tuple]:
    """(named label, predicted label, whether the gold itself says the label) per line."""
    aligned, named = truth
    return [(t, p.label, a == t != dataset.FALLBACK_LABEL)
            for a, t, p in zip(aligned, named, labelled, strict=True) if t != BLANK]


def predict_page(page: GoldPage) -> tuple[str, dict[str, str], dict[str, list[tuple[str, str]]]]:
    """Every system's output for one page, the gold body, and (truth, predicted) labels
    of each line in HTML and text mode."""
    import trafilatura

    html = decode_bytes(page.html_bytes())
    text = RENDERERS[EVAL_RENDERER](html)
    lines = text.split("\n")
    best = align_lines_to_gold(lines, dataset.gold_classes(page))
    try:
        extracted = trafilatura.extract(html) or ""
    except Exception:  # trafilatura fails on some pages; that counts as empty output
        extracted = ""
    text_cleaner, html_cleaner = worker_cleaners["text"], worker_cleaners["html"]
    html_page = html_cleaner.page(html)
    html_lines = html_cleaner.label(html_page)
    text_page = text_cleaner.page(text)
    text_lines = text_cleaner.label(text_page)
    outputs = {
        "cleaner-text": text_cleaner.render(text_page, text_lines),
        **{f"cleaner-{name}": text_cleaner.clean(RENDERERS[name](html))
           for name in UNSEEN_RENDERERS},
        "cleaner-html": html_cleaner.render(html_page, html_lines),
        "trafilatura": extracted,
        "readability": _readability(html),
        "keep-all": text,
        "best-lines": "\n".join(
            line for line, label in zip(lines, best, strict=True) if label == BODY),
    }
    kinds = dataset.chrome_kinds(html_page)
    pairs = {mode: _pairs(truth_labels(rendered, page, kinds), labelled)
             for mode, rendered, labelled in (("html", html_page, html_lines),
                                              ("text", text_page, text_lines))}
    return page.body, outputs, pairs


def page_rows(page: GoldPage) -> list[str]:
    """The report rows a page counts in: its corpus, and for wcxb its page type; pages
    not in English also count in a row of their own."""
    rows = [page.corpus]
    if page.extra.get("page_type"):
        rows.append(f"{page.corpus}:{page.extra['page_type']}")
    if page.corpus in ("wcxb", "l3s-gn1") and not is_english(page.body):
        rows.append(f"{page.corpus}:non-en")
    return rows


def is_news(page: GoldPage) -> bool:
    """A news page: any corpus's, and of wcxb's only the articles."""
    return page.corpus != "wcxb" or page.extra.get("page_type") == "article"


def site_rows(page: GoldPage, key: str, seen_sites: set[str]) -> list[str]:
    """A news page also counts in a row by whether its site has training pages: the
    split is by page, so most of its pages come from sites training saw, and
    ``news: unseen sites`` is the figure for sites never seen."""
    if not is_news(page):
        return []
    return ["news: seen sites" if key in seen_sites else "news: unseen sites"]


def snippet_shares(page: GoldPage, output: str) -> tuple[int, int, int, int]:
    """(with kept, with total, without left out, without total) for one wcxb page."""
    folded = " ".join(output.split()).casefold()

    def present(snippet: str) -> bool:
        return " ".join(snippet.split()).casefold() in folded

    with_ = page.extra.get("with") or []
    without = page.extra.get("without") or []
    return (sum(map(present, with_)), len(with_),
            sum(not present(s) for s in without), len(without))


def evaluate_pages(data_dir: str | Path, model_path: str | Path, split: str = "held-out",
                   processes: int | None = None) -> dict:
    """Every figure of the report on one split: scores per row and system, snippet
    checks, and line label pairs."""
    chosen = (lambda page: page.held_out) if split == "held-out" else (
        lambda page: page.validation)
    every_page = list(read_all(data_dir))
    pages = [page for page in every_page if chosen(page)]
    # The model of the validation split is trained without it (--without-validation).
    training = [page for page in every_page if not page.held_out
                and not (split == "validation" and page.validation)]
    processes = processes or multiprocessing.cpu_count()
    with multiprocessing.get_context("spawn").Pool(
            processes, initializer=init_worker, initargs=(str(model_path),)) as pool:
        results = pool.map(predict_page, pages, chunksize=4)
        # Each page's HTML is read again for its site: in the workers, not one by one.
        seen_sites = set(pool.map(site_key, training, chunksize=16))
        page_sites = pool.map(site_key, pages, chunksize=16)
    pairs: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    snippets: dict[str, list] = defaultdict(list)
    lines: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for page, key, (gold, outputs, labels) in zip(pages, page_sites, results, strict=True):
        for row in page_rows(page) + site_rows(page, key, seen_sites):
            for system, output in outputs.items():
                if output is not None:
                    pairs[row][system].append((output, gold))
        if page.extra.get("with") or page.extra.get("without"):
            for system in SNIPPET_SYSTEMS:
                if outputs[system] is not None:
                    snippets[system].append(snippet_shares(page, outputs[system]))
        for mode, mode_pairs in labels.items():
            lines[mode] += [(page.corpus, *pair) for pair in mode_pairs]
    counts = {row: {system: page_counts(p) for system, p in systems.items()}
              for row, systems in sorted(pairs.items())}
    scores = {row: {system: score_counts(c) for system, c in systems.items()}
              for row, systems in counts.items()}
    differences = {baseline: {row: {system: f1_difference(systems[system], systems[baseline])
                                    for system in COMPARED}
                              for row, systems in counts.items() if baseline in systems}
                   for baseline in BASELINES}
    per_page = {system: np.array(rows, dtype=float).reshape(-1, 4)
                for system, rows in snippets.items()}
    return {"scores": scores, "differences": differences, "snippets": per_page,
            "snippet_differences": snippet_differences(per_page), "lines": dict(lines)}


def snippet_differences(snippets: dict[str, np.ndarray]
                        ) -> dict[str, tuple[tuple[float, float, float], ...]]:
    """Each compared system's snippet shares (with kept, without left out) minus
    trafilatura's, with their paired intervals (``snippets``: ``snippet_shares`` per
    page, the same pages for every system)."""
    if "trafilatura" not in snippets:
        return {}
    base = snippets["trafilatura"]
    return {system: tuple(share_difference(snippets[system][:, cols], base[:, cols])
                          for cols in ([0, 1], [2, 3]))
            for system in COMPARED if system in snippets}


def held_out_scores(data_dir: str | Path, model_path: str | Path,
                    processes: int | None = None) -> dict[str, dict[str, Score]]:
    """Scores per corpus and system on the held-out split."""
    return evaluate_pages(data_dir, model_path, "held-out", processes)["scores"]


def interval_cell(difference: float, low: float, high: float) -> str:
    """A difference and its interval, as every interval table of the report shows them."""
    return f"{difference:+.3f} [{low:+.3f}, {high:+.3f}]"


def format_snippets(snippets: dict[str, np.ndarray],
                    differences: dict[str, tuple[tuple[float, float, float], ...]]) -> str:
    """Snippet shares per system, and for cleaner's modes their difference from
    trafilatura's with its interval."""
    rows = [f"{'system':<14} {'with kept':>10} {'without left out':>17}   "
            f"{'with, minus trafilatura':>24}  {'without, minus trafilatura':>26}"]
    for system, per_page in snippets.items():
        kept, with_total, left, without_total = per_page.sum(axis=0)
        cells = [interval_cell(*difference) for difference in differences.get(system, ())]
        rows.append((f"{system:<14} {share(kept, with_total):>10.3f} "
                     f"{share(left, without_total):>17.3f}   " +
                     (f"{cells[0]:>24}  {cells[1]:>26}" if cells else "")).rstrip())
    total = next(iter(snippets.values()), np.zeros((0, 4))).sum(axis=0)
    rows.append(f"({int(total[1])} with-snippets, {int(total[3])} without-snippets; "
                "95% intervals from resampling the pages, as above)")
    return "\n".join(rows)


def format_chrome_lines(lines: dict[str, list[tuple[str, str, str, bool]]]) -> str:
    """How the lines the gold calls comments or related fare, per mode."""
    rows = [f"{'mode':<5} {'gold label':<10} {'lines':>6} {'dropped':>8} {'as that label':>14}"]
    for mode, pairs in lines.items():
        for label, corpora in WATCHED_CHROME:
            chosen = [(t, p) for corpus, t, p, from_gold in pairs
                      if t == label and from_gold and (corpora is None or corpus in corpora)]
            if not chosen:
                continue
            dropped = np.mean([p != BODY for _, p in chosen])
            same = np.mean([p == label for _, p in chosen])
            name = watched_name(label, corpora)
            rows.append(f"{mode:<5} {name:<10} {len(chosen):>6} {dropped:>8.3f} {same:>14.3f}")
    return "\n".join(rows)


def format_confusion(pairs: list[tuple[str, str, str, bool]]) -> str:
    """Per-label precision and recall, and the confusion matrix (rows: alignment label)."""
    counts = Counter((t, p) for _, t, p, _ in pairs)
    labels = [label for label in LABELS if label != BLANK
              and any(label in key for key in counts)]
    rows = [f"{'label':<10} {'lines':>7} {'precision':>9} {'recall':>7}   " +
            " ".join(f"{label[:6]:>6}" for label in labels)]
    for label in labels:
        truth = sum(counts[(label, p)] for p in labels)
        said = sum(counts[(t, label)] for t in labels)
        hit = counts[(label, label)]
        rows.append(f"{label:<10} {truth:>7} {hit / max(said, 1):>9.3f} "
                    f"{hit / max(truth, 1):>7.3f}   " +
                    " ".join(f"{counts[(label, p)]:>6}" for p in labels))
    return "\n".join(rows)


def format_scores(scores: dict[str, dict[str, Score]]) -> str:
    header = f"{'rows':<22} {'pages':>5}  " + "  ".join(f"{s:>16}" for s in SYSTEMS)
    rows = [header, " " * 30 + "  ".join(f"{'F1   P    R':>16}" for _ in SYSTEMS)]
    for corpus, systems in scores.items():
        pages = next(iter(systems.values())).pages
        cells = [f"{systems[s].f1:.3f} {systems[s].precision:.2f} {systems[s].recall:.2f}"
                 if s in systems else "n/a" for s in SYSTEMS]
        rows.append(f"{corpus:<22} {pages:>5}  " + "  ".join(f"{c:>16}" for c in cells))
    return "\n".join(rows)


def format_differences(differences: dict[str, dict[str, dict[str, tuple[float, float, float]]]]
                       ) -> list[str]:
    """Each compared system's F1 minus each baseline's, and the interval around it."""
    report = []
    for baseline, rows in differences.items():
        if not rows:  # readability-lxml not installed
            continue
        report += ["", f"F1 minus {BASELINES[baseline]}'s on the same pages, with its 95% "
                   f"interval over {DRAWS} resamplings of the pages (paired bootstrap; an "
                   "interval that holds 0 is no finding either way):",
                   f"{'rows':<22}  " + "  ".join(f"{s:>24}" for s in COMPARED)]
        for corpus, systems in rows.items():
            cells = [interval_cell(*systems[s]) for s in COMPARED]
            report.append(f"{corpus:<22}  " + "  ".join(f"{c:>24}" for c in cells))
    return report


def format_report(result: dict, split: str) -> list[str]:
    return [f"{split.capitalize()} split: shingle F1 / precision / recall (cleaner-text reads "
            f"the {EVAL_RENDERER} rendering; cleaner-text-nodes and cleaner-wrapped read "
            "renderings training never sees)",
            format_scores(result["scores"]),
            *format_differences(result["differences"]),
            "", "wcxb snippet checks (share of must-have strings kept, of boilerplate strings "
            "left out):", format_snippets(result["snippets"], result["snippet_differences"]),
            "", "Comment and related lines (by the alignment) that cleaner drops, and labels as "
            "such:", format_chrome_lines(result["lines"]),
            "", "Line labels in HTML mode against the alignment's (chrome named by class/id "
            "hints where the corpus does not say):", format_confusion(result["lines"]["html"]),
            "", "Line labels in text mode (html-text rendering):",
            format_confusion(result["lines"]["text"])]


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
            "chrome_dropped": float(np.mean(chrome)) if chrome else 1.0,
            "body_lines": len(body), "chrome_lines": len(chrome)}


def kept_from(p_body: np.ndarray, rows: list[bool] | np.ndarray, threshold: float
              ) -> np.ndarray:
    """The lines of one page that `LineModel.predict` keeps at ``threshold``, read from
    their p(body) (``rows``: the lines it scores; the others, blank, count as kept)."""
    rows = np.asarray(rows, dtype=bool)
    kept = np.ones(len(p_body), dtype=bool)
    scored = np.asarray(p_body, dtype=float)[rows]
    kept[rows] = scored >= page_thresholds(scored, threshold, [len(scored)])
    return kept


class SeedRun(NamedTuple):
    """A hand-labelled page, its lines as a leave-one-out model labels them, and p(body)
    of every line (1 for blank ones), to read the run at other thresholds."""
    truth: list[Line]
    predicted: list[Line]
    p_body: np.ndarray


def leave_one_out(data_dir: str | Path, labelled_dir: str | Path,
                  corpus_sample: float | None = None) -> dict[str, SeedRun]:
    """Each hand-labelled page predicted by a model trained on everything but that page
    (on a smaller share of the corpus rows than ``make train`` when ``corpus_sample``
    says so, to keep the five trainings short)."""
    from cleaner.training.train import corpus_training_rows, hand_labelled_training_rows, train

    corpus = corpus_training_rows(data_dir)
    files = dataset.labelled_files(labelled_dir)
    first_group = int(corpus.groups.max(initial=-1)) + 1
    results = {}
    for held in files:
        others = [f for f in files if f != held]
        # Seeds are text pages: the text model alone reads them (the HTML one would be
        # fitted for nothing).
        model = train(corpus, hand_labelled_training_rows(others, first_group),
                      corpus_sample=corpus_sample, with_html=False)
        truth = dataset.hand_labelled_pages([held])[0]
        # The lines themselves, not their join: a join and split would drop trailing blanks.
        page = Page([t.text for t in truth], "text")
        cleaner = Cleaner(model)
        predicted = cleaner.label(page)
        cleaner.body_threshold = 0.0  # every line body, with its p(body)
        p_body = np.array([line.probability for line in cleaner.label(page)])
        results[held.name] = SeedRun(truth, predicted, p_body)
        print(f"  {held.name}: {seed_report(truth, predicted)}", file=sys.stderr)
    return results


def format_seed_thresholds(runs: dict[str, SeedRun],
                           thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS) -> str:
    """Body lines kept and chrome lines dropped over all pages had the models kept lines
    from each threshold: how a threshold choice reads on the hand-labelled pages."""
    labels = np.concatenate([[t.label for t in run.truth] for run in runs.values()])
    body, chrome = labels == BODY, np.isin(labels, CHROME)
    scored = [[line.label != BLANK for line in run.predicted] for run in runs.values()]
    rows = [f"{'threshold':<10} {'body kept':>9} {'chrome dropped':>14}   "
            f"({body.sum()} body, {chrome.sum()} chrome lines)"]
    for threshold in thresholds:
        kept = np.concatenate([kept_from(run.p_body, lines, threshold)
                               for run, lines in zip(runs.values(), scored, strict=True)])
        rows.append(f"{threshold:<10} {kept[body].mean() if body.any() else 1.0:>9.3f} "
                    f"{(~kept[chrome]).mean() if chrome.any() else 1.0:>14.3f}")
    return "\n".join(rows)


def format_seed_report(results: dict[str, dict[str, float]]) -> str:
    rows = [f"{'page':<40} {'lines':>5} {'label acc':>9} {'keep acc':>8} {'body kept':>9} "
            f"{'chrome dropped':>14}"]
    for name, r in results.items():
        rows.append(f"{name:<40} {r['lines']:>5} {r['label_accuracy']:>9.3f} "
                    f"{r['keep_accuracy']:>8.3f} {r['body_kept']:>9.3f} "
                    f"{r['chrome_dropped']:>14.3f}")
    total = sum(r["lines"] for r in results.values())
    if total:
        def pooled(key: str, weight: str) -> float:
            """Over all pages' lines: each share weighted by the lines it counts."""
            weights = sum(r[weight] for r in results.values())
            return sum(r[key] * r[weight] for r in results.values()) / weights if weights else 1.0
        rows.append(f"{'all (pooled over lines)':<40} {total:>5} "
                    f"{pooled('label_accuracy', 'lines'):>9.3f} "
                    f"{pooled('keep_accuracy', 'lines'):>8.3f} "
                    f"{pooled('body_kept', 'body_lines'):>9.3f} "
                    f"{pooled('chrome_dropped', 'chrome_lines'):>14.3f}")
    return "\n".join(rows)


def command_line(prog: str, argv: list[str] | None) -> str:
    """The command that made a report, as the card shows it (it once said `make eval`
    whatever the command was)."""
    args = sys.argv[1:] if argv is None else argv
    return f"$ {' '.join([prog, shlex.join(args)]).rstrip()}  # {datetime.date.today()}"


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
    parser.add_argument("--split", choices=("held-out", "validation"), default="held-out",
                        help="pages to score: the held-out split (the final figure) or the "
                             "validation split of the training pages (to choose settings on, "
                             "with a model trained --without-validation); validation implies "
                             "--skip-loo")
    parser.add_argument("--card", default=None,
                        help="model card whose metrics section gets the report (default: "
                             "the model's own, if it has one: MODEL_CARD.md beside the shipped "
                             "model, MODEL.card.md beside another)")
    parser.add_argument("--loo-sample", type=float, default=None,
                        help="share of corpus rows each leave-one-out model is fitted on "
                             "(default: as make train)")
    args = parser.parse_args(argv)
    args.skip_loo = args.skip_loo or args.split == "validation"
    if not readability_installed():
        # Said first: a full run writes its report into the model card, column or not.
        print("readability-lxml is not installed: the report leaves out its column "
              "(pip install readability-lxml)", file=sys.stderr, flush=True)
    report = format_report(evaluate_pages(args.data, args.model, args.split), args.split)
    print("\n".join(report), flush=True)
    if not args.skip_loo:
        sample = "" if args.loo_sample is None else \
            f" (fitted on a {args.loo_sample:.0%} sample of the corpus rows)"
        runs = leave_one_out(args.data, args.labelled, args.loo_sample)
        seeds = ["", "Hand-labelled pages, each predicted by a model trained without "
                 f"it{sample}:",
                 format_seed_report({name: seed_report(run.truth, run.predicted)
                                     for name, run in runs.items()}),
                 "", "The same models, had they kept lines from each threshold (text "
                 "pages):", format_seed_thresholds(runs)]
        report += seeds
        print("\n".join(seeds))
    from cleaner.training.card import card_path, update_metrics

    card = Path(args.card) if args.card else card_path(args.model)
    if card.exists() and args.skip_loo:  # the card keeps its last full `make eval` report
        print(f"{card} left as it is: --skip-loo gives part of the report", file=sys.stderr)
    elif card.exists():
        update_metrics(card, command_line(prog, argv) + "\n" + "\n".join(report))
        print(f"metrics written to {card}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
