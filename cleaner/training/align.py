"""Label rendered lines by aligning them to a gold text.

A line is gold where most of its tokens are covered by 4-token shingles
that also occur in the gold. Shingles run across line boundaries, so a
short subheading inside the article is covered by the text around it while
the same word alone in a menu is not. Gold shingles are a multiset and are
handed out to the longest matching runs first, so the article claims its
text before a teaser or a <title> that repeats a piece of it.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from cleaner.training.metric import SHINGLE, tokens

#: A line is labelled with a gold class when at least this share of its tokens aligns.
MIN_COVERAGE = 0.5


def _casefolded_tokens(text: str) -> list[str]:
    return [t.casefold() for t in tokens(text)]


def line_coverage(lines: list[str], gold: str) -> np.ndarray:
    """Share of each line's tokens covered by gold shingles (NaN for lines without tokens)."""
    line_tokens = [_casefolded_tokens(line) for line in lines]
    flat = [t for words in line_tokens for t in words]
    owner = np.repeat(np.arange(len(lines)), [len(w) for w in line_tokens])
    covered = np.zeros(len(flat), dtype=bool)
    gold_tokens = _casefolded_tokens(gold)
    if flat and gold_tokens:
        n = min(SHINGLE, len(gold_tokens))
        available = Counter(tuple(gold_tokens[i:i + n]) for i in range(len(gold_tokens) - n + 1))
        page_shingles = [tuple(flat[i:i + n]) for i in range(len(flat) - n + 1)]
        matches = np.array([s in available for s in page_shingles], dtype=bool)
        for start, end in sorted(_runs(matches), key=lambda run: (run[0] - run[1], run[0])):
            for i in range(start, end):
                shingle = page_shingles[i]
                if available[shingle] > 0:
                    available[shingle] -= 1
                    covered[i:i + n] = True
    counts = np.bincount(owner, minlength=len(lines)).astype(float)
    hits = np.bincount(owner, weights=covered, minlength=len(lines))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, hits / np.maximum(counts, 1), np.nan)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Half-open (start, end) index ranges of the True runs of a boolean array."""
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def align_lines_to_gold(lines: list[str], gold: dict[str, str], fallback: str = "nav",
                        blank: str = "blank") -> list[str]:
    """One label per line: the gold class covering most of it, else ``fallback``.

    ``gold`` maps a label (``body``, ``title``, ``related``...) to its gold text.
    Lines without any word token are ``blank`` when empty, else ``fallback``.
    """
    labels = [fallback] * len(lines)
    best = np.zeros(len(lines))
    for label, text in gold.items():
        if not text.strip():
            continue
        coverage = np.nan_to_num(line_coverage(lines, text))
        for i in np.flatnonzero((coverage >= MIN_COVERAGE) & (coverage > best)):
            labels[i], best[i] = label, coverage[i]
    for i, line in enumerate(lines):
        if not line.strip():
            labels[i] = blank
    return labels
