"""The tree arrays and their predictor reproduce scikit-learn's predict_proba.

The estimators are fitted here on real pages (the fixture pages, as text and
as HTML, so structure features are missing on text pages), then exported;
every predictor (the compiled walk of cleaner/_treewalk.c for float32 rows;
numpy's bit-mask one, and its level walk used for trees of more than 64
leaves) must give scikit-learn's probabilities to float rounding, also with
missing and infinite values placed at random.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier
from test_model import fixture_pages, reason_label, stacked
from threadpoolctl import threadpool_limits

from cleaner import forest
from cleaner.forest import Forest, ForestError


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    """Feature rows of the fixture pages (float32, as computed) and rule labels."""
    pages = fixture_pages()
    features, _ = stacked(pages)
    labels = np.array([reason_label(line) for _, lines in pages for line in lines])
    return features, labels


def with_holes(x: np.ndarray, seed: int = 0, infinite: bool = True) -> np.ndarray:
    """Some values missing, a few infinite: every branch of the missing-value logic.
    (Training data has no infinities: sklearn's binning turns them into NaN thresholds.)"""
    rng = np.random.default_rng(seed)
    x = x.copy()
    x[rng.random(x.shape) < 0.2] = np.nan
    if infinite:
        x[rng.random(x.shape) < 0.02] = np.inf
        x[rng.random(x.shape) < 0.02] = -np.inf
    return x


def fitted(x: np.ndarray, y: np.ndarray, **params: object) -> HistGradientBoostingClassifier:
    params = {"max_iter": 15, "max_leaf_nodes": 31, "min_samples_leaf": 5, "random_state": 0,
              **params}
    with threadpool_limits(1):
        return HistGradientBoostingClassifier(**params).fit(with_holes(x, 1, infinite=False), y)


@pytest.fixture(params=["compiled", "numpy"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Float32 rows through the compiled walk, or with it turned off, through numpy."""
    if request.param == "numpy":
        monkeypatch.setattr(forest, "COMPILED", None)
    else:
        assert forest.COMPILED is not None, "cleaner/_treewalk.c is not built"
    return request.param


def walk_only(model: Forest) -> Forest:
    """The same forest predicting with the level walk instead of bit masks."""
    _, levels = forest._validated(model.arrays, model.classes, model.link, model.n_features)
    model._layout = forest._walk_layout(model.arrays, levels, model.n_features, model.n_raw)
    return model


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
@pytest.mark.parametrize("predictor", ["bitmask", "walk"])
@pytest.mark.parametrize("holes", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_predictions_equal_sklearn(data: tuple[np.ndarray, np.ndarray], kind: str,
                                   predictor: str, holes: bool, dtype: type, path: str) -> None:
    x, labels = data
    y = np.where(labels == "body", "body", "drop") if kind == "binary" else labels
    estimator = fitted(x, y)
    exported = Forest.from_estimator(estimator)
    assert "table" in exported._layout
    if predictor == "walk":
        exported = walk_only(exported)
    rows = (with_holes(x) if holes else x).astype(dtype)
    with threadpool_limits(1):
        expected = estimator.predict_proba(rows)
    assert exported.classes == [str(c) for c in estimator.classes_]
    np.testing.assert_allclose(exported.predict_proba(rows), expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("leaves", [2, 5, 9, 17, 33, 64])
def test_every_tree_size_equals_sklearn(data: tuple[np.ndarray, np.ndarray], leaves: int,
                                       path: str) -> None:
    """Masks of 8 to 64 bits, and split counts below, at and above a whole group of eight."""
    x, labels = data
    estimator = fitted(x, labels, max_leaf_nodes=leaves, min_samples_leaf=1)
    exported = Forest.from_estimator(estimator)
    assert "table" in exported._layout
    rows = with_holes(x).astype(np.float32)
    with threadpool_limits(1):
        expected = estimator.predict_proba(rows)
    np.testing.assert_allclose(exported.predict_proba(rows), expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32, np.uint64])
def test_trailing_ones_with_and_without_bitwise_count(dtype: type,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    bits = np.dtype(dtype).itemsize * 8
    words = np.array([(1 << k) - 1 | (5 << (k + 1)) % (1 << bits) for k in range(bits)], dtype)
    bit_table = forest._layout_bit_table()
    found = forest._trailing_ones(words, bit_table)
    np.testing.assert_array_equal(found, np.arange(bits))
    monkeypatch.delattr(np, "bitwise_count", raising=False)
    np.testing.assert_array_equal(forest._trailing_ones(words, bit_table), np.arange(bits))


def test_trees_of_more_than_64_leaves_use_the_walk(path: str) -> None:
    rng = np.random.default_rng(0)
    x = rng.random((3000, 6))
    y = np.where(rng.random(3000) < 0.5, "body", "drop")  # noise: trees grow every leaf
    estimator = fitted(x, y, max_iter=3, max_leaf_nodes=100, min_samples_leaf=1)
    exported = Forest.from_estimator(estimator)
    assert max(len(tree.nodes) for it in estimator._predictors for tree in it) > 2 * 64
    assert "table" not in exported._layout
    rows = with_holes(x).astype(np.float32)
    with threadpool_limits(1):
        expected = estimator.predict_proba(rows)
    np.testing.assert_allclose(exported.predict_proba(rows), expected, atol=1e-9)


def test_a_prior_only_model(data: tuple[np.ndarray, np.ndarray]) -> None:
    x, labels = data
    dummy = DummyClassifier(strategy="prior").fit(x, labels)
    exported = Forest.from_estimator(dummy)
    assert exported.n_trees == 0
    np.testing.assert_allclose(exported.predict_proba(x[:5]), dummy.predict_proba(x[:5]),
                               atol=1e-12)
    single = Forest.from_estimator(DummyClassifier(strategy="prior").fit(x, ["nav"] * len(x)))
    np.testing.assert_array_equal(single.predict_proba(x[:3]), np.ones((3, 1)))


def test_rows_do_not_affect_each_other(data: tuple[np.ndarray, np.ndarray], path: str) -> None:
    """A row gets bit-identical probabilities alone and in any batch (one page or many)."""
    x, labels = data
    exported = Forest.from_estimator(fitted(x, labels))
    together = exported.predict_proba(x)
    alone = np.vstack([exported.predict_proba(x[i:i + 1]) for i in range(0, len(x), 37)])
    np.testing.assert_array_equal(alone, together[::37])


def test_wrong_number_of_columns_is_an_error(data: tuple[np.ndarray, np.ndarray]) -> None:
    x, labels = data
    exported = Forest.from_estimator(fitted(x, labels))
    with pytest.raises(ValueError, match="expected rows of"):
        exported.predict_proba(x[:, :-1])


def test_the_arrays_are_plain_numbers(data: tuple[np.ndarray, np.ndarray]) -> None:
    x, labels = data
    exported = Forest.from_estimator(fitted(x, labels))
    assert set(exported.arrays) == set(forest.ARRAYS)
    for name, array in exported.arrays.items():
        assert array.dtype == forest.ARRAYS[name] and array.ndim == 1


def test_categorical_splits_are_refused(data: tuple[np.ndarray, np.ndarray]) -> None:
    x, labels = data
    x = x.copy()
    x[:, 0] = np.where(labels == "body", 0, 1 + np.arange(len(x)) % 2)  # a telling category
    estimator = fitted(x, labels, categorical_features=[0], max_iter=5)
    assert any(t.nodes["is_categorical"].any() for it in estimator._predictors for t in it)
    with pytest.raises(ForestError, match="categorical"):
        Forest.from_estimator(estimator)
