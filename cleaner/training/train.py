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
import importlib.resources
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import sklearn

from cleaner.labels import BODY
from cleaner.lexicon import Tokens
from cleaner.model import MAX_LEAF_NODES, LineModel
from cleaner.training import dataset
from cleaner.training.corpus import GoldPage, read_all
from cleaner.training.dataset import Rows

#: Weight of one hand-labelled line relative to one corpus line.
#: (50 since the corpora grew to 2.9M rows: at 20 the shipped model kept three of the
#: seeds' chrome lines; 100 since the word cues: at 50 the model dropped one of seed
#: 001's body lines, the last paragraph before its byline, at p(body) 0.49; back to 50
#: since 100 cost the validation split's readability pages 0.04 F1 in text mode, and
#: the shipped model keeps that line, at p(body) 0.51.)
HAND_LABELLED_WEIGHT = 50.0
#: p(body) from which a line is kept, per input format, written into the model. Chosen
#: on the validation split (`python -m cleaner.training.thresholds`, the model trained
#: `--without-validation`) and the seeds' leave-one-out read at each threshold, by a rule
#: fixed before: per format, the best pooled F1 among thresholds that drop >= 98% of the
#: comment lines and >= 95% of l3s-gn1's related lines (text: and keep every body line and
#: >= 98% of the chrome in the leave-one-out), the shipped model keeping the seeds' body
#: lines. 0.4 (best F1 with no such constraint) kept too much prose-like chrome. For the
#: recipe below (trees of 63 leaves, 50% of the rows) it gives 0.45 in HTML mode and 0.5
#: in text mode, where the shipped model kept a nav line of seed 000 (p(body) 0.54), so
#: text mode kept lines from 0.55, the next admissible threshold. With the element-tree
#: columns (2026-12-02) the same rule gives 0.5 in both formats (see the model card); with
#: a model per input format (2026-12-04), 0.5 in HTML mode and 0.45 in text mode, where the
#: same text model kept a nav line of seed 000 at 0.45 (rule 19), so 0.5 again.
BODY_THRESHOLD = 0.5
HTML_BODY_THRESHOLD = 0.5
#: Share of corpus rows used for training (a fixed, seeded sample) to keep training short.
#: Since wcxb and a third text rendering came in (2.9M rows): 40%; 50% with trees of 63
#: leaves since 2026-11-25 (chosen on the validation split, see the model card), which
#: keeps `make train` under 30 minutes on two cores.
CORPUS_SAMPLE = 0.5
#: Share of the HTML rows the HTML model is fitted on: all of them. On half, the HTML
#: trees kept more chrome than shared trees had (validation: 98.7% of the comment lines
#: dropped against 99.7%, held-out 90.6% in an earlier form); on all, 99.7% (rule 26 in
#: the model card). The HTML rows are a fifth of the corpus rows, so this costs ~8 minutes.
HTML_CORPUS_SAMPLE = 1.0
#: Keep stages the text model averages p(body) over, each fitted on its own disjoint
#: slice of the text rows (``CORPUS_SAMPLE`` each; the seeds in all): on the validation
#: split two halves averaged read text F1 0.8825 against 0.8793 for one half and 0.8766
#: for one model on all the rows (rule 29 in the model card). HTML pages: one model.
TEXT_MODELS = 2
#: The text models after the first fit this share of its keep rounds at its rate divided
#: by the share (100 rounds at 0.3 for 200 at 0.15): fewer trees to walk for every line
#: cleaned (rule 30 in the model card: on the validation split text F1 0.8825, as with
#: the full rounds, and 342.5 text pages/s against 291.3).
MEMBER_ROUNDS_SHARE = 0.5
#: Fewer rounds at a higher rate than before (300 at 0.1, 100 at 0.15): half the trees
#: to walk for every line cleaned.
KEEP_ITERATIONS = 200
KEEP_LEARNING_RATE = 0.15
REASON_ITERATIONS = 60
REASON_LEARNING_RATE = 0.25
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
    """``<data>-<content>``: which corpora (by path, so that caches of other data folders
    are told apart), then the row code and the names and bytes of the corpora's files.
    Bytes, not sizes and times: a page edited in place leaves its folder's time alone
    (stale rows were reused), and a copy of the same data changes every time (hashing
    the 144 MB of the shared corpora takes under a second; rebuilding the rows, two
    minutes on 2 cores)."""
    place = hashlib.sha1(str(data_dir).encode()).hexdigest()[:8]
    digest = hashlib.sha1()
    for name in row_code():
        digest.update((PACKAGE / name).read_bytes())
    files = sorted(data_dir.glob("*/gold.jsonl")) + sorted(
        path for path in data_dir.glob("*/html/**/*") if path.is_file())
    for path in files:
        data = path.read_bytes()
        digest.update(f"{path.relative_to(data_dir).as_posix()}:{len(data)}:".encode())
        digest.update(data)
    return f"{place}-{digest.hexdigest()[:16]}"


def _remove_stale_caches(cache: Path) -> None:
    """Delete this data folder's caches from earlier code or data (1.8 GB each for the
    shared corpora), which no training reads again."""
    place = cache.name.removeprefix("corpus-rows-").split("-")[0]
    for old in cache.parent.glob(f"corpus-rows-{place}-*.npz"):
        if old != cache:
            old.unlink(missing_ok=True)


def training_pages(data_dir: str | Path) -> list[GoldPage]:
    """The training split, in the order whose index is each page's row group."""
    return [page for page in read_all(data_dir) if not page.held_out]


def without_validation(rows: Rows, data_dir: str | Path) -> Rows:
    """The rows of training pages outside the validation split."""
    validation = np.array([page.validation for page in training_pages(data_dir)], bool)
    return rows.select(~validation[rows.groups])


def corpus_training_rows(data_dir: str | Path, progress: bool = True) -> Rows:
    """Rows of all training-split corpus pages, from the cache when it is current."""
    data_dir = Path(data_dir).resolve()
    cache = CACHE_DIR / f"corpus-rows-{_cache_key(data_dir)}.npz"
    if cache.exists():
        with np.load(cache, allow_pickle=False) as saved:
            return Rows(saved["features"], saved["labels"].astype(object), saved["weights"],
                        saved["groups"], saved["pages"],
                        Tokens(saved["token_hashes"], saved["token_rows"]), saved["ancestors"])
    pages = training_pages(data_dir)
    if not pages:
        raise SystemExit(f"{data_dir}: no training pages found (expected */gold.jsonl and */html)")
    rows = dataset.corpus_rows(pages, progress=progress)
    cache.parent.mkdir(parents=True, exist_ok=True)
    temporary = cache.with_suffix(".tmp.npz")
    np.savez(temporary, features=rows.features, labels=rows.labels.astype(str),
             weights=rows.weights, groups=rows.groups, pages=rows.pages,
             token_hashes=rows.tokens.hashes, token_rows=rows.tokens.rows,
             ancestors=rows.ancestors)
    temporary.replace(cache)
    _remove_stale_caches(cache)
    return rows


def sample_mask(n: int, fraction: float, seed: int = 0) -> np.ndarray:
    """A fixed random share of n rows (same data, same sample)."""
    return sample_slices(n, fraction, 1, seed)[0]


def sample_slices(n: int, fraction: float, count: int, seed: int = 0) -> list[np.ndarray]:
    """``count`` fixed random shares of n rows, each ``fraction`` of them, disjoint while
    ``fraction * count`` <= 1 (beyond, they wrap around and overlap). The first is
    ``sample_mask``'s."""
    draw = np.random.RandomState(seed).random_sample(n)
    return [(draw - i * fraction) % 1.0 < fraction if i else draw < fraction
            for i in range(count)]


def hand_labelled_training_rows(paths: list[Path], first_group: int) -> Rows:
    pages = dataset.hand_labelled_pages(paths)
    return Rows.concat(dataset.hand_labelled_rows(lines, HAND_LABELLED_WEIGHT, first_group + i)
                       for i, lines in enumerate(pages))


def train(corpus: Rows, hand_labelled: Rows, metadata: dict | None = None,
          corpus_sample: float | None = None, with_html: bool = True,
          sample_seed: int = 0) -> LineModel:
    """Fit on a sample of corpus rows and all hand-labelled rows; folds split whole pages.
    Text pages and HTML pages get trees of their own (the HTML model learns from the
    corpora's HTML renderings, the text model from their text renderings and the
    hand-labelled pages): with trees shared by both, what helped one format cost the
    other (see the model card). The text model averages p(body) over ``TEXT_MODELS`` keep
    stages, fitted on disjoint slices of the text rows (one when the sample leaves no room
    for a second). The model keeps lines from ``BODY_THRESHOLD`` (HTML:
    ``HTML_BODY_THRESHOLD``) unless ``metadata`` says otherwise, so that the leave-one-out
    models decide as the shipped one does. ``with_html=False`` fits the text model alone
    (all a reader of text pages needs: the leave-one-out runs on the seeds).
    ``sample_seed`` picks another fixed draw of the sampled rows: refits that differ only
    in it show how far a figure moves by the draw alone (see the model card)."""
    metadata = {"body_threshold": BODY_THRESHOLD, "html_body_threshold": HTML_BODY_THRESHOLD,
                **(metadata or {})}
    sample = CORPUS_SAMPLE if corpus_sample is None else corpus_sample
    html_sample = HTML_CORPUS_SAMPLE if corpus_sample is None else corpus_sample
    html = corpus.pages % dataset.RENDERINGS == 0
    text_rows, html_rows = corpus.select(~html), corpus.select(html)
    text_and_hand = Rows.concat([text_rows, hand_labelled])
    count = TEXT_MODELS if sample * TEXT_MODELS <= 1 else 1
    text_models = [_fit(text_and_hand, np.concatenate([rows, np.ones(len(hand_labelled), bool)]),
                        metadata, reasons=i == 0,
                        share=1.0 if i == 0 else MEMBER_ROUNDS_SHARE)
                   for i, rows in enumerate(
                       sample_slices(len(text_rows), sample, count, sample_seed))]
    text_model = text_models[0].with_bag([model.keep_stages for model in text_models[1:]])
    html_fit = sample_mask(len(html_rows), html_sample, sample_seed)
    if not with_html or len(set(html_rows.labels[html_fit] == BODY)) < 2:
        # No corpora (or too few HTML rows to learn from): the text model reads HTML too.
        return text_model
    return text_model.with_html(_fit(html_rows, html_fit, metadata))


def _fit(rows: Rows, fit_mask: np.ndarray, metadata: dict, reasons: bool = True,
         share: float = 1.0) -> LineModel:
    """Fit on ``rows[fit_mask]``, with ``share`` of the keep rounds at a rate raised
    to match."""
    return LineModel.fit(rows.features, rows.labels, rows.pages, rows.weights,
                         folds=rows.groups % 2, fit_mask=fit_mask, metadata=metadata,
                         tokens=rows.tokens, groups=rows.groups, ancestors=rows.ancestors,
                         keep_iter=max(1, round(KEEP_ITERATIONS * share)),
                         reason_iter=REASON_ITERATIONS,
                         keep_learning_rate=KEEP_LEARNING_RATE / share,
                         reason_learning_rate=REASON_LEARNING_RATE, reasons=reasons)


#: The hand-labelled seed pages shipped with the package, added to a user's own.
SHIPPED_SEEDS = Path(str(importlib.resources.files("cleaner") / "seeds"))


def main(argv: list[str] | None = None, prog: str = "python -m cleaner.training.train") -> int:
    global KEEP_ITERATIONS, REASON_ITERATIONS
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(prog=prog, description=__doc__, allow_abbrev=False)
    parser.add_argument("--data", default=None,
                        help="folder of gold-text corpora (default: none; train on labelled "
                             "pages only)")
    parser.add_argument("--labelled", action="append", default=[], metavar="DIR",
                        help="folder searched for *.labels.tsv pages, added to the shipped "
                             "seed pages (repeatable)")
    parser.add_argument("-o", "--output", "--model", dest="model", required=True,
                        metavar="MODEL", help="model file to write")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace MODEL if it exists (the shipped model included)")
    parser.add_argument("--card", default=None,
                        help="model card to write (default: MODEL_CARD.md beside the shipped "
                             "model, else MODEL.card.md)")
    parser.add_argument("--keep-iterations", type=int, default=KEEP_ITERATIONS,
                        help="boosting rounds of the keep model (default: %(default)s)")
    parser.add_argument("--reason-iterations", type=int, default=REASON_ITERATIONS,
                        help="boosting rounds of the reason model (default: %(default)s)")
    parser.add_argument("--sample-seed", type=int, default=0, metavar="N",
                        help="draw the fixed sample of corpus rows with seed N (default: "
                             "%(default)s): a refit that differs only in it measures how far "
                             "the figures move by the draw alone")
    parser.add_argument("--without-validation", action="store_true",
                        help="leave the validation pages out, to choose settings on them "
                             "(`python -m cleaner.training.evaluate --split validation`)")
    args = parser.parse_args(argv)
    model_path = Path(args.model)
    if model_path.exists() and not args.overwrite:
        parser.error(f"{model_path} exists; --overwrite replaces it "
                     "(training writes a new model file by default)")
    if not 0 <= args.sample_seed < 2**32:
        parser.error(f"--sample-seed {args.sample_seed}: a seed is from 0 to 2**32 - 1")
    for folder in args.labelled:
        if not Path(folder).is_dir():
            parser.error(f"{folder}: folder of labelled pages not found")

    started = datetime.datetime.now(datetime.timezone.utc)
    clock = time.monotonic()
    if args.data:
        print(f"reading corpora under {args.data}", file=sys.stderr)
        corpus = corpus_training_rows(args.data)
        if args.without_validation:
            corpus = without_validation(corpus, args.data)
    else:
        corpus = dataset.Rows.empty()
    hand_files = _unique(dataset.labelled_files(SHIPPED_SEEDS)
                         + [path for folder in args.labelled
                            for path in dataset.labelled_files(folder)])
    hand = hand_labelled_training_rows(hand_files, int(corpus.groups.max(initial=-1)) + 1)
    print(f"training on {len(corpus)} corpus rows ({CORPUS_SAMPLE:.0%} used; of the HTML "
          f"rendering's, {HTML_CORPUS_SAMPLE:.0%}) and {len(hand)} "
          f"rows of {len(hand_files)} hand-labelled pages", file=sys.stderr)
    if not args.data:
        print(f"no corpora (--data): the model sees only these {len(hand_files)} pages, "
              "far less than the shipped model saw; expect it to be weaker on other sites",
              file=sys.stderr)
    metadata = {
        "trained": started.strftime("%Y-%m-%d"),
        "data": str(args.data), "labelled": [str(p) for p in hand_files],
        "corpus_rows": int(len(corpus)), "hand_labelled_rows": int(len(hand)),
        "hand_labelled_weight": HAND_LABELLED_WEIGHT, "corpus_sample": CORPUS_SAMPLE,
        "html_corpus_sample": HTML_CORPUS_SAMPLE, "sample_seed": args.sample_seed,
        "text_models": TEXT_MODELS,
        "member_rounds_share": MEMBER_ROUNDS_SHARE,
        "max_leaf_nodes": MAX_LEAF_NODES,
        "keep_iterations": args.keep_iterations, "reason_iterations": args.reason_iterations,
        "keep_learning_rate": KEEP_LEARNING_RATE, "reason_learning_rate": REASON_LEARNING_RATE,
        "sklearn": sklearn.__version__,
        "command": shlex.join([*prog.split(), *argv]),
        "without_validation": bool(args.without_validation),
    }
    print("fitting the model (the longest phase)", file=sys.stderr)
    # train() reads the module's settings; the options set them for this run.
    KEEP_ITERATIONS, REASON_ITERATIONS = args.keep_iterations, args.reason_iterations
    model = train(corpus, hand, metadata, sample_seed=args.sample_seed)
    model_path.parent.mkdir(parents=True, exist_ok=True)
    model.save(model_path)
    print(f"wrote {model_path} ({time.monotonic() - clock:.0f} s)", file=sys.stderr)
    from cleaner.training.card import card_path, write_card

    card = Path(args.card) if args.card else card_path(model_path)
    write_card(card, model, args.data)
    if args.data and args.without_validation:
        # A model for choosing settings: its figures come from the validation pages, and
        # it shows none of the held-out ones, so that no choice is made on them.
        print("no held-out check for a model trained --without-validation; score it with "
              f"`python -m cleaner.training.evaluate --data {args.data} --model {model_path} "
              "--split validation`", file=sys.stderr)
    elif args.data:
        from cleaner.training.card import update_metrics

        print(f"quick held-out check on up to {QUICK_PAGES} pages per corpus", file=sys.stderr)
        report = quick_held_out_report(model, args.data)
        update_metrics(card, report)
        print(report, file=sys.stderr)
    print(f"wrote {card}", file=sys.stderr)
    return 0


#: Held-out pages per corpus that the quick check after training reads.
QUICK_PAGES = 30


def quick_held_out_report(model: LineModel, data_dir: str | Path,
                          pages_per_corpus: int = QUICK_PAGES) -> str:
    """A first held-out figure for the card, in a minute: shingle F1 of HTML and text mode
    (html-text rendering) on the first held-out pages of each corpus. ``make eval`` gives
    the full report (every held-out page, other systems, leave-one-out)."""
    from cleaner.api import Cleaner
    from cleaner.decode import decode_bytes
    from cleaner.training.metric import score_pages
    from cleaner.training.render import render_html_text

    html_mode, text_mode = Cleaner(model, input_format="html"), Cleaner(model, input_format="text")
    pairs: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for page in read_all(data_dir):
        chosen = pairs.setdefault(page.corpus, {"html": [], "text": []})
        if not page.held_out or len(chosen["html"]) >= pages_per_corpus:
            continue
        html = decode_bytes(page.html_bytes())
        chosen["html"].append((html_mode.clean(html), page.body))
        chosen["text"].append((text_mode.clean(render_html_text(html)), page.body))
    rows = [f"$ quick held-out check after training ({datetime.date.today()}; full report: "
            "make eval)", f"{'corpus':<14} {'pages':>5} {'HTML F1':>8} {'text F1':>8}"]
    for corpus, modes in sorted(pairs.items()):
        if modes["html"]:
            html_f1, text_f1 = (score_pages(modes[mode]).f1 for mode in ("html", "text"))
            rows.append(f"{corpus:<14} {len(modes['html']):>5} {html_f1:>8.3f} {text_f1:>8.3f}")
    return "\n".join(rows)


def _unique(paths: list[Path]) -> list[Path]:
    """Paths without repeats (in a checkout the seeds folder is reached two ways)."""
    seen: set[Path] = set()
    return [path for path in paths
            if path.resolve() not in seen and not seen.add(path.resolve())]  # type: ignore


if __name__ == "__main__":
    sys.exit(main())
