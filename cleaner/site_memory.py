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

from cleaner.labels import BLANK, BODY, NAV, Line

#: Lines kept at p(body) at or above this are never dropped for recurring, and name
#: the article a page holds (chosen on the validation split, rule 89).
REPEAT_GATE = 0.75


def fold(text: str) -> str:
    """A line as compared across pages: whitespace collapsed, case folded."""
    return " ".join(text.split()).casefold()


def _article_key(lines: list[Line], folded: list[str]) -> str:
    """What copies of one article share: its longest sure body line, else its longest line."""
    sure = [text for line, text in zip(lines, folded, strict=True)
            if line.label == BODY and line.probability >= REPEAT_GATE]
    return max(sure or folded, key=len, default="")


def template_lines(pages: Sequence[list[Line]], sites: Sequence[str | None],
                   kinds: Sequence[str]) -> list[list[bool]]:
    """Per page and line, whether it is a body line to drop as site template: a text
    page's line kept below :data:`REPEAT_GATE` whose folded text appears on a page of
    another article of the same site. Pages whose site is None are left alone."""
    if not len(pages) == len(sites) == len(kinds):
        raise ValueError(f"{len(pages)} pages, {len(sites)} sites, {len(kinds)} kinds: "
                         "one site and one kind per page")
    # Only text pages with a site take part; each line is folded once.
    groups = [site if kind == "text" else None for site, kind in zip(sites, kinds, strict=True)]
    folded = [[fold(line.text) for line in lines] if group is not None else []
              for lines, group in zip(pages, groups, strict=True)]
    keys = [_article_key(lines, texts) if group is not None else ""
            for lines, group, texts in zip(pages, groups, folded, strict=True)]
    articles: dict[tuple[str, str], set[str]] = defaultdict(set)
    for lines, group, texts, key in zip(pages, groups, folded, keys, strict=True):
        if group is None:
            continue
        for text in {text for line, text in zip(lines, texts, strict=True)
                     if line.label != BLANK}:
            articles[group, text].add(key)
    return [[line.label == BODY and line.probability < REPEAT_GATE
             and bool(articles[group, text] - {key})
             for line, text in zip(lines, texts, strict=True)]
            if group is not None else [False] * len(lines)
            for lines, group, texts, key in zip(pages, groups, folded, keys, strict=True)]


def drop_template(pages: Sequence[list[Line]], sites: Sequence[str | None],
                  kinds: Sequence[str]) -> list[list[Line]]:
    """The pages' lines with those :func:`template_lines` finds labelled ``nav``."""
    return [[Line(line.text, NAV, 1.0 - line.probability) if drop else line
             for line, drop in zip(lines, flags, strict=True)]
            for lines, flags in zip(pages, template_lines(pages, sites, kinds), strict=True)]
