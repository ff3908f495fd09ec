"""The compiled tree walk (cleaner/_treewalk.c) gives the numpy predictor's numbers.

Forests here are random arrays, not fitted models, so that shapes sklearn rarely grows
come up too: one-leaf trees, chains, every size from 1 to 100 leaves (the numpy
predictor switches from bit masks to a level walk above 64), thresholds of +-inf, and
rows that sit exactly on thresholds or are missing. Probabilities must be equal bit for
bit: both predictors add the same leaf values in the same order.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

from cleaner import forest
from cleaner.forest import SIGMOID, SOFTMAX, Forest


def random_tree(rng: np.random.Generator, leaves: int, n_features: int,
                thresholds: np.ndarray) -> list[tuple]:
    """Nodes (feature, threshold, missing_left, left, right, is_leaf, value) of a tree
    with the given number of leaves, split points chosen at random (chains included)."""
    nodes: list[list] = []

    def grow(count: int) -> int:
        index = len(nodes)
        nodes.append([0, 0.0, False, 0, 0, True, float(rng.normal())])
        if count > 1:
            on_left = int(rng.integers(1, count))
            left = grow(on_left)
            right = grow(count - on_left)
            nodes[index][:6] = [int(rng.integers(n_features)), float(rng.choice(thresholds)),
                                bool(rng.random() < 0.5), left, right, False]
            nodes[index][6] = 0.0
        return index

    grow(leaves)
    return [tuple(node) for node in nodes]


def random_forest(rng: np.random.Generator, sizes: list[int], n_features: int, n_classes: int,
                  thresholds: np.ndarray) -> Forest:
    link = SIGMOID if n_classes == 2 else SOFTMAX
    n_raw = 1 if link == SIGMOID else n_classes
    trees = [random_tree(rng, sizes[t % len(sizes)], n_features, thresholds)
             for t in range(len(sizes) * n_raw)]
    nodes = [node for tree in trees for node in tree]
    columns = list(zip(*nodes, strict=True))
    arrays = {name: np.asarray(column, dtype)
              for (name, dtype), column in zip(forest.NODE_ARRAYS.items(), columns, strict=True)}
    arrays["tree_start"] = np.concatenate(([0], np.cumsum([len(t) for t in trees])))
    arrays["baseline"] = rng.normal(size=n_raw)
    return Forest([f"c{k}" for k in range(n_classes)], link, n_features, arrays)


def random_rows(rng: np.random.Generator, rows: int, n_features: int,
                thresholds: np.ndarray) -> np.ndarray:
    """Values on the thresholds, between them, missing, infinite and huge."""
    finite = thresholds[np.isfinite(thresholds)]
    pool = np.concatenate((finite, finite + 0.25, [np.nan] * 8, [np.inf, -np.inf, 3e38, -3e38]))
    return rng.choice(pool, size=(rows, n_features)).astype(np.float32)


def both(model: Forest, x: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> tuple:
    compiled = model.predict_proba(x)
    monkeypatch.setattr(forest, "COMPILED", None)
    numpy = model.predict_proba(x)
    monkeypatch.setattr(forest, "COMPILED", forest._treewalk)
    return compiled, numpy


def test_the_compiled_walk_is_built() -> None:
    """CI and every developer build it (make install); without it the tests below would
    compare the numpy predictor with itself."""
    assert forest._treewalk is not None, (
        "cleaner/_treewalk.c is not built: run `make install` or "
        "`python setup.py build_ext --inplace`")
    assert forest.COMPILED is forest._treewalk


@pytest.mark.parametrize("n_classes", [2, 3, 10])
@pytest.mark.parametrize("seed", range(4))
def test_random_forests_of_every_size_match_the_numpy_predictor(
        n_classes: int, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(seed * 10 + n_classes)
    thresholds = np.concatenate((np.round(rng.normal(size=12), 2), [np.inf, -np.inf, 0.0]))
    sizes = list(range(1, 101)) if seed == 0 else list(rng.integers(1, 65, size=20))
    model = random_forest(rng, sizes, n_features=7, n_classes=n_classes, thresholds=thresholds)
    # 1, 7 (fewer than the eight rows walked together), then odd sizes across blocks.
    for rows in (1, 7, 8, 9, 33, 301):
        x = random_rows(rng, rows, 7, thresholds)
        compiled, numpy = both(model, x, monkeypatch)
        np.testing.assert_array_equal(compiled, numpy)


def test_the_compiled_walk_is_what_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """float32 rows go through the extension; float64 rows and COMPILED=None do not."""
    rng = np.random.default_rng(0)
    thresholds = np.array([-1.0, 0.0, 0.5, 1.0])
    model = random_forest(rng, [31] * 5, 4, 2, thresholds)
    x = random_rows(rng, 50, 4, thresholds)
    calls = []

    class Counting:
        def leaf_values(self, *args: object) -> None:
            calls.append(len(args[0]))
            forest._treewalk.leaf_values(*args)

    monkeypatch.setattr(forest, "COMPILED", Counting())
    counted = model.predict_proba(x)
    assert calls == [50]
    model.predict_proba(x.astype(np.float64))
    assert calls == [50]
    monkeypatch.setattr(forest, "COMPILED", None)
    np.testing.assert_array_equal(model.predict_proba(x), counted)
    assert calls == [50]


def test_large_batches_go_in_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(1)
    thresholds = np.array([-1.0, 0.0, 1.0])
    model = random_forest(rng, [20] * 80, 3, 2, thresholds)
    x = random_rows(rng, 5000, 3, thresholds)
    assert len(x) * model.n_trees > 1.5 * forest.COMPILED_BLOCK_CELLS
    compiled, numpy = both(model, x, monkeypatch)
    np.testing.assert_array_equal(compiled, numpy)


def test_the_environment_can_turn_the_compiled_walk_off() -> None:
    code = "from cleaner import forest; print(forest.COMPILED is None)"
    env = {**os.environ, "CLEANER_PREDICTOR": "numpy"}
    off = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True)
    env.pop("CLEANER_PREDICTOR")
    on = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                        check=True)
    assert (off.stdout.strip(), on.stdout.strip()) == ("True", "False")


def test_the_extension_checks_what_it_is_given() -> None:
    """Wrong types or sizes are Python errors, never a read out of bounds."""
    rng = np.random.default_rng(2)
    model = random_forest(rng, [5, 9], 3, 2, np.array([0.0, 1.0]))
    nodes, values, roots = model._nodes["arrays"]
    walker = forest._treewalk.prepare(nodes, values, roots, 3)
    x = np.zeros((4, 3), np.float32)
    out = np.empty((4, 2))
    forest._treewalk.leaf_values(x, walker, out)
    with pytest.raises(TypeError):
        forest._treewalk.prepare(nodes, values, roots.astype(np.int32), 3)
    with pytest.raises(ValueError):
        forest._treewalk.prepare(nodes, values[:-1], roots, 3)
    with pytest.raises(ValueError, match="implausible"):
        forest._treewalk.prepare(nodes, values, roots, 0)
    with pytest.raises(TypeError):
        forest._treewalk.leaf_values(x.astype(np.float64), walker, out)
    with pytest.raises(ValueError, match="features"):
        forest._treewalk.leaf_values(np.zeros((4, 2), np.float32), walker, out)
    with pytest.raises(ValueError):
        forest._treewalk.leaf_values(x, walker, np.empty((5, 2)))
    with pytest.raises(ValueError, match="contiguous"):
        forest._treewalk.leaf_values(x, walker, out[:, :1])
    with pytest.raises((TypeError, ValueError)):
        forest._treewalk.leaf_values(x, walker, out.astype(np.float32))
    with pytest.raises((TypeError, ValueError)):  # only what prepare() made is walked
        forest._treewalk.leaf_values(x, nodes, out)


def test_the_walker_is_a_copy_that_later_changes_to_the_arrays_do_not_reach() -> None:
    """The nodes are checked once, so the walk must not read arrays Python can change."""
    rng = np.random.default_rng(4)
    model = random_forest(rng, [5, 9], 3, 2, np.array([0.0, 1.0]))
    nodes, values, roots = (array.copy() for array in model._nodes["arrays"])
    walker = forest._treewalk.prepare(nodes, values, roots, 3)
    x = np.zeros((4, 3), np.float32)
    before, after = np.empty((4, 2)), np.empty((4, 2))
    forest._treewalk.leaf_values(x, walker, before)
    nodes[:, 2] = len(nodes) * 10  # children far out of bounds
    roots[:] = -5
    values[:] = 99.0
    forest._treewalk.leaf_values(x, walker, after)
    np.testing.assert_array_equal(before, after)
    assert (before != 99.0).all()


@pytest.mark.parametrize("change", ["child back", "child past the end", "column", "leaf moves",
                                    "leaf flag", "root"])
def test_the_extension_refuses_nodes_a_walk_could_leave(change: str) -> None:
    rng = np.random.default_rng(3)
    model = random_forest(rng, [5, 9], 3, 2, np.array([0.0, 1.0]))
    nodes, values, roots = (array.copy() for array in model._nodes["arrays"])
    split = int(np.flatnonzero(nodes[:, 3] == 0)[-1])
    leaf = int(np.flatnonzero(nodes[:, 3] == 1)[0])
    if change == "child back":
        nodes[split, 2] = split
    elif change == "child past the end":
        nodes[split, 2] = len(nodes) - 1
    elif change == "column":
        nodes[split, 1] = 6  # 2 * 3 features
    elif change == "leaf moves":
        nodes[leaf, 0] = np.float32(1.0).view(np.int32)
    elif change == "leaf flag":
        nodes[leaf, 3] = 2
    else:
        roots[0] = len(nodes)
    with pytest.raises(ValueError, match="never end"):
        forest._treewalk.prepare(nodes, values, roots, 3)


def test_a_forest_that_has_predicted_still_pickles() -> None:
    """Users hand cleaners to process pools; the walker (a C object) is not pickled."""
    rng = np.random.default_rng(5)
    thresholds = np.array([-1.0, 0.0, 1.0])
    model = random_forest(rng, [20] * 6, 3, 2, thresholds)
    x = random_rows(rng, 40, 3, thresholds)
    before = model.predict_proba(x)
    assert "_walker" in vars(model)  # the compiled walk ran
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict_proba(x), before)
