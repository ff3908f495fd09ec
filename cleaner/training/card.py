"""The model card: what a model was trained on, when, how, and how well it does."""

from __future__ import annotations

import platform
from pathlib import Path

import sklearn

from cleaner.lexicon import MIN_PAGES, WORDS_PER_LINE
from cleaner.model import DEFAULT_MODEL_PATH, LineModel
from cleaner.training.dataset import CHROME_SHARE


def card_path(model_path: str | Path) -> Path:
    """The card of a model: ``MODEL_CARD.md`` for the shipped model, ``MODEL.card.md``
    beside any other (in ``models/`` too), so that training, evaluating or timing one
    model never rewrites another model's card."""
    model_path = Path(model_path)
    if model_path.resolve() == DEFAULT_MODEL_PATH.resolve():
        return model_path.with_name("MODEL_CARD.md")
    return model_path.with_name(model_path.name + ".card.md")


def write_card(path: str | Path, model: LineModel, data_dir: str | Path) -> None:
    """The card without metrics; ``make eval`` adds them (:func:`update_metrics`)."""
    meta = model.metadata
    lines = [
        "# cleaner default model",
        "",
        "- File: `cleaner.npz` (tree arrays and a JSON header; loads without running code, "
        "predicts without scikit-learn)",
        f"- Trained: {meta.get('trained')} with scikit-learn {sklearn.__version__}, "
        f"Python {platform.python_version()}",
        f"- Command: `{meta.get('command', 'make train')}`",
        f"- Labels it predicts: {', '.join(model.labels)} (plus `blank`, by rule)",
        "",
        "## Data",
        "",
        f"- Corpora under `{data_dir}` (training split only; 20% of each corpus, chosen by a "
        "hash of `corpus/id`, is held out): "
        f"{meta.get('corpus_rows')} labelled lines, "
        + ("all used. " if meta.get("corpus_sample") == 1.0
           else f"of which a fixed {meta.get('corpus_sample')} sample is used"
           + (f" ({meta['html_corpus_sample']} of the HTML rendering's lines, which the "
              "HTML model reads). " if "html_corpus_sample" in meta else ". "))
        + "Each page is seen four ways: its HTML blocks with structure features, the same "
        "blocks as plain text, html-text's and inscriptis' plain-text renderings; lines are "
        "labelled by aligning them to the gold text (l3s-gn1's related, supplemental and "
        "comment segments and dragnet's reader comments are their own classes, not body). "
        "Chrome lines that align to no gold class are named by the class/id names around "
        "their HTML block where those say what they are (comments, related, promo, legal, "
        "meta), else `nav`; text renderings take the kind of the block with the same text. "
        f"{CHROME_SHARE:.0%} of the pages are seen a fifth time: one of "
        "their text renderings with synthetic news chrome after the body (related stories "
        "made of other training pages' headlines and text, reader-comment threads whose "
        "comments are other pages' prose, promos, app prompts, comment prompts, "
        "syndication notes; tickers before the page), labelled by kind.",
        f"- Hand-labelled pages ({meta.get('hand_labelled_rows')} lines, weight "
        f"{meta.get('hand_labelled_weight')} each): "
        + ", ".join(f"`{Path(p).name}`" for p in meta.get("labelled", [])),
        "",
        "## Model",
        "",
        ("- Two models of the same recipe: one reads text pages (fitted on the corpora's "
         "text renderings and the hand-labelled pages), one reads HTML pages (fitted on the "
         "corpora's HTML renderings); trees shared by both formats traded one against the "
         "other." if model.html_model is not None else
         "- One model reads both text and HTML pages."),
        *([f"- The text pages' p(body) is the mean over {1 + len(model.bag)} pairs of keep "
           "stages fitted on disjoint slices of the text rows (each with its own word cues; "
           f"trees per stage: {model.keep_estimator.n_trees} in the first pair, "
           + ", ".join(str(member.keep.n_trees) for member in model.bag)
           + " in the rest, fitted at a rate raised to match); the first pair's model "
           "gives the reasons."] if model.bag else []),
        "- Keep model: gradient-boosted trees (body vs drop), "
        f"{meta.get('keep_iterations')} rounds"
        + (f" of trees of up to {meta['max_leaf_nodes']} leaves" if "max_leaf_nodes" in meta
           else "")
        + ", in two stages: the second also reads the first stage's p(body) of the neighbouring "
        "lines and of the whole page, and on HTML pages that of the other blocks under the "
        "same parent, grandparent and great-grandparent element (out-of-fold during "
        "training).",
        f"- Reason model: gradient-boosted trees over the dropped labels, "
        f"{meta.get('reason_iterations')} rounds.",
        f"- Word cues (`cleaner/lexicon.py`): {len(model.lexicon)} words"
        + (f" ({len(model.html_model.lexicon)} for HTML pages)"
           if model.html_model is not None else "")
        + f", each seen on at "
        f"least {MIN_PAGES} training pages, with how often the lines holding them were "
        "body or each kind of chrome (smoothed log-odds, learned from the training rows; "
        "out-of-fold while the trees are fitted). Every stage reads, per line, the mean over "
        f"its first {WORDS_PER_LINE} words, the share of its words that are known, and the "
        "same for the lines around it.",
        f"- A line is body when p(body) >= {model.body_threshold} on text pages, "
        f">= {model.html_body_threshold} on HTML pages.",
    ]
    path = Path(path)
    kept = _section(path.read_text(encoding="utf-8"), ABLATION_HEADING) if path.exists() else ""
    path.write_text("\n".join(lines) + "\n" + (f"\n{kept}" if kept else ""), encoding="utf-8")


#: The ablation table (``python -m cleaner.training.ablation --card``); it describes the
#: recipe rather than one model, so a retraining keeps it.
ABLATION_HEADING = "## What each idea gives (validation split)"


def _section(text: str, heading: str) -> str:
    """The section of a card under ``heading``, up to the next section, or ''."""
    if heading not in text:
        return ""
    rest = text.split(heading, 1)[1]
    end = rest.find("\n## ")
    return heading + (rest if end < 0 else rest[:end + 1])


def update_section(path: str | Path, heading: str, body: str) -> None:
    """Put ``body`` under ``heading``, before the metrics, replacing what was there."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    old = _section(text, heading)
    new = f"{heading}\n\n{body.strip()}\n"
    if old:
        before, after = text.split(old, 1)
        text = before + new + (f"\n{after}" if after else "")  # a blank line before the next
    elif METRICS_HEADING in text:
        text = text.replace(METRICS_HEADING, f"{new}\n{METRICS_HEADING}")
    else:
        text = text.rstrip("\n") + f"\n\n{new}"
    path.write_text(text, encoding="utf-8")


#: Where ``python -m cleaner.training.ablation --card`` writes its table in the ablation
#: section: between these markers, so that the paragraphs written around it stay.
TABLE_START = "<!-- ablation table: python -m cleaner.training.ablation --card -->"
TABLE_END = "<!-- end of the ablation table -->"


def update_ablation_table(path: str | Path, body: str) -> None:
    """Replace the generated ablation table and nothing else: the section also holds the
    written record of every idea tried, which replacing the whole section would lose."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    block = f"{TABLE_START}\n{body.strip()}\n{TABLE_END}"
    before, start, rest = text.partition(TABLE_START)
    if start and TABLE_END in rest:
        text = before + block + rest.split(TABLE_END, 1)[1]
    elif ABLATION_HEADING in text:
        text = text.replace(ABLATION_HEADING, f"{ABLATION_HEADING}\n\n{block}", 1)
    else:
        update_section(path, ABLATION_HEADING, block)
        return
    path.write_text(text, encoding="utf-8")


METRICS_HEADING = "## Metrics (`make eval`)"


def update_metrics(path: str | Path, report: str) -> None:
    """Replace the card's metrics section with a fresh ``make eval`` report."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    head = text.split(METRICS_HEADING)[0].rstrip("\n")
    path.write_text(f"{head}\n\n{METRICS_HEADING}\n\n```\n{report.strip()}\n```\n",
                    encoding="utf-8")
