"""Rejoin the pieces of a paragraph that a scraper split over several lines.

Text browsers (``lynx -dump``, ``w3m -dump``) hard-wrap every paragraph at a
fixed width, and scrapers that save one line per text node break a sentence
at every link or bold word. A line model reads each piece on its own: half
a sentence is short, ends mid-sentence and looks like a menu item. So text
pages are classified by paragraph: lines are joined back where the text
shows they were one, the joined lines are labelled, and every piece takes
its paragraph's label. Two cues, each cheap and language-independent:

- hard wrap: the page's lines stop at one column, and a line ends there
  only because the next word would not have fitted (greedy wrapping);
- a broken sentence: a line that does not end a sentence, followed by one
  that opens with a lower-case letter or closing punctuation, on pages
  where that happens often enough to be the scraper's habit (a stray
  lower-case menu item does not make a page of text nodes); on pages where
  it is frequent, a short piece between two such joints (a link's text that
  opens in upper case) joins both sides.
"""

from __future__ import annotations

import numpy as np
import regex

from cleaner.page import Page

#: Narrowest and widest wrap columns recognised (terminals use 72 to 80; some 100+).
MIN_WRAP, MAX_WRAP = 40, 160
#: In a wrapped page, at least this share of the lines longer than half the column end
#: within ``WRAP_BAND`` of it.
WRAP_SHARE = 0.5
WRAP_BAND = 15
#: Sentences are rejoined only on pages where at least this share of lines look broken.
BROKEN_SHARE = 0.03
#: On pages where at least this share of lines look broken (one line per text node), a
#: piece of at most ``BRIDGE_WORDS`` words between two broken joints is joined as well.
BRIDGE_SHARE = 0.1
BRIDGE_WORDS = 6
#: Characters that only continue what came before (a line may also open in lower case).
_CLOSING = frozenset(",.;:!?)]}»”’%")
_ENDS_SENTENCE = regex.compile(r"[\p{Sentence_Terminal}:]\W*$")


def wrap_width(lines: list[str]) -> int | None:
    """The column the page was hard-wrapped at, or None when it was not.

    Greedy wrapping never leaves a line with a space in it longer than the
    column, and fills most lines of a paragraph to within a word of it. Menus
    and other short lines say nothing either way, so only lines longer than
    half the column are counted."""
    lengths = np.array([len(line.rstrip()) for line in lines if " " in line.strip()])
    if len(lengths) < 5:
        return None
    width = int(np.quantile(lengths, 0.99, method="higher"))
    if not MIN_WRAP <= width <= MAX_WRAP:
        return None
    long = lengths[lengths > width / 2]
    near = long > width - WRAP_BAND
    return width if near.sum() >= 5 and near.mean() >= WRAP_SHARE else None


def joins(lines: list[str]) -> np.ndarray:
    """For each line, whether it continues the paragraph of the line before it."""
    stripped = [line.strip() for line in lines]
    joined = np.zeros(len(lines), dtype=bool)
    width = wrap_width(lines)
    if width is not None:
        for i in range(1, len(lines)):
            previous = len(lines[i - 1].rstrip())
            if stripped[i] and stripped[i - 1] and previous <= width:
                joined[i] = previous + 1 + len(stripped[i].split(maxsplit=1)[0]) > width
    broken = [i for i in range(1, len(lines)) if stripped[i] and stripped[i - 1]
              and (stripped[i][0].islower() or stripped[i][0] in _CLOSING)
              and not _ENDS_SENTENCE.search(stripped[i - 1])]
    nonblank = sum(map(bool, stripped))
    if len(broken) >= max(3, BROKEN_SHARE * nonblank):
        joined[broken] = True  # else a stray lower-case line is a menu item
    if len(broken) >= max(3, BRIDGE_SHARE * nonblank):
        # A short piece between two broken joints that is not one itself (a link's text,
        # "Reuters"), belongs to the sentence on both sides of it.
        for i in broken:
            piece = i - 1
            if (piece >= 1 and not joined[piece] and stripped[piece - 1]
                    and len(stripped[piece].split()) <= BRIDGE_WORDS
                    and not _ENDS_SENTENCE.search(stripped[piece - 1])):
                joined[piece] = True
    return joined


def reflow(page: Page) -> tuple[Page, np.ndarray]:
    """The page with split paragraphs joined into one line each, and for every line of
    the page the index of the line it became part of. HTML pages (whose lines are
    blocks) and text pages with nothing to join come back as they are."""
    continued = joins(page.lines) if page.kind == "text" else np.zeros(0, bool)
    if not continued.any():
        return page, np.arange(len(page.lines))
    owner = np.cumsum(~continued) - 1
    merged: list[str] = []
    for line, joins_previous in zip(page.lines, continued, strict=True):
        if joins_previous:
            merged[-1] = f"{merged[-1].rstrip()} {line.strip()}"
        else:
            merged.append(line)
    return Page(merged, "text"), owner


__all__ = ["reflow", "joins", "wrap_width"]
