"""Tree ensembles as plain arrays, and a vectorised predictor over all trees at once.

Training uses scikit-learn's HistGradientBoostingClassifier; prediction does
not. After fitting, every tree is exported into flat numeric arrays (one
entry per node, children as indices within the tree), which a model file
stores without any code. Loading validates them completely (shapes, index
ranges, every node reachable exactly once from its root, bounded depth,
finite numbers), so that the predictor below can trust them: a tampered file
is refused, it cannot make prediction loop or read out of bounds.

The predictor is QuickScorer's (Lucchese et al. 2015), vectorised over all
trees and rows at once: a row's exit leaf is the leftmost leaf that no split
it goes right at rules out. Each distinct (column, threshold) pair is compared
once per row; the decisions of a tree's splits, eight at a time, form a byte
that indexes a table of the leaves they rule out. A missing value (NaN) goes
to -inf or +inf depending on the node, by reading one of two copies of each
column (NaN as -inf goes left at every finite threshold, NaN as +inf goes
right). Trees of more than 64 leaves use a level-by-level walk instead.
It reproduces ``predict_proba`` of the exported estimator to float rounding.

Float32 rows (the features always are) go instead through a compiled walk,
cleaner/_treewalk.c, about 2.5 times faster on the shipped model: it reads the
same two-way columns and compares as the numpy predictor does, and its leaf
values are summed by the same numpy code, so the probabilities are the same bit
for bit. numpy stays the fallback where the extension was not built, and
``CLEANER_PREDICTOR=numpy`` chooses it.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field

import numpy as np

try:
    from cleaner import _treewalk
except ImportError:  # built by setup.py; a build without a C compiler leaves it out
    _treewalk = None

#: Links from raw scores to probabilities, as scikit-learn applies them.
SIGMOID, SOFTMAX = "sigmoid", "softmax"
#: Bounds a model file must respect (far above any model we train: ~100k nodes, depth ~20).
MAX_NODES = 20_000_000
MAX_TREES = 1_000_000
MAX_DEPTH = 64
#: The node arrays of one ensemble and their dtypes in a model file.
NODE_ARRAYS = {
    "feature": np.dtype("<i4"), "threshold": np.dtype("<f8"), "missing_left": np.dtype("bool"),
    "left": np.dtype("<i4"), "right": np.dtype("<i4"), "is_leaf": np.dtype("bool"),
    "value": np.dtype("<f8"),
}
ARRAYS = {**NODE_ARRAYS, "tree_start": np.dtype("<i8"), "baseline": np.dtype("<f8")}
#: Row-by-tree cells per block: bounds memory whatever the batch, and stays in cache.
BLOCK_CELLS = 1 << 16
#: The same for the compiled walk, whose only block is its output (2 MiB).
COMPILED_BLOCK_CELLS = 1 << 18
_LARGEST = np.finfo(np.float64).max
#: The compiled walk (cleaner/_treewalk.c), used for float32 rows, or None: not built, or
#: the environment says CLEANER_PREDICTOR=numpy. Either predictor gives the same numbers.
COMPILED = None if os.environ.get("CLEANER_PREDICTOR") == "numpy" else _treewalk


class ForestError(ValueError):
    """Arrays that do not describe a well-formed ensemble."""


@dataclass(eq=False)
class Forest:
    """A boosted tree ensemble: raw score = baseline + sum of leaf values, then the link.

    Trees are stored iteration by iteration; tree ``t`` adds to raw column
    ``t % n_raw`` (one column for a sigmoid link, one per class for softmax).
    """

    classes: list[str]
    link: str
    n_features: int
    arrays: dict[str, np.ndarray]
    _levels: list[np.ndarray] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.classes = [str(c) for c in self.classes]
        self.arrays, self._levels = _validated(self.arrays, self.classes, self.link,
                                               self.n_features)

    # Each predictor's arrays are built on first use: a run needs one of them (the
    # compiled walk's for cleaner's float32 rows), and loading stays short.
    @functools.cached_property
    def _layout(self) -> dict:
        """The numpy predictor's arrays."""
        return _layout(self.arrays, self._levels, self.n_features, self.n_raw)

    @property
    def _nodes(self) -> dict:
        """The compiled walk's arrays, built afresh: the walk keeps its own checked copy."""
        return _node_layout(self.arrays, self._levels, self.n_features, self.n_raw)

    @functools.cached_property
    def _walker(self) -> object:
        """The compiled walk's checked copy of :attr:`_nodes` (checked once, not per call)."""
        return _treewalk.prepare(*self._nodes["arrays"], self.n_features)

    def __getstate__(self) -> dict:
        """Picklable after a prediction too: the walker is rebuilt where it is unpickled."""
        state = self.__dict__.copy()
        state.pop("_walker", None)
        return state

    @property
    def classes_(self) -> np.ndarray:
        """The class names, as scikit-learn estimators name them."""
        return np.asarray(self.classes, dtype=object)

    @property
    def n_raw(self) -> int:
        return 1 if self.link == SIGMOID else len(self.classes)

    @property
    def n_trees(self) -> int:
        return len(self.arrays["tree_start"]) - 1

    @property
    def max_depth(self) -> int:
        return len(self._levels) - 1 if self.n_trees else 0

    @classmethod
    def from_estimator(cls, estimator) -> Forest:
        """Export a fitted HistGradientBoostingClassifier (or a prior-only DummyClassifier)."""
        classes = [str(c) for c in estimator.classes_]
        n_features = int(estimator.n_features_in_)
        if type(estimator).__name__ == "DummyClassifier":
            if estimator.strategy != "prior":
                raise ForestError("only a DummyClassifier with the prior strategy exports")
            prior = np.asarray(estimator.class_prior_, dtype=np.float64)
            with np.errstate(divide="ignore"):
                baseline = np.log(prior)
            empty = {name: np.zeros(0, dtype) for name, dtype in NODE_ARRAYS.items()}
            return cls(classes, SOFTMAX, n_features, {
                **empty, "tree_start": np.zeros(1, np.int64), "baseline": baseline})
        trees = [tree for iteration in estimator._predictors for tree in iteration]
        if not trees:
            raise ForestError("the estimator has no trees")
        n_raw = len(estimator._predictors[0])
        nodes = [tree.nodes for tree in trees]
        joined = np.concatenate(nodes)
        if joined["is_categorical"].any():
            raise ForestError("categorical splits are not supported")
        leaf = joined["is_leaf"].astype(bool)
        arrays = {
            "feature": np.where(leaf, 0, joined["feature_idx"]),
            "threshold": np.where(leaf, 0.0, joined["num_threshold"]),
            "missing_left": joined["missing_go_to_left"].astype(bool) & ~leaf,
            "left": np.where(leaf, 0, joined["left"]),
            "right": np.where(leaf, 0, joined["right"]),
            "is_leaf": leaf,
            "value": np.where(leaf, joined["value"], 0.0),
            "tree_start": np.concatenate(([0], np.cumsum([len(n) for n in nodes]))),
            "baseline": np.asarray(estimator._baseline_prediction, np.float64).reshape(-1),
        }
        arrays = {name: np.ascontiguousarray(arrays[name], ARRAYS[name]) for name in ARRAYS}
        link = SIGMOID if n_raw == 1 else SOFTMAX
        return cls(classes, link, n_features, arrays)

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Raw scores, shape (rows, n_raw)."""
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(f"expected rows of {self.n_features} features, got shape {x.shape}")
        out = np.empty((len(x), self.n_raw))
        out[:] = self.arrays["baseline"]
        if self.n_trees == 0 or len(x) == 0:
            return out
        compiled = COMPILED if x.dtype == np.float32 else None
        if compiled is None:
            # Features arrive as float32; comparing them as float32 moves half the bytes.
            if x.dtype != np.float32 or "table" not in self._layout:
                x = x.astype(np.float64, copy=False)
            leaf_values = _bitmask_leaf_values if "table" in self._layout else _walk_leaf_values
        block = max(1, (BLOCK_CELLS if compiled is None else COMPILED_BLOCK_CELLS)
                    // self.n_trees)
        for start in range(0, len(x), block):
            rows = x[start:start + block]
            if compiled is not None:
                by_row = np.empty((len(rows), self.n_trees))
                compiled.leaf_values(np.ascontiguousarray(rows), self._walker, by_row)
                by_row = by_row.reshape(len(rows), self.n_raw, -1)
            else:
                values = leaf_values(self._layout, _both_ways(rows))
                by_row = np.ascontiguousarray(
                    values.reshape(self.n_raw, -1, len(rows)).transpose(2, 0, 1))
            # Trees are in raw-column order, the same number per column. Summed along a
            # contiguous axis, so that a row's sum never depends on the other rows, and
            # both predictors add the same numbers in the same order.
            out[start:start + block] += by_row.sum(axis=2)
        return out

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities, one column per entry of :attr:`classes`."""
        raw = self.raw(x)
        if self.link == SIGMOID:
            second = 1.0 / (1.0 + np.exp(-raw[:, 0]))
            return np.column_stack([1.0 - second, second])
        raw = raw - raw.max(axis=1, keepdims=True)
        np.exp(raw, out=raw)
        raw /= raw.sum(axis=1, keepdims=True)
        return raw


def _validated(arrays: dict, classes: list[str], link: str,
               n_features: int) -> tuple[dict, list[np.ndarray]]:
    """The arrays as the predictor needs them and the nodes of each tree level (roots
    first, global indices), or ForestError saying what is wrong."""
    if link not in (SIGMOID, SOFTMAX):
        raise ForestError(f"unknown link {link!r}")
    if len(set(classes)) != len(classes) or not classes:
        raise ForestError("classes must be distinct and not empty")
    if link == SIGMOID and len(classes) != 2:
        raise ForestError("a sigmoid link needs exactly two classes")
    if not 1 <= n_features <= 1_000_000:
        raise ForestError(f"implausible number of features: {n_features}")
    n_raw = 1 if link == SIGMOID else len(classes)
    out = {}
    for name, dtype in ARRAYS.items():
        array = arrays.get(name)
        if not isinstance(array, np.ndarray):
            raise ForestError(f"missing array {name!r}")
        if array.dtype != dtype or array.ndim != 1:
            raise ForestError(f"array {name!r} must be 1-D {dtype}, not {array.ndim}-D "
                              f"{array.dtype}")
        out[name] = np.ascontiguousarray(array, dtype.newbyteorder("="))
    unknown = set(arrays) - set(ARRAYS)
    if unknown:
        raise ForestError(f"unexpected arrays {sorted(unknown)}")
    n = len(out["feature"])
    if n > MAX_NODES:
        raise ForestError(f"{n} nodes, more than the limit of {MAX_NODES}")
    if any(len(out[name]) != n for name in NODE_ARRAYS):
        raise ForestError("node arrays differ in length")
    if len(out["baseline"]) != n_raw or not np.isfinite(out["baseline"]).all():
        raise ForestError(f"baseline must be {n_raw} finite number(s)")
    start = out["tree_start"]
    n_trees = len(start) - 1
    if n_trees > MAX_TREES or start[0] != 0 or start[-1] != n:
        raise ForestError("tree offsets must start at 0 and end at the number of nodes")
    if n_trees % n_raw or (np.diff(start) < 1).any():
        raise ForestError("tree offsets must be increasing, a whole number of iterations")
    inner = ~out["is_leaf"]
    size = np.repeat(np.diff(start), np.diff(start))
    if ((out["feature"] < 0) | (out["feature"] >= n_features))[inner].any():
        raise ForestError("feature index out of range")
    if np.isnan(out["threshold"][inner]).any() or not np.isfinite(out["value"]).all():
        raise ForestError("thresholds must be numbers and values finite")
    for side in ("left", "right"):
        child = out[side][inner]
        if ((child < 1) | (child >= size[inner])).any():
            raise ForestError(f"{side} child index out of range")
    # Every non-root node has exactly one parent and is reached from its root within
    # MAX_DEPTH levels: then the nodes form trees, and every walk ends at a leaf.
    tree_of = np.repeat(np.arange(n_trees), np.diff(start))
    base = start[:-1][tree_of[inner]]
    children = np.concatenate((base + out["left"][inner], base + out["right"][inner]))
    parents = np.bincount(children, minlength=n)
    expected = np.ones(n, np.int64)
    expected[start[:-1]] = 0
    if (parents != expected).any():
        raise ForestError("tree nodes must each have one parent (no cycles, no sharing)")
    levels = [start[:-1]]
    for _ in range(MAX_DEPTH + 1):
        split = levels[-1][inner[levels[-1]]]
        if len(split) == 0:
            break
        base = start[tree_of[split]]
        levels.append(np.concatenate((base + out["left"][split], base + out["right"][split])))
    if len(levels) > MAX_DEPTH + 1:
        raise ForestError(f"trees deeper than {MAX_DEPTH} levels")
    if sum(map(len, levels)) != n:
        raise ForestError("tree nodes unreachable from their root")
    return out, levels


def _tree_order(n_trees: int, n_raw: int) -> np.ndarray:
    """Trees grouped by the raw column they add to (tree t adds to column t % n_raw)."""
    return np.argsort(np.arange(n_trees) % n_raw, kind="stable")


def _split_columns(arrays: dict, nodes: np.ndarray, n_features: int) -> np.ndarray:
    """Which of the two copies of the features each node reads (see _both_ways)."""
    return arrays["feature"][nodes] + n_features * ~arrays["missing_left"][nodes]


def _split_thresholds(arrays: dict, nodes: np.ndarray) -> np.ndarray:
    # +inf (the split that sends only missing values right) as the largest float.
    return np.minimum(arrays["threshold"][nodes], _LARGEST)


def _both_ways(x: np.ndarray) -> np.ndarray:
    """Features by column (2 * n_features, rows): first NaN as -inf, then NaN as +inf.

    A node that sends missing values left reads the first copy (-inf never exceeds a
    threshold), one that sends them right the second. Real +inf becomes the largest
    float: it still exceeds every finite threshold but not a threshold of +inf (also
    stored as the largest float), which only NaN sent right may exceed.
    """
    x = np.minimum(x.T, np.finfo(x.dtype).max)
    missing = np.isnan(x)
    both = np.concatenate((x, x))
    both[:len(x)][missing] = -np.inf
    both[len(x):][missing] = np.inf
    return both


def _layout(arrays: dict, levels: list[np.ndarray], n_features: int, n_raw: int) -> dict:
    """Per tree (in raw-column order): its splits, with for each split the leaves of its
    left subtree as a bit mask; leaves numbered left to right (QuickScorer, Lucchese et
    al. 2015). A row's exit leaf is the leftmost leaf that no split it goes right at
    rules out. Trees of more than 64 leaves use the level-by-level walk instead."""
    start = arrays["tree_start"]
    n_trees, n = len(start) - 1, int(start[-1])
    if n_trees == 0:
        return {}
    tree_of = np.repeat(np.arange(n_trees), np.diff(start))
    leaf = arrays["is_leaf"]
    left = start[tree_of] + arrays["left"]
    right = start[tree_of] + arrays["right"]
    leaves = leaf.astype(np.int64)  # leaves under each node, bottom-up
    for level in reversed(levels):
        split = level[~leaf[level]]
        leaves[split] = leaves[left[split]] + leaves[right[split]]
    max_leaves = int(leaves[start[:-1]].max())
    if max_leaves > 64:
        return _walk_layout(arrays, levels, n_features, n_raw)
    first_leaf = np.zeros(n, np.int64)  # in-order number of each subtree's leftmost leaf
    for level in levels:
        split = level[~leaf[level]]
        first_leaf[left[split]] = first_leaf[split]
        first_leaf[right[split]] = first_leaf[split] + leaves[left[split]]
    order = _tree_order(n_trees, n_raw)
    rank = np.empty(n_trees, np.int64)
    rank[order] = np.arange(n_trees)
    splits = np.flatnonzero(~leaf)
    split_tree = rank[tree_of[splits]]
    sort = np.argsort(split_tree, kind="stable")
    splits, split_tree = splits[sort], split_tree[sort]
    per_tree = np.bincount(split_tree, minlength=n_trees)
    width = max(-(-int(per_tree.max()) // 8) * 8, 8)  # whole groups of eight (_byte_tables)
    slot = np.arange(len(splits)) - np.repeat(np.cumsum(per_tree) - per_tree, per_tree)
    dtype = next(np.dtype(t) for t in ("u1", "u2", "u4", "u8")
                 if np.dtype(t).itemsize * 8 >= max_leaves)
    # Padding splits read column 0 against +inf: no row ever goes right there.
    column = np.zeros((width, n_trees), np.intp)
    threshold = np.full((width, n_trees), np.inf)
    leftmask = np.zeros((width, n_trees), dtype)
    column[slot, split_tree] = _split_columns(arrays, splits, n_features)
    threshold[slot, split_tree] = _split_thresholds(arrays, splits)
    left_leaves = leaves[left[splits]].astype(np.uint64)
    mask = ((np.uint64(1) << left_leaves) - np.uint64(1)) << first_leaf[left[splits]].astype(
        np.uint64)
    leftmask[slot, split_tree] = mask.astype(dtype)
    leaf_nodes = np.flatnonzero(leaf)
    leaf_value = np.zeros((n_trees, max_leaves))
    leaf_value[rank[tree_of[leaf_nodes]], first_leaf[leaf_nodes]] = arrays["value"][leaf_nodes]
    return {**_byte_tables(column, threshold, leftmask), "leaf_value": leaf_value.ravel(),
            "leaf_base": (np.arange(n_trees) * max_leaves)[:, None], "bit": _layout_bit_table(),
            "depth": len(levels) - 1}


def _layout_bit_table() -> np.ndarray:
    """k for 2**k modulo 67 (the powers of two below 2**64 differ modulo 67)."""
    bit = np.zeros(67, np.intp)
    bit[[(1 << k) % 67 for k in range(64)]] = np.arange(64)
    return bit


def _byte_tables(column: np.ndarray, threshold: np.ndarray, leftmask: np.ndarray) -> dict:
    """The splits of each tree in groups of eight, and per group a table of 256 entries:
    for each way a row can go at its eight splits (a byte, bit k set when the row goes
    right at the group's k-th split), the leaves those splits rule out.

    A row then needs one comparison per distinct (column, threshold) pair of the
    forest (trees share many: thresholds are histogram bin edges), a byte per group
    and a lookup per group, instead of a pass over every tree for every split slot.
    The decisions are laid out eight slabs deep ([k][tree, group][row]), so that the
    bytes are assembled eight rows at a time in 64-bit words.
    """
    width, n_trees = column.shape
    groups = width // 8
    entries = n_trees * groups
    padded_entries = -(-entries // 8) * 8  # whole 64-bit words whatever the rows

    def by_bit(values: np.ndarray, fill) -> np.ndarray:
        """[slot, tree] -> [k, tree * groups + group], padded to whole words."""
        out = np.full((8, padded_entries), fill, values.dtype)
        out[:, :entries] = values.reshape(groups, 8, n_trees).transpose(1, 2, 0).reshape(8, -1)
        return out.ravel()

    slot_column, slot_threshold = by_bit(column, 0), by_bit(threshold, np.inf)
    # Distinct (column, threshold) pairs, and each slot's pair.
    order = np.lexsort((slot_threshold, slot_column))
    sorted_column, sorted_threshold = slot_column[order], slot_threshold[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = ((sorted_column[1:] != sorted_column[:-1])
                 | (sorted_threshold[1:] != sorted_threshold[:-1]))
    pair_of_slot = np.empty(len(order), dtype=np.intp)
    pair_of_slot[order] = np.cumsum(first) - 1
    decision_threshold = sorted_threshold[first][:, None]
    # For float32 rows: x > t exactly when x > the largest float32 not above t.
    with np.errstate(over="ignore"):
        threshold32 = decision_threshold.astype(np.float32)
    threshold32 = np.where(threshold32 > decision_threshold,
                           np.nextafter(threshold32, np.float32(-np.inf)), threshold32)
    grouped = leftmask.reshape(groups, 8, n_trees).transpose(2, 0, 1)  # [tree, group, k]
    table = np.zeros((n_trees, groups, 256), leftmask.dtype)
    for k in range(8):  # entries 2**k .. 2**(k+1)-1: bit k and the entries below
        table[:, :, 1 << k:2 << k] = table[:, :, :1 << k] | grouped[:, :, k, None]
    return {"decision_column": sorted_column[first].astype(np.intp),
            "decision_threshold": decision_threshold,
            "decision_threshold32": threshold32, "pair_of_slot": pair_of_slot,
            "table": table.ravel(),
            "table_base": (np.arange(entries) * 256)[:, None], "groups": groups}


def _bitmask_leaf_values(layout: dict, both: np.ndarray) -> np.ndarray:
    """Leaf value of every tree for every row, shape (trees, rows)."""
    rows = both.shape[1]
    threshold = layout["decision_threshold32" if both.dtype == np.float32 else
                       "decision_threshold"]
    went_right = np.greater(both.take(layout["decision_column"], axis=0), threshold).take(
        layout["pair_of_slot"], axis=0)
    # Bit k of each byte from slab k: bytes are 0 or 1, so shifting eight at once in a
    # 64-bit word never carries into the next byte.
    words = went_right.reshape(8, -1).view(np.uint64)
    packed = words[0].copy()
    for k in range(1, 8):
        packed |= words[k] << np.uint64(k)
    table_base = layout["table_base"]
    byte = packed.view(np.uint8).reshape(-1, rows)[:len(table_base)]
    ruled = layout["table"].take(byte + table_base).reshape(-1, layout["groups"], rows)
    ruled_out = ruled[:, 0].copy()
    for group in range(1, layout["groups"]):
        ruled_out |= ruled[:, group]
    exit_leaf = _trailing_ones(ruled_out, layout["bit"])  # the lowest bit not ruled out
    return layout["leaf_value"][layout["leaf_base"] + exit_leaf]


def _trailing_ones(words: np.ndarray, bit_table: np.ndarray) -> np.ndarray:
    """How many low bits of each word are set."""
    ones = words & ~(words + words.dtype.type(1))
    if hasattr(np, "bitwise_count"):  # numpy >= 2.0
        return np.bitwise_count(ones)
    return bit_table[(ones + words.dtype.type(1)) % 67]


def _walk_layout(arrays: dict, levels: list[np.ndarray], n_features: int, n_raw: int) -> dict:
    """Nodes renumbered level by level, roots first (in raw-column order), so that a
    right child follows its left child: the next node is ``child[node] + went_right``.
    Leaves point at themselves with a threshold of +inf, which no value exceeds."""
    start = arrays["tree_start"]
    n_trees, n = len(start) - 1, int(start[-1])
    tree_of = np.repeat(np.arange(n_trees), np.diff(start))
    leaf = arrays["is_leaf"]
    new_id = np.empty(n, np.int64)
    child = np.empty(n, np.int64)
    frontier = start[:-1][_tree_order(n_trees, n_raw)]
    new_id[frontier] = np.arange(n_trees)
    placed = n_trees
    while len(frontier):
        split = frontier[~leaf[frontier]]
        pairs = np.empty(2 * len(split), np.int64)
        pairs[0::2] = start[tree_of[split]] + arrays["left"][split]
        pairs[1::2] = start[tree_of[split]] + arrays["right"][split]
        new_id[pairs] = np.arange(placed, placed + len(pairs))
        child[new_id[split]] = new_id[pairs[0::2]]
        placed += len(pairs)
        frontier = pairs
    old = np.empty(n, np.int64)
    old[new_id] = np.arange(n)
    is_leaf = leaf[old]
    child[is_leaf] = np.flatnonzero(is_leaf)
    column = np.where(is_leaf, 0, _split_columns(arrays, old, n_features))
    threshold = np.where(is_leaf, np.inf, _split_thresholds(arrays, old))
    rank = np.empty(n_trees, np.int64)
    rank[_tree_order(n_trees, n_raw)] = np.arange(n_trees)
    return {"child": child, "column": column, "threshold": threshold,
            "value": arrays["value"][old], "depth": len(levels) - 1, "n_trees": n_trees,
            "tree": rank[tree_of[old]]}


def _node_layout(arrays: dict, levels: list[np.ndarray], n_features: int, n_raw: int) -> dict:
    """The nodes as the compiled walk reads them (cleaner/_treewalk.c): the walk layout's
    nodes with each tree's together (still level by level, a right child after its left
    child), packed four int32 to a node: the threshold as float32 bits, the column of
    _both_ways, the left child, a leaf flag.

    A float32 value exceeds a threshold t exactly when it exceeds the largest float32 not
    above t, so float32 comparisons decide as the numpy predictor does. The C code trusts
    these arrays only after checking them once, in ``prepare``, which keeps a copy (a
    split's children come after it and lie within the nodes, columns are in range, a
    leaf points at itself with a threshold nothing exceeds); derived from validated
    arrays, they always pass.
    """
    walk = _walk_layout(arrays, levels, n_features, n_raw)
    order = np.argsort(walk["tree"], kind="stable")
    n = len(order)
    new_id = np.empty(n, np.int64)
    new_id[order] = np.arange(n)
    child = new_id[walk["child"][order]]
    threshold = walk["threshold"][order]
    with np.errstate(over="ignore"):
        threshold32 = threshold.astype(np.float32)
    threshold32 = np.where(threshold32 > threshold,
                           np.nextafter(threshold32, np.float32(-np.inf)), threshold32)
    nodes = np.empty((n, 4), np.int32)
    nodes[:, 0] = threshold32.view(np.int32)
    nodes[:, 1], nodes[:, 2], nodes[:, 3] = walk["column"][order], child, child == np.arange(n)
    roots = new_id[:walk["n_trees"]]
    arrays_out = (nodes, np.ascontiguousarray(walk["value"][order]), roots)
    for array in arrays_out:
        array.setflags(write=False)
    return {"arrays": arrays_out}


def _walk_leaf_values(layout: dict, both: np.ndarray) -> np.ndarray:
    """Leaf value of every tree for every row, shape (trees, rows), walking all trees
    and rows one level per step."""
    rows = both.shape[1]
    flat = both.ravel()
    node = np.repeat(np.arange(layout["n_trees"])[:, None], rows, axis=1)
    row = np.arange(rows)
    for _ in range(layout["depth"]):
        went_right = flat[layout["column"][node] * rows + row] > layout["threshold"][node]
        node = layout["child"][node] + went_right
    return layout["value"][node]
