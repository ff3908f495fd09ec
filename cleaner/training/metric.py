"""The article-body metric of the public extraction benchmarks: 4-token shingles.

Per page, TP/FP/FN are multiset counts of shingles of prediction vs gold,
normalised by TP+FP+FN so that long pages do not weigh more; precision and
recall come from the page-averaged normalised counts.

How sure a difference between two systems is comes from resampling the
pages (a paired bootstrap): a held-out row holds tens to a few hundred
pages, and a difference of 0.002 F1 on them is no finding.
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


def _scores(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall and F1 of summed counts (one set, or one per resampling)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        recall = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
        f1 = np.where(precision + recall > 0,
                      2 * precision * recall / (precision + recall), 0.0)
    return precision, recall, f1


def score_counts(counts: np.ndarray) -> Score:
    """Score pages from their ``page_counts``."""
    precision, recall, f1 = (float(x) for x in _scores(*counts.sum(axis=0)))
    return Score(precision, recall, f1, len(counts))


def score_pages(pairs: Iterable[tuple[str, str]]) -> Score:
    """Score (prediction, gold) pairs."""
    return score_counts(page_counts(pairs))


#: Resamplings of the pages behind each interval; fixed seed, so a report is repeatable.
DRAWS = 2000


def _resampled_sums(columns: np.ndarray, draws: int, seed: int) -> np.ndarray:
    """Column sums over ``draws`` resamplings of the rows (pages) with replacement."""
    n = len(columns)
    rng = np.random.default_rng(seed)
    chunk = max(1, 2_000_000 // n)  # draws at a time, so memory stays small on big rows
    return np.vstack([rng.multinomial(n, np.full(n, 1 / n), size=min(chunk, draws - start))
                      @ columns for start in range(0, draws, chunk)])


def share(hits: np.ndarray | float, total: np.ndarray | float) -> np.ndarray:
    """hits / total, 0 where nothing was checked."""
    return np.where(np.asarray(total) > 0, hits / np.maximum(total, 1), 0.0)


def _paired_difference(first: np.ndarray, second: np.ndarray, columns: int, statistic,
                       level: float, draws: int, seed: int) -> tuple[float, float, float]:
    """``statistic`` of ``first``'s column sums minus that of ``second``'s, and the
    central ``level`` interval of that difference over ``draws`` resamplings of the
    pages (rows) with replacement, both resampled alike (paired)."""
    if first.shape != second.shape or first.ndim != 2 or first.shape[1] != columns:
        raise ValueError(f"per-page counts of the same pages expected, got shapes "
                         f"{first.shape} and {second.shape}")
    difference = float(statistic(first.sum(axis=0)) - statistic(second.sum(axis=0)))
    if len(first) == 0:
        return difference, 0.0, 0.0
    totals = _resampled_sums(np.hstack([first, second]), draws, seed)
    spread = statistic(totals[:, :columns]) - statistic(totals[:, columns:])
    low, high = np.quantile(spread, [(1 - level) / 2, (1 + level) / 2])
    return difference, float(low), float(high)


def f1_difference(first: np.ndarray, second: np.ndarray, level: float = 0.95,
                  draws: int = DRAWS, seed: int = 0) -> tuple[float, float, float]:
    """F1 of ``first`` minus F1 of ``second`` (``page_counts`` of two systems on the
    same pages, in the same order), with the paired interval of ``_paired_difference``."""
    return _paired_difference(first, second, 3, lambda sums: _scores(*sums.T)[2],
                              level, draws, seed)


def share_difference(first: np.ndarray, second: np.ndarray, level: float = 0.95,
                     draws: int = DRAWS, seed: int = 0) -> tuple[float, float, float]:
    """As ``f1_difference``, for a share summed over pages (snippets found of snippets
    checked): ``first`` and ``second`` hold (hits, total) per page."""
    return _paired_difference(first, second, 2, lambda sums: share(*sums.T),
                              level, draws, seed)
