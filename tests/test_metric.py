"""The shingle metric used for every accuracy figure."""

import numpy as np
import pytest

from cleaner.training.metric import (
    f1_difference,
    page_counts,
    page_scores,
    score_counts,
    score_pages,
    share_difference,
    shingles,
)


def test_shingles_are_four_token_multisets():
    assert sum(shingles("a b c d e").values()) == 2
    assert shingles("a b c d a b c d")[("a", "b", "c", "d")] == 2


def test_short_text_is_one_shingle():
    assert list(shingles("a b")) == [("a", "b")]


def test_perfect_prediction_scores_one():
    score = score_pages([("one two three four five", "one two three four five")])
    assert (score.precision, score.recall, score.f1) == (1.0, 1.0, 1.0)


def test_extra_text_lowers_precision_only():
    tp, fp, fn = page_scores("a b c d x y z w", "a b c d")
    assert (tp, fp, fn) == pytest.approx((1 / 5, 4 / 5, 0.0))


def test_pages_weigh_the_same_whatever_their_length():
    long_page = (" ".join(f"w{i}" for i in range(1000)),) * 2
    bad_page = ("x y z w", "a b c d")
    score = score_pages([long_page, bad_page])
    # normalised counts: long page (1, 0, 0), bad page (0, 1/2, 1/2)
    assert score.precision == pytest.approx(2 / 3)
    assert score.recall == pytest.approx(2 / 3)


def test_counts_score_as_the_pairs_do():
    pairs = [("a b c d x y", "a b c d e f"), ("one two three four", "one two three four")]
    assert score_counts(page_counts(pairs)) == score_pages(pairs)
    assert score_counts(page_counts([])) == score_pages([])


def test_a_system_against_itself_differs_by_nothing():
    counts = page_counts([("a b c d x y", "a b c d e f")] * 5)
    assert f1_difference(counts, counts) == (0.0, 0.0, 0.0)


def test_a_system_a_little_better_on_every_page_has_an_interval_above_zero():
    # Pages differ far more in difficulty than the systems do, so only a paired
    # resampling (both systems on the same drawn pages) sees the gap for what it is.
    gold = [" ".join(f"w{i}_{j}" for j in range(20)) for i in range(40)]
    junk = [" ".join(f"menu{j}" for j in range(i % 4 * 8)) for i in range(40)]
    better = page_counts([(f"{g} {j}", g) for g, j in zip(gold, junk, strict=True)])
    worse = page_counts([(f"{g} {j} now", g) for g, j in zip(gold, junk, strict=True)])
    difference, low, high = f1_difference(better, worse)
    assert difference == pytest.approx(score_counts(better).f1 - score_counts(worse).f1)
    assert 0 < low <= difference <= high


def test_a_split_verdict_gives_an_interval_that_holds_zero():
    gold = [f"w{i} w{i + 1} w{i + 2} w{i + 3} w{i + 4} w{i + 5}" for i in range(40)]
    bad = " menu home share this"
    first = page_counts([(g + bad * (i % 2), g) for i, g in enumerate(gold)])
    second = page_counts([(g + bad * (1 - i % 2), g) for i, g in enumerate(gold)])
    difference, low, high = f1_difference(first, second)
    assert difference == pytest.approx(0.0)
    assert low < 0 < high


def test_the_interval_is_repeatable_and_follows_the_seed():
    gold = [f"w{i} w{i + 1} w{i + 2} w{i + 3} w{i + 4} w{i + 5}" for i in range(30)]
    first = page_counts([(g + " x" * (i % 3), g) for i, g in enumerate(gold)])
    second = page_counts([(g + " y" * (i % 5), g) for i, g in enumerate(gold)])
    assert f1_difference(first, second) == f1_difference(first, second)
    assert f1_difference(first, second, seed=1) != f1_difference(first, second)


def test_the_interval_needs_the_same_pages():
    one = page_counts([("a b c d", "a b c d")])
    two = page_counts([("a b c d", "a b c d")] * 2)
    with pytest.raises(ValueError, match="same pages"):
        f1_difference(one, two)


def test_a_share_found_more_often_on_most_pages_has_an_interval_above_zero():
    # (snippets found, snippets checked) per page; the second misses one on 3 pages in 4.
    first = np.array([[3, 4]] * 40, dtype=float)
    second = np.array([[2 if i % 4 else 3, 4] for i in range(40)], dtype=float)
    difference, low, high = share_difference(first, second)
    assert difference == pytest.approx(120 / 160 - 90 / 160)
    assert 0 < low <= difference <= high
    assert share_difference(first, first) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="same pages"):
        share_difference(first, second[:-1])
