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

Lines are compared by a stable 64-bit hash of their site and folded text, so that
the command line can survey pages in worker processes and keep only numbers: a
:func:`trace` per page, :func:`recurring` over the traces, :func:`template_flags`
per page; a :data:`Spread` sums up a part of the batch, for surveys run as many
tasks (datatrove).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np

from cleaner.labels import BLANK, BODY, NAV, Line

#: Lines kept at p(body) at or above this are never dropped for recurring, and name
#: the article a page holds (chosen on the validation split, rule 89).
REPEAT_GATE = 0.75

#: A page's part in the survey: the hashes of its non-blank lines, its article's hash.
Trace = tuple[np.ndarray, int]

#: What a survey of some pages comes to: the sorted hashes of their distinct lines and,
#: per line, the smallest and the largest hash of the articles it appears on. Spreads
#: of parts of a batch merge into the batch's (:func:`merge_spreads`), so that a survey
#: can run in many tasks and keep one row per distinct line of each.
Spread = tuple[np.ndarray, np.ndarray, np.ndarray]


def fold(text: str) -> str:
    """A line as compared across pages: whitespace collapsed, case folded."""
    return " ".join(text.split()).casefold()


def _hash(text: str) -> int:
    """The same in every process (Python's own ``hash`` of a str is salted per process)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"),
                                          digest_size=8).digest(), "little")


def _line_hashes(folded: list[str], site: str) -> np.ndarray:
    return np.array([_hash(f"{site}\0{text}") for text in folded], dtype=np.uint64)


def trace(lines: list[Line], site: str) -> Trace:
    """What the survey keeps of a labelled text page of ``site``."""
    folded = [fold(line.text) for line in lines]
    sure = [text for line, text in zip(lines, folded, strict=True)
            if line.label == BODY and line.probability >= REPEAT_GATE]
    article = max(sure or folded, key=len, default="")
    hashes = _line_hashes([text for line, text in zip(lines, folded, strict=True)
                           if line.label != BLANK], site)
    return np.unique(hashes), _hash(article)


def recurring(traces: Iterable[Trace]) -> np.ndarray:
    """The sorted hashes of the lines that appear on two or more distinct articles."""
    return recurring_in(spread(traces))


def spread(traces: Iterable[Trace]) -> Spread:
    """The :data:`Spread` of the lines of these pages."""
    traces = list(traces)
    hashes = np.concatenate([page for page, _ in traces] or [np.zeros(0, np.uint64)])
    articles = np.repeat(np.array([article for _, article in traces], dtype=np.uint64),
                         [len(page) for page, _ in traces])
    hashes, articles = _by_line(hashes, articles)
    return _grouped(hashes, articles, articles)


def merge_spreads(spreads: Iterable[Spread]) -> Spread:
    """One :data:`Spread` of the pages that several spreads were taken over."""
    spreads = list(spreads)
    hashes, lowest, highest = _by_line(*(np.concatenate([part[column] for part in spreads]
                                                        or [np.zeros(0, np.uint64)])
                                         for column in range(3)))
    return _grouped(hashes, lowest, highest)


def recurring_in(lines: Spread) -> np.ndarray:
    """The sorted hashes of a spread's lines that appear on two or more articles."""
    hashes, lowest, highest = lines
    return hashes[lowest != highest]


def _by_line(hashes: np.ndarray, *columns: np.ndarray) -> tuple[np.ndarray, ...]:
    """The arrays in the order of ``hashes`` (the caller rebinds its names to them, so
    the unsorted ones are freed: a survey's rows are the largest arrays it holds)."""
    order = np.argsort(hashes, kind="stable")
    return (hashes[order], *(column[order] for column in columns))


def _grouped(hashes: np.ndarray, lowest: np.ndarray, highest: np.ndarray) -> Spread:
    """Rows sorted by line hash, grouped by line: the smallest and largest article. (No
    np.unique over (line, article) pairs: it took 1.6 times the memory, 7 times the time.)"""
    if not hashes.size:
        return hashes, lowest, highest
    starts = np.flatnonzero(np.concatenate([[True], hashes[1:] != hashes[:-1]]))
    return (hashes[starts], np.minimum.reduceat(lowest, starts),
            np.maximum.reduceat(highest, starts))


def template_flags(lines: list[Line], site: str, template: np.ndarray) -> list[bool]:
    """Per line of a text page of ``site``: an unsure body line among the ``template``
    hashes (:func:`recurring`), so one to drop. Only those unsure lines are hashed."""
    flags = [False] * len(lines)
    unsure = [number for number, line in enumerate(lines)
              if line.label == BODY and line.probability < REPEAT_GATE]
    if not unsure or not template.size:
        return flags
    hashes = _line_hashes([fold(lines[number].text) for number in unsure], site)
    # searchsorted, not np.isin: for a short page against a long template np.isin
    # compares the page with each template hash in turn (45 s over the corpora).
    found = template[np.searchsorted(template, hashes).clip(max=len(template) - 1)] == hashes
    for number, hit in zip(unsure, found.tolist(), strict=True):
        flags[number] = hit
    return flags


def takes_part(kind: str, site: str | None) -> bool:
    """Whether a page takes part in site memory, as survey and drop: a text page whose
    site is known (in HTML the element tree already gives template away, rule 89)."""
    return site is not None and kind == "text"


def template_lines(pages: Sequence[list[Line]], sites: Sequence[str | None],
                   kinds: Sequence[str]) -> list[list[bool]]:
    """Per page and line, whether it is a body line to drop as site template: a text
    page's line kept below :data:`REPEAT_GATE` whose folded text appears on a page of
    another article of the same site. Pages whose site is None are left alone."""
    if not len(pages) == len(sites) == len(kinds):
        raise ValueError(f"{len(pages)} pages, {len(sites)} sites, {len(kinds)} kinds: "
                         "one site and one kind per page")
    taking_part = [takes_part(kind, site) for site, kind in zip(sites, kinds, strict=True)]
    template = recurring(trace(lines, site) for lines, site, part
                         in zip(pages, sites, taking_part, strict=True) if part)
    return [template_flags(lines, site, template) if part else [False] * len(lines)
            for lines, site, part in zip(pages, sites, taking_part, strict=True)]


def drop(lines: list[Line], flags: list[bool]) -> list[Line]:
    """The lines with those flagged relabelled ``nav`` (their p(body) kept as 1 − p)."""
    return [Line(line.text, NAV, 1.0 - line.probability) if flag else line
            for line, flag in zip(lines, flags, strict=True)]


def drop_recurring(lines: list[Line], kind: str, site: str | None,
                   template: np.ndarray | None) -> list[Line]:
    """A labelled page with its unsure body lines among the ``template`` hashes
    (:func:`recurring`) relabelled ``nav``, if it takes part (:func:`takes_part`) and
    there is a template: the second pass of the command line, Spark and datatrove."""
    if template is None or not takes_part(kind, site):
        return lines
    return drop(lines, template_flags(lines, site, template))


def drop_template(pages: Sequence[list[Line]], sites: Sequence[str | None],
                  kinds: Sequence[str]) -> list[list[Line]]:
    """The pages' lines with those :func:`template_lines` finds labelled ``nav``."""
    return [drop(lines, flags)
            for lines, flags in zip(pages, template_lines(pages, sites, kinds), strict=True)]
