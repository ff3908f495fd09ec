"""The article-body metric of the public extraction benchmarks: 4-token shingles.

Per page, TP/FP/FN are multiset counts of shingles of prediction vs gold,
normalised by TP+FP+FN so that long pages do not weigh more; precision and
recall come from the page-averaged normalised counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

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


def score_pages(pairs: Iterable[tuple[str, str]]) -> Score:
    """Score (prediction, gold) pairs."""
    tp = fp = fn = 0.0
    pages = 0
    for prediction, gold in pairs:
        a, b, c = page_scores(prediction, gold)
        tp, fp, fn, pages = tp + a, fp + b, fn + c, pages + 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(precision, recall, f1, pages)
