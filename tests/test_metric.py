"""The shingle metric used for every accuracy figure."""

import pytest

from cleaner.training.metric import page_scores, score_pages, shingles


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
