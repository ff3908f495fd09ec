"""Site template across the pages of a batch: a line kept as body that recurs on
another page of the same site is menu, footer or promo, not article.

A site's template repeats from page to page while its articles do not. The model
reads one page at a time, so it cannot see that; given the pages of a batch and
their sites, :func:`template_lines` finds the lines that recur. Only unsure lines
(p(body) below :data:`REPEAT_GATE`) and only text pages: in HTML pages the element
tree already gives template away (the model card's rule 89: on the validation split
text mode gained, HTML mode did not).

Copies of one article (URL variants, AMP pages) would make every one of its lines
recur, so a line counts the distinct articles it appears on, an article known by
its longest sure body line (else its longest line).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from cleaner.labels import BLANK, BODY, Line

#: Lines kept at p(body) at or above this are never dropped for recurring, and name
#: the article a page holds (chosen on the validation split, rule 89).
REPEAT_GATE = 0.75


def fold(text: str) -> str:
    """A line as compared across pages: whitespace collapsed, case folded."""
    return " ".join(text.split()).casefold()


def _article_key(lines: list[Line]) -> str:
    """What copies of one article share: its longest sure body line, else its longest line."""
    sure = [fold(line.text) for line in lines
            if line.label == BODY and line.probability >= REPEAT_GATE]
    candidates = sure or [fold(line.text) for line in lines if line.label != BLANK]
    return max(candidates, key=len, default="")


def template_lines(pages: Sequence[list[Line]], sites: Sequence[str | None],
                   kinds: Sequence[str]) -> list[list[bool]]:
    """Per page and line, whether it is a body line to drop as site template: a text
    page's line kept below :data:`REPEAT_GATE` whose folded text appears on a page of
    another article of the same site. Pages whose site is None are left alone."""
    if not len(pages) == len(sites) == len(kinds):
        raise ValueError(f"{len(pages)} pages, {len(sites)} sites, {len(kinds)} kinds: "
                         "one site and one kind per page")
    articles: dict[tuple[str, str], set[str]] = defaultdict(set)
    keys = [_article_key(lines) if site is not None and kind == "text" else ""
            for lines, site, kind in zip(pages, sites, kinds, strict=True)]
    for lines, site, kind, key in zip(pages, sites, kinds, keys, strict=True):
        if site is None or kind != "text":
            continue
        for text in {fold(line.text) for line in lines if line.label != BLANK}:
            articles[site, text].add(key)
    return [[site is not None and kind == "text" and line.label == BODY
             and line.probability < REPEAT_GATE
             and len(articles.get((site, fold(line.text)), set()) - {key}) > 0
             for line in lines]
            for lines, site, kind, key in zip(pages, sites, kinds, keys, strict=True)]
