"""Line-labelled training rows from gold-text corpora and hand-labelled pages.

Each corpus page is seen four ways: as HTML blocks with structure features
(HTML mode), and as plain text from three different renderers (text mode),
so that one model serves both inputs and no single scraper's habits are
learned. Every rendering is labelled by aligning its lines to the gold.
A share of the pages (``CHROME_SHARE``) is seen a fifth time: one of
their text renderings with synthetic news chrome around the body (see
``chrome.py``).

Lines that align to no gold class are page chrome. What kind of chrome the
corpus rarely says (l3s-gn1's segments and dragnet's comments do), so the
class and id names around an HTML block name it where they can (a block in a
``comments`` container is a comment, one in a ``related`` list a related
story...), and the text renderings take the kind of the block with the same
text.
"""

from __future__ import annotations

import multiprocessing
import random
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cleaner.decode import decode_bytes
from cleaner.features import FEATURE_NAMES, page_features, pages_ancestors
from cleaner.html_blocks import ANCESTOR_LEVELS, HINTS, STRUCTURE_FEATURES
from cleaner.labels import Line, read_labelled
from cleaner.lexicon import Tokens, line_tokens
from cleaner.page import Page, page_from_html
from cleaner.training.align import align_lines_to_gold
from cleaner.training.chrome import Story, add_chrome, story_of
from cleaner.training.corpus import GoldPage, page_digest
from cleaner.training.render import render_html_text, render_inscriptis

#: l3s-gn1 annotates more than the body; its classes map onto ours.
SEGMENT_LABELS = {"supplemental": "meta", "related": "related", "comments": "comments"}
#: Label of corpus lines that align to no gold class: page chrome.
FALLBACK_LABEL = "nav"


@dataclass
class Rows:
    """Feature rows with labels and weights; ``groups`` names the source page of each row
    (all its renderings) and ``pages`` the rendering, whose rows are consecutive;
    ``tokens`` are the rows' words, from which the model learns its word cues, and
    ``ancestors`` their block elements (HTML renderings; -1 elsewhere)."""

    features: np.ndarray
    labels: np.ndarray
    weights: np.ndarray
    groups: np.ndarray
    pages: np.ndarray
    tokens: Tokens
    ancestors: np.ndarray

    @classmethod
    def empty(cls) -> Rows:
        return cls(np.zeros((0, len(FEATURE_NAMES)), np.float32), np.array([], dtype=object),
                   np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64),
                   Tokens.empty(), np.zeros((0, ANCESTOR_LEVELS), dtype=np.int32))

    @classmethod
    def concat(cls, parts: Iterable[Rows]) -> Rows:
        parts = list(parts)
        if not parts:
            return cls.empty()
        return cls(np.vstack([p.features for p in parts]),
                   np.concatenate([p.labels for p in parts]),
                   np.concatenate([p.weights for p in parts]),
                   np.concatenate([p.groups for p in parts]),
                   np.concatenate([p.pages for p in parts]),
                   Tokens.concat([p.tokens for p in parts], [len(p) for p in parts]),
                   np.vstack([p.ancestors for p in parts]))

    def select(self, keep: np.ndarray) -> Rows:
        """The rows where ``keep`` is true, with their words."""
        return Rows(self.features[keep], self.labels[keep], self.weights[keep],
                    self.groups[keep], self.pages[keep], self.tokens.select(keep),
                    self.ancestors[keep])

    def __len__(self) -> int:
        return len(self.labels)


def gold_classes(page: GoldPage) -> dict[str, str]:
    gold = {"body": page.body}
    if page.title:
        gold["title"] = page.title
    for segment, label in SEGMENT_LABELS.items():
        fragments = page.segments.get(segment) or []
        if fragments:
            gold[label] = "\n".join(fragments)
    return gold


#: Renderings per page: the four of ``renderings`` and one with chrome added; rendering ids
#: are group * this + index.
RENDERINGS = 5
#: Kinds of chrome named by the class/id hints around a block, most telling first.
HINT_KINDS = (("hint_comment", "comments"), ("hint_related", "related"), ("hint_ad", "promo"),
              ("hint_legal", "legal"), ("hint_meta", "meta"), ("hint_share", "nav"))
#: Share of pages that get the rendering with synthetic chrome.
CHROME_SHARE = 0.5
#: How many other pages' stories a page may show as related articles.
MAX_RELATED = 5


def renderings(html: str) -> Iterator[Page]:
    """The four views of an HTML page that the model is trained on."""
    html_page = page_from_html(html)
    yield html_page
    yield Page(html_page.lines, "text")
    for render in (render_html_text, render_inscriptis):
        yield Page(render(html).split("\n"), "text")


def chrome_kinds(page: Page) -> dict[str, str]:
    """Block text -> the kind of chrome its class/id hints name, for an HTML page."""
    if page.structure is None:
        return {}
    columns = [(STRUCTURE_FEATURES.index(hint), kind) for hint, kind in HINT_KINDS
               if hint in HINTS]
    kinds: dict[str, str] = {}
    for line, row in zip(page.lines, page.structure, strict=True):
        kind = next((kind for column, kind in columns if row[column] > 0), None)
        if kind is not None:
            kinds.setdefault(" ".join(line.split()), kind)
    return kinds


def name_chrome(lines: list[str], labels: list[str], kinds: dict[str, str]) -> list[str]:
    """Give unaligned (fallback) lines the kind of chrome of the block with their text."""
    return [kinds.get(" ".join(line.split()), label) if label == FALLBACK_LABEL else label
            for line, label in zip(lines, labels, strict=True)]


def labelled_rows(page: Page, labels: list[str], weight: float, group: int,
                  rendering: int = 0) -> Rows:
    features, kept = page_features(page)
    return Rows(features, np.array([labels[i] for i in kept], dtype=object),
                np.full(len(kept), weight), np.full(len(kept), group, dtype=np.int64),
                np.full(len(kept), group * RENDERINGS + rendering, dtype=np.int64),
                line_tokens([page.lines[i] for i in kept]), pages_ancestors([page], [kept]))


def page_random(page: GoldPage) -> random.Random:
    """A random stream of its own for each page, so rows never depend on page order."""
    return random.Random(int.from_bytes(page_digest(page.corpus, page.page_id)[:8], "big"))


def corpus_page_rows(item: tuple[int, GoldPage, list[Story]]) -> Rows:
    group, gold_page, stories = item
    html = decode_bytes(gold_page.html_bytes())
    gold = gold_classes(gold_page)
    pages = list(renderings(html))
    kinds = chrome_kinds(pages[0])
    labels = [name_chrome(page.lines, align_lines_to_gold(page.lines, gold, FALLBACK_LABEL),
                          kinds) for page in pages]
    parts = [labelled_rows(page, page_labels, 1.0, group, rendering)
             for rendering, (page, page_labels) in enumerate(zip(pages, labels, strict=True))]
    rng = page_random(gold_page)
    if rng.random() < CHROME_SHARE:
        base = rng.choice((1, 2))  # one of the first two text renderings (as before)
        lines, chrome_labels = add_chrome(pages[base].lines, labels[base], stories, rng)
        parts.append(labelled_rows(Page(lines, "text"), chrome_labels, 1.0, group,
                                   len(pages)))
    return Rows.concat(parts)


def related_stories(pages: list[GoldPage]) -> list[list[Story]]:
    """For each page, a few other pages' stories (chosen by the page's own random stream)."""
    stories = [story_of(page.title, page.body) for page in pages]
    usable = [i for i, story in enumerate(stories) if story is not None]
    chosen = []
    for index, page in enumerate(pages):
        rng = page_random(page)
        others = [i for i in rng.sample(usable, min(len(usable), MAX_RELATED + 1))
                  if i != index][: rng.randint(1, MAX_RELATED)]
        chosen.append([stories[i] for i in others])
    return chosen


def corpus_rows(pages: list[GoldPage], first_group: int = 0, processes: int | None = None,
                progress: bool = False) -> Rows:
    """Rows of many corpus pages, built in parallel, in page order (deterministic)."""
    items = list(zip(range(first_group, first_group + len(pages)), pages,
                     related_stories(pages), strict=True))
    processes = processes or min(multiprocessing.cpu_count(), 8)
    if processes == 1:
        results = map(corpus_page_rows, items)
    else:
        pool = multiprocessing.get_context("fork").Pool(processes)
        results = pool.imap(corpus_page_rows, items, chunksize=8)
    if progress:
        from tqdm import tqdm

        results = tqdm(results, total=len(items), desc="pages", unit="page", leave=False,
                       disable=not sys.stderr.isatty())
    rows = Rows.concat(list(results))
    if processes != 1:
        pool.close()
        pool.join()
    return rows


def labelled_files(folder: str | Path) -> list[Path]:
    """Every ``*.labels.tsv`` below a folder, sorted."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: folder of labelled pages not found")
    return sorted(folder.rglob("*.labels.tsv"))


def hand_labelled_rows(lines: list[Line], weight: float, group: int) -> Rows:
    page = Page([line.text for line in lines], "text")
    return labelled_rows(page, [line.label for line in lines], weight, group)


def hand_labelled_pages(paths: Iterable[Path]) -> list[list[Line]]:
    return [read_labelled(path) for path in paths]
