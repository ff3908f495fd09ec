"""Learned word cues: how often lines holding a word were body or a kind of chrome.

Chrome speaks a small vocabulary that the shape of a line cannot show
("Related Articles", "Comments", "Download the app", "says:", "Reply").
Training counts, for every word seen on enough distinct pages, how often the
lines holding it were body or each kind of chrome; the model then reads, per
line, the mean of those smoothed log-odds over the line's first words, and
the same for its neighbours. Nothing is typed in: the words come from the
training pages, so retraining on other data learns other words. Words of a
language training rarely saw are unknown, which the columns say (missing
values and the share of known words), rather than guessing.

Words are lower-cased, digits read as 0, and hashed to 64 bits (in one
compiled pass over the batch, cleaner/_words.c, or with numpy where it is not
built: the same hashes), so the table is two numeric arrays in the model file;
a word is looked up among the few table entries that share its hash's top 16
bits.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import numpy as np

from cleaner.features import DIGIT, UPPER, WORD_CLASS, class_table, classify_codes

try:
    from cleaner import _words
except ImportError:  # built without a compiler: numpy_line_tokens does the same work
    _words = None
#: The compiled word hashing, or None (not built, or CLEANER_PREDICTOR=numpy, which
#: turns every compiled part off).
COMPILED = None if os.environ.get("CLEANER_PREDICTOR") == "numpy" else _words

#: The classes a word's counts are kept for; every other dropped label counts as nav.
LEXICON_CLASSES: tuple[str, ...] = ("body", "comments", "related", "meta", "promo", "nav")
_CLASS_OF_LABEL = {"body": 0, "comments": 1, "related": 2, "meta": 3, "title": 3,
                   "promo": 4, "app": 4}
LEXICON_FEATURES: tuple[str, ...] = (
    *(f"words_{name}" for name in LEXICON_CLASSES),
    "words_known", "words_body@-1", "words_body@+1", "page_words_known",
)
#: Only a line's first words count: chrome says what it is up front, and long lines
#: cost no more than short ones.
WORDS_PER_LINE = 16
#: Characters of a line read for its words (its first words lie within them).
LINE_CHARS = 200
#: Characters of a word that enter its hash (longer words are cut, not dropped).
WORD_CHARS = 32
#: A word enters the table when lines holding it come from at least this many pages:
#: it is then a habit of many sites, not a page's own words.
MIN_PAGES = 20
#: The table keeps at most this many words (the most frequent).
MAX_WORDS = 100_000
#: Smoothing, in lines: a word seen on few lines stays near "no evidence".
SMOOTHING = 20.0

_MULTIPLIER = np.uint64(0x100000001B3)
_POWERS = np.cumprod(np.concatenate(([np.uint64(1)], np.full(WORD_CHARS - 1, _MULTIPLIER))),
                     dtype=np.uint64)


@dataclass(frozen=True)
class Tokens:
    """The hashed first words of a run of lines: ``hashes[i]`` lies on line ``rows[i]``
    (ascending)."""

    hashes: np.ndarray
    rows: np.ndarray

    @classmethod
    def empty(cls) -> Tokens:
        return cls(np.zeros(0, np.uint64), np.zeros(0, np.int64))

    @classmethod
    def concat(cls, parts: list[Tokens], row_counts: list[int]) -> Tokens:
        """Tokens of consecutive runs of lines, the i-th run holding ``row_counts[i]`` lines."""
        if not parts:
            return cls.empty()
        offsets = np.concatenate(([0], np.cumsum(row_counts)[:-1])).astype(np.int64)
        return cls(np.concatenate([p.hashes for p in parts]).astype(np.uint64, copy=False),
                   np.concatenate([p.rows + o for p, o in zip(parts, offsets, strict=True)])
                   .astype(np.int64, copy=False))

    def select(self, keep: np.ndarray) -> Tokens:
        """The tokens of the kept lines, renumbered as the kept lines are."""
        new_row = np.cumsum(keep) - 1
        mine = keep[self.rows]
        return Tokens(self.hashes[mine], new_row[self.rows[mine]])


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads the polynomial hash over all 64 bits."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@functools.cache
def _lower_table() -> np.ndarray:
    """The lower-case code point of every code point of the basic plane that words are
    made of (itself where lower-casing gives more than one character). Of those, only the
    upper-case classes (Lu, Lt) have another lower case, so only they are looked up: a
    millisecond at start-up instead of 50 for all 65,536 (tests/test_lexicon.py checks
    it against every code point)."""
    table = np.arange(0x10000, dtype=np.uint32)
    for code in np.flatnonzero(class_table()[0] == UPPER).tolist():
        lower = chr(code).lower()
        if len(lower) == 1:
            table[code] = ord(lower)
    return table


def line_tokens(lines: list[str]) -> Tokens:
    """The hashed first words of each line (compiled when cleaner/_words.c is built)."""
    if not lines:
        return Tokens.empty()
    if COMPILED is not None:
        hashes, rows = COMPILED.hash_words(
            list(lines), class_table()[0], _lower_table(), LINE_CHARS, WORD_CHARS,
            WORDS_PER_LINE, int(_MULTIPLIER))
        return Tokens(np.frombuffer(hashes, np.uint64), np.frombuffer(rows, np.int64))
    return numpy_line_tokens(lines)


def numpy_line_tokens(lines: list[str]) -> Tokens:
    """line_tokens in numpy: the fallback where no compiler built cleaner/_words.c."""
    if not lines:
        return Tokens.empty()
    cut = [line[:LINE_CHARS] for line in lines]
    lengths = np.fromiter(map(len, cut), np.int64, count=len(cut))
    codes = np.frombuffer("\n".join(cut).encode("utf-32-le", "surrogatepass"), np.uint32)
    classes, _ = classify_codes(codes)
    positions = np.flatnonzero(WORD_CLASS[classes])
    if len(positions) == 0:
        return Tokens.empty()
    starts_word = np.ones(len(positions), bool)
    starts_word[1:] = np.diff(positions) > 1
    first = np.flatnonzero(starts_word)
    offset = np.arange(len(positions)) - np.repeat(first, np.diff(np.append(first,
                                                                            len(positions))))
    chars = codes[positions]
    basic = chars < 0x10000
    chars = np.where(basic, _lower_table()[np.where(basic, chars, 0)], chars)
    chars = np.where(classes[positions] == DIGIT, ord("0"), chars).astype(np.uint64)
    chars = np.where(offset < WORD_CHARS, chars * _POWERS[np.minimum(offset, WORD_CHARS - 1)],
                     np.uint64(0))
    hashes = np.add.reduceat(chars, first, dtype=np.uint64)
    sizes = np.minimum(np.diff(np.append(first, len(positions))), WORD_CHARS).astype(np.uint64)
    hashes = _mix(hashes ^ (sizes << np.uint64(56)))
    rows = np.repeat(np.arange(len(cut)), lengths + 1)[positions[first]]
    new_line = np.ones(len(rows), bool)
    new_line[1:] = rows[1:] != rows[:-1]
    line_first = np.flatnonzero(new_line)
    rank = np.arange(len(rows)) - np.repeat(line_first, np.diff(np.append(line_first,
                                                                         len(rows))))
    keep = rank < WORDS_PER_LINE
    return Tokens(hashes[keep], rows[keep].astype(np.int64))


class LexiconError(ValueError):
    """Lexicon arrays that cannot be used (a tampered or foreign model file)."""


class Lexicon:
    """Word hashes (sorted, unique) and their per-class log-odds, one column per
    entry of LEXICON_CLASSES."""

    def __init__(self, hashes: np.ndarray, scores: np.ndarray) -> None:
        hashes, scores = np.asarray(hashes), np.asarray(scores)
        if hashes.dtype != np.uint64 or hashes.ndim != 1:
            raise LexiconError("word hashes must be a 1-D uint64 array")
        if scores.dtype != np.float32 or scores.shape != (len(hashes), len(LEXICON_CLASSES)):
            raise LexiconError(f"word scores must be float32 of shape ({len(hashes)}, "
                               f"{len(LEXICON_CLASSES)})")
        if len(hashes) > MAX_WORDS:
            raise LexiconError(f"{len(hashes)} words, more than {MAX_WORDS}")
        if len(hashes) > 1 and not (hashes[1:] > hashes[:-1]).all():
            raise LexiconError("word hashes must be sorted and unique")
        if not np.isfinite(scores).all():
            raise LexiconError("word scores must be finite")
        self.hashes = np.ascontiguousarray(hashes, np.dtype("<u8").newbyteorder("="))
        self.scores = np.ascontiguousarray(scores, np.dtype("<f4").newbyteorder("="))

    @functools.cached_property
    def _buckets(self) -> np.ndarray:
        """For each value of a hash's top 16 bits, the first table entry with it or after."""
        return np.searchsorted(self.hashes >> np.uint64(48), np.arange(65537, dtype=np.uint64)
                               ).astype(np.int64)

    def find(self, hashes: np.ndarray) -> np.ndarray:
        """The table index of each hash, or -1 where the word is unknown."""
        if COMPILED is not None:
            return np.frombuffer(COMPILED.find_words(
                np.ascontiguousarray(hashes, np.uint64), self.hashes, self._buckets), np.int64)
        at = np.minimum(np.searchsorted(self.hashes, hashes), len(self.hashes) - 1)
        return np.where(self.hashes[at] == hashes, at, -1)

    @classmethod
    def empty(cls) -> Lexicon:
        return cls(np.zeros(0, np.uint64), np.zeros((0, len(LEXICON_CLASSES)), np.float32))

    def __len__(self) -> int:
        return len(self.hashes)

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        return {"hashes": self.hashes, "scores": self.scores}

    @classmethod
    def fit(cls, tokens: Tokens, labels: np.ndarray, pages: np.ndarray,
            rows: np.ndarray | None = None) -> Lexicon:
        """Count the words of the chosen rows (default all) per class of their line's
        label; keep words seen on MIN_PAGES distinct ``pages``; smoothed log-odds."""
        class_of_row = np.array([_CLASS_OF_LABEL.get(str(label), 5) for label in labels],
                                np.int64) if len(labels) else np.zeros(0, np.int64)
        chosen = np.ones(len(tokens.rows), bool) if rows is None else rows[tokens.rows]
        chosen &= np.asarray(labels, dtype=object)[tokens.rows] != "blank"
        hashes, token_rows = tokens.hashes[chosen], tokens.rows[chosen]
        if len(hashes) == 0:
            return cls.empty()
        words, word = np.unique(hashes, return_inverse=True)
        k = len(LEXICON_CLASSES)
        counts = np.bincount(word * k + class_of_row[token_rows],
                             minlength=len(words) * k).reshape(len(words), k).astype(float)
        page = np.unique(pages[token_rows], return_inverse=True)[1]
        n_pages = np.bincount(np.unique(word * (int(page.max()) + 1) + page)
                              // (int(page.max()) + 1), minlength=len(words))
        total = counts.sum(axis=1)
        usable = np.flatnonzero(n_pages >= MIN_PAGES)
        usable = np.sort(usable[np.argsort(-total[usable], kind="stable")[:MAX_WORDS]])
        prior = np.maximum(counts.sum(axis=0) / max(counts.sum(), 1.0), 1e-6)
        counts, total = counts[usable], total[usable, None]
        scores = np.log((counts + SMOOTHING * prior) / (total + SMOOTHING)) - np.log(prior)
        return cls(words[usable].astype(np.uint64), scores.astype(np.float32))

    def columns(self, tokens: Tokens, n_rows: int, lengths: list[int]) -> np.ndarray:
        """LEXICON_FEATURES for ``n_rows`` lines of consecutive pages of ``lengths`` rows."""
        k = len(LEXICON_CLASSES)
        out = np.full((n_rows, len(LEXICON_FEATURES)), np.nan, np.float32)
        if n_rows == 0:
            return out
        words = np.bincount(tokens.rows, minlength=n_rows).astype(float)
        known = np.zeros(n_rows)
        sums = np.zeros((n_rows, k))
        if len(self.hashes) and len(tokens.hashes):
            at = self.find(tokens.hashes)
            hit = at >= 0
            rows = tokens.rows[hit]
            if len(rows):
                # Rows ascend: each line's known words are one run, summed in one call.
                starts = np.flatnonzero(np.concatenate(([True], rows[1:] != rows[:-1])))
                lines = rows[starts]
                sums[lines] = np.add.reduceat(self.scores[at[hit]], starts, axis=0)
                known[lines] = np.diff(np.append(starts, len(rows)))
        with np.errstate(invalid="ignore", divide="ignore"):
            means = sums / known[:, None]
        means[known == 0] = np.nan
        out[:, :k] = means
        out[:, k] = np.where(words > 0, known / np.maximum(words, 1), 0.0)
        body = means[:, 0]
        page = np.repeat(np.arange(len(lengths)), lengths)
        previous, following = np.full(n_rows, np.nan), np.full(n_rows, np.nan)
        same_page = page[1:] == page[:-1]
        previous[1:] = np.where(same_page, body[:-1], np.nan)
        following[:-1] = np.where(same_page, body[1:], np.nan)
        out[:, k + 1], out[:, k + 2] = previous, following
        page_words = np.bincount(page, weights=words, minlength=len(lengths))
        page_known = np.bincount(page, weights=known, minlength=len(lengths))
        out[:, k + 3] = (page_known / np.maximum(page_words, 1.0))[page]
        return out
