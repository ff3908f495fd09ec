"""The article-body metric of the public extraction benchmarks: 4-token shingles.

Per page, TP/FP/FN are multiset counts of shingles of prediction vs gold,
normalised by TP+FP+FN so that long pages do not weigh more; precision and
recall come from the page-averaged normalised counts.

How sure a difference between two systems is comes from resampling the
pages (a paired bootstrap): held-out rows hold 30 to 270 pages, and a
difference of 0.002 F1 on them is no finding.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import regex

_TOKEN = regex.compile(r"\w+")
SHINGLE = 4


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def shingles(text: str, n: int = SHINGLE) -> Counter:
    words = tokens(text)
    if 0 < len(words) < n:
        return Counter([tuple(words)])
    return Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))


def page_scores(prediction: str, gold: str) -> tuple[float, float, float]:
    """Normalised (tp, fp, fn) of one page."""
    predicted, expected = shingles(prediction), shingles(gold)
    tp = sum((predicted & expected).values())
    fp = sum(predicted.values()) - tp
    fn = sum(expected.values()) - tp
    total = tp + fp + fn
    if total == 0:
        return 0.0, 0.0, 0.0
    return tp / total, fp / total, fn / total


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float
    pages: int


def page_counts(pairs: Iterable[tuple[str, str]]) -> np.ndarray:
    """Normalised (tp, fp, fn) of each (prediction, gold) pair, one row per page."""
    return np.array([page_scores(prediction, gold) for prediction, gold in pairs],
                    dtype=float).reshape(-1, 3)


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        recall = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
        return np.where(precision + recall > 0,
                        2 * precision * recall / (precision + recall), 0.0)


def score_counts(counts: np.ndarray) -> Score:
    """Score pages from their ``page_counts``."""
    tp, fp, fn = (float(x) for x in counts.sum(axis=0)) if len(counts) else (0.0, 0.0, 0.0)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(precision, recall, f1, len(counts))


def score_pages(pairs: Iterable[tuple[str, str]]) -> Score:
    """Score (prediction, gold) pairs."""
    return score_counts(page_counts(pairs))


#: Resamplings of the pages behind each interval; fixed seed, so a report is repeatable.
DRAWS = 2000


def f1_difference(first: np.ndarray, second: np.ndarray, level: float = 0.95,
                  draws: int = DRAWS, seed: int = 0) -> tuple[float, float, float]:
    """F1 of ``first`` minus F1 of ``second`` (``page_counts`` of two systems on the
    same pages, in the same order), and the central ``level`` interval of that
    difference over ``draws`` resamplings of the pages with replacement, both systems
    resampled alike (paired)."""
    if first.shape != second.shape or first.ndim != 2 or first.shape[1] != 3:
        raise ValueError(f"page counts of the same pages expected, got shapes "
                         f"{first.shape} and {second.shape}")
    difference = score_counts(first).f1 - score_counts(second).f1
    n = len(first)
    if n == 0:
        return difference, 0.0, 0.0
    rng = np.random.default_rng(seed)
    both = np.hstack([first, second])
    chunk = max(1, 2_000_000 // n)  # draws at a time, so memory stays small on big rows
    sums = []
    for start in range(0, draws, chunk):
        weights = rng.multinomial(n, np.full(n, 1 / n), size=min(chunk, draws - start))
        sums.append(weights @ both)
    totals = np.vstack(sums)
    spread = _f1(*totals[:, :3].T) - _f1(*totals[:, 3:].T)
    low, high = np.quantile(spread, [(1 - level) / 2, (1 + level) / 2])
    return difference, float(low), float(high)
