"""Hostile model files: odd files, oversized files and members, tampered trees and metadata.

Each case is a file someone could hand to ``--model`` or ``$CLEANER_MODEL``.
It must give a ModelError that names the file and the reason, quickly: no
hang, no crash, no unbounded memory. Files that block or never end (a FIFO,
``/dev/zero``) are loaded in a child process with a time limit, so that a
regression fails the test instead of hanging the suite. Tampered trees are
made from the tiny model's own arrays, changing one thing each.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from test_model import fit_on, fixture_pages, load_error, packed, parts_of, write

from cleaner import forest, model_file
from cleaner.forest import Forest, ForestError
from cleaner.model import LineModel, ModelError, stage_columns

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def reason_model() -> LineModel:
    """A model with three reasons (its reason stage has trees)."""
    return fit_on(fixture_pages())


@pytest.fixture(scope="module")
def shipped() -> LineModel:
    """The shipped model: many deep trees."""
    from cleaner.model import DEFAULT_MODEL_PATH

    return LineModel.load(DEFAULT_MODEL_PATH)


def load_in_child(path: str, seconds: float = 30) -> str:
    """stderr of a child that loads ``path``; fails (not hangs) if the load does not end."""
    code = ("import sys\nfrom cleaner.model import LineModel, ModelError\n"
            "try:\n    LineModel.load(sys.argv[1])\nexcept ModelError as error:\n"
            "    sys.exit(f'ModelError: {error}')\nprint('loaded')\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    try:
        done = subprocess.run([sys.executable, "-c", code, path], capture_output=True,
                              text=True, timeout=seconds, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"loading {path} did not end within {seconds} s")
    assert done.returncode == 1, done.stderr[-2000:]
    return done.stderr.strip()


# --------------------------------------------------------------------------- odd files


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)
    assert load_in_child(str(fifo)) == f"ModelError: {fifo}: cannot use as a model file: " \
                                       "not a regular file"


def test_a_fifo_through_the_environment_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)
    env = dict(os.environ, PYTHONPATH=str(ROOT), CLEANER_MODEL=str(fifo))
    done = subprocess.run([sys.executable, "-m", "cleaner.cli", "clean", "-"], input=b"a page\n",
                          capture_output=True, timeout=30, env=env)
    assert done.returncode == 2
    assert f"{fifo}: cannot use as a model file: not a regular file" in done.stderr.decode()


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_dev_zero_is_refused_without_reading(tmp_path: Path) -> None:
    assert load_in_child("/dev/zero").endswith("/dev/zero: cannot use as a model file: "
                                               "not a regular file")


def test_a_directory_is_refused(tmp_path: Path) -> None:
    assert load_error(tmp_path).endswith("cannot use as a model file: a directory")


def test_an_oversized_file_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "model.npz"
    with open(path, "wb") as handle:  # sparse: takes no disk space
        handle.truncate(model_file.MAX_FILE_BYTES + 1)
    assert "more than the limit of" in load_error(path)


def test_a_header_that_inflates_beyond_its_limit(tiny_model: LineModel, tmp_path: Path) -> None:
    arrays, header = parts_of(tiny_model)
    header["metadata"]["padding"] = " " * (model_file.MAX_HEADER_BYTES + 1)  # deflates to KiB
    data = packed(arrays, header)
    assert len(data) < 100_000
    assert "member 'model.json' inflates to" in load_error(write(tmp_path / "m.npz", data))


def test_a_member_that_lies_about_its_size(reason_model: LineModel, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The size in the zip directory is the writer's claim: inflating stops at the limit
    whatever it says (a smaller claim truncates the member, which its CRC then catches)."""
    data = bytearray(reason_model.to_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        infos = archive.infolist()
    largest = max(infos, key=lambda info: info.file_size)
    monkeypatch.setattr(model_file, "MAX_MEMBER_BYTES", largest.file_size - 1)
    claimed = (largest.file_size - 100).to_bytes(4, "little")
    data[largest.header_offset + 22:largest.header_offset + 26] = claimed
    central = bytes(data).find(b"PK\x01\x02")
    while data[central + 46:central + 46 + len(largest.filename)] != largest.filename.encode():
        central = bytes(data).find(b"PK\x01\x02", central + 4)
    data[central + 24:central + 28] = claimed
    message = load_error(write(tmp_path / "m.npz", bytes(data)))
    assert largest.filename in message or "corrupt" in message


def test_members_beyond_the_total_limit(tiny_model: LineModel, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model_file, "MAX_TOTAL_BYTES", 1000)
    assert "members inflate beyond 1000 bytes" in load_error(
        write(tmp_path / "m.npz", tiny_model.to_bytes()))


# --------------------------------------------------------------------------- tampered trees


def tampered(model: LineModel, tmp_path: Path, stage: str, name: str, change) -> str:
    """Load error of the model with one array of one stage changed by ``change(array)``."""
    arrays, header = parts_of(model)
    array = arrays[f"{stage}.{name}"].copy()
    result = change(array)
    arrays[f"{stage}.{name}"] = array if result is None else result
    return load_error(write(tmp_path / "m.npz", packed(arrays, header)))


def first_split(arrays_or_model, stage: str = "keep") -> int:
    arrays = arrays_or_model.keep_estimator.arrays if isinstance(
        arrays_or_model, LineModel) else arrays_or_model
    return int(np.flatnonzero(~arrays["is_leaf"])[0])


@pytest.mark.parametrize("stage", ["keep", "context", "reason"])
def test_a_child_pointing_back_at_the_root(reason_model: LineModel, tmp_path: Path,
                                           stage: str) -> None:
    """The file that made the compiled predictor spin for ever."""
    split = int(np.flatnonzero(~getattr(reason_model, f"{stage}_estimator").arrays["is_leaf"])[1])
    message = tampered(reason_model, tmp_path, stage, "right",
                       lambda a: a.__setitem__(split, 0))
    assert f"{stage} stage: right child index out of range" in message


def test_a_loop_below_the_root(shipped: LineModel, tmp_path: Path) -> None:
    """A split whose left child is a split, made that child's child: a cycle."""
    arrays = shipped.keep_estimator.arrays
    start = arrays["tree_start"]
    tree_of = np.repeat(np.arange(len(start) - 1), np.diff(start))
    leaf = arrays["is_leaf"]
    split = next(int(i) for i in np.flatnonzero(~leaf)
                 if i != start[tree_of[i]] and not leaf[start[tree_of[i]] + arrays["left"][i]])
    child = int(start[tree_of[split]] + arrays["left"][split])
    relative = split - int(start[tree_of[split]])

    def loop(left: np.ndarray) -> None:
        left[child] = relative
    message = tampered(shipped, tmp_path, "keep", "left", loop)
    assert "keep stage: tree nodes must each have one parent" in message


def test_a_node_with_two_parents(tiny_model: LineModel, tmp_path: Path) -> None:
    arrays = tiny_model.keep_estimator.arrays
    root = 0
    message = tampered(tiny_model, tmp_path, "keep", "right",
                       lambda right: right.__setitem__(root, arrays["left"][root]))
    assert "keep stage: tree nodes must each have one parent" in message


@pytest.mark.parametrize("value", [10**6, -1, 2**31 - 1])
@pytest.mark.parametrize("side", ["left", "right"])
def test_child_index_out_of_range(tiny_model: LineModel, tmp_path: Path, side: str,
                                  value: int) -> None:
    """The file that read out of bounds in the compiled predictor (SIGSEGV)."""
    split = first_split(tiny_model)
    message = tampered(tiny_model, tmp_path, "keep", side,
                       lambda a: a.__setitem__(split, value))
    assert f"keep stage: {side} child index out of range" in message


KEEP_COLUMNS = len(stage_columns()["keep"])


@pytest.mark.parametrize("value", [10**6, -1, KEEP_COLUMNS, KEEP_COLUMNS + 14])
def test_feature_index_out_of_range(tiny_model: LineModel, tmp_path: Path, value: int) -> None:
    split = first_split(tiny_model)
    message = tampered(tiny_model, tmp_path, "keep", "feature",
                       lambda a: a.__setitem__(split, max(value, a.size and value)))
    assert "keep stage: feature index out of range" in message


def test_nan_threshold(tiny_model: LineModel, tmp_path: Path) -> None:
    split = first_split(tiny_model)
    message = tampered(tiny_model, tmp_path, "keep", "threshold",
                       lambda a: a.__setitem__(split, np.nan))
    assert "thresholds must be numbers" in message


@pytest.mark.parametrize("value", [np.inf, np.nan])
def test_non_finite_leaf_value(tiny_model: LineModel, tmp_path: Path, value: float) -> None:
    leaf = int(np.flatnonzero(tiny_model.keep_estimator.arrays["is_leaf"])[0])
    message = tampered(tiny_model, tmp_path, "keep", "value",
                       lambda a: a.__setitem__(leaf, value))
    assert "values finite" in message


def test_an_unreachable_node(tiny_model: LineModel, tmp_path: Path) -> None:
    """Two splits that are each other's child: each has one parent, the root reaches neither."""
    arrays, header = parts_of(tiny_model)
    keep = {name.removeprefix("keep."): a.copy() for name, a in arrays.items()
            if name.startswith("keep.")}
    rel = int(keep["tree_start"][-1] - keep["tree_start"][-2])  # first new node, in its tree
    # rel: split (rel+1 leaf, rel+2 split); rel+2: split (rel back, rel+3 leaf).
    extra = {"feature": [0, 0, 0, 0], "threshold": [0.5, 0, 0.5, 0],
             "missing_left": [True, False, True, False], "left": [rel + 1, 0, rel, 0],
             "right": [rel + 2, 0, rel + 3, 0], "is_leaf": [False, True, False, True],
             "value": [0.0] * 4}
    for name, values in extra.items():
        keep[name] = np.concatenate((keep[name], np.asarray(values, keep[name].dtype)))
    keep["tree_start"][-1] += 4
    arrays.update({f"keep.{name}": a for name, a in keep.items()})
    message = load_error(write(tmp_path / "m.npz", packed(arrays, header)))
    assert "keep stage: tree nodes unreachable from their root" in message


def chain(depth: int, n_features: int) -> dict[str, np.ndarray]:
    """One tree whose splits go right ``depth`` times: a leaf to the left of each."""
    n = 2 * depth + 1
    left = np.zeros(n, np.int32)
    right = np.zeros(n, np.int32)
    leaf = np.ones(n, bool)
    for level in range(depth):
        node = 2 * level
        leaf[node] = False
        left[node], right[node] = node + 1, node + 2
    return {"feature": np.zeros(n, np.int32), "threshold": np.arange(n, dtype=np.float64),
            "missing_left": np.zeros(n, bool), "left": left, "right": right, "is_leaf": leaf,
            "value": np.arange(n, dtype=np.float64), "tree_start": np.array([0, n]),
            "baseline": np.zeros(1)}


def test_depth_is_bounded() -> None:
    fine = Forest(["body", "drop"], forest.SIGMOID, 3, chain(forest.MAX_DEPTH, 3))
    assert fine.max_depth == forest.MAX_DEPTH
    # The value of a row is the leaf left of the first split whose threshold it does not exceed.
    x = np.array([[2.5, 0, 0], [np.nan, 0, 0], [1e9, 0, 0]])
    raw = fine.raw(x)[:, 0]
    assert raw.tolist() == [5.0, 2 * forest.MAX_DEPTH, 2 * forest.MAX_DEPTH]
    with pytest.raises(ForestError, match="deeper than 64 levels"):
        Forest(["body", "drop"], forest.SIGMOID, 3, chain(forest.MAX_DEPTH + 1, 3))


def test_a_deep_tree_in_a_file(tiny_model: LineModel, tmp_path: Path) -> None:
    arrays, header = parts_of(tiny_model)
    deep = chain(1000, tiny_model.keep_estimator.n_features)
    arrays.update({f"keep.{name}": a for name, a in deep.items()})
    message = load_error(write(tmp_path / "m.npz", packed(arrays, header)))
    assert "keep stage: trees deeper than 64 levels" in message


@pytest.mark.parametrize(("name", "change", "reason"), [
    ("feature", lambda a: a.astype(np.float64), "must be 1-D int32, not 1-D float64"),
    ("threshold", lambda a: a.reshape(1, -1), "must be 1-D float64, not 2-D"),
    ("value", lambda a: a[:-1], "node arrays differ in length"),
    ("tree_start", lambda a: a[:-1], "tree offsets must start at 0 and end"),
    ("tree_start", lambda a: a[::-1].copy(), "tree offsets must start at 0"),
    ("baseline", lambda a: np.full(2, np.nan), "baseline must be 1 finite number"),
    ("is_leaf", lambda a: a.astype(np.uint8), "must be 1-D bool"),
])
def test_malformed_arrays(tiny_model: LineModel, tmp_path: Path, name: str, change,
                          reason: str) -> None:
    assert reason in tampered(tiny_model, tmp_path, "context", name, change)


# --------------------------------------------------------------------------- metadata


@pytest.mark.parametrize("threshold", ["abc", [0.5], None, True, 1.5, -0.1, {"x": 1}])
def test_body_threshold_must_be_a_number_from_0_to_1(tiny_model: LineModel, tmp_path: Path,
                                                     threshold: object) -> None:
    arrays, header = parts_of(tiny_model)
    header["body_threshold"] = threshold
    message = load_error(write(tmp_path / "m.npz", packed(arrays, header)))
    assert "body_threshold" in message


@pytest.mark.parametrize("threshold", ["abc", [0.5], True, 1.5, -0.1, {"x": 1}])
def test_html_body_threshold_must_be_a_number_from_0_to_1(tiny_model: LineModel,
                                                          tmp_path: Path,
                                                          threshold: object) -> None:
    arrays, header = parts_of(tiny_model)
    header["html_body_threshold"] = threshold
    message = load_error(write(tmp_path / "m.npz", packed(arrays, header)))
    assert "html_body_threshold must be a number from 0 to 1" in message


def test_a_model_without_an_html_threshold_uses_its_one_threshold_for_html(
        tiny_model: LineModel, tmp_path: Path) -> None:
    """Model files written before the two thresholds still load, and decide as before."""
    arrays, header = parts_of(tiny_model)
    header["body_threshold"] = 0.3
    del header["html_body_threshold"]
    header["metadata"].pop("html_body_threshold", None)
    model = LineModel.load(write(tmp_path / "m.npz", packed(arrays, header)))
    assert model.body_threshold == model.html_body_threshold == 0.3


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_body_threshold_not_a_number(tiny_model: LineModel, tmp_path: Path,
                                     literal: str) -> None:
    """JSON has no NaN, but Python's reader accepts one: it must not keep every line."""
    arrays, header = parts_of(tiny_model)
    header["body_threshold"] = "@@"
    text = json.dumps(header).replace('"@@"', literal)
    buffer = io.BytesIO(packed(arrays, {}))
    with zipfile.ZipFile(buffer) as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    members["model.json"] = text.encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    message = load_error(write(tmp_path / "m.npz", out.getvalue()))
    assert "unreadable model.json" in message


def test_a_changed_but_valid_threshold_loads(tiny_model: LineModel, tmp_path: Path) -> None:
    arrays, header = parts_of(tiny_model)
    header["body_threshold"] = 0.25
    header["html_body_threshold"] = 0.65
    model = LineModel.load(write(tmp_path / "m.npz", packed(arrays, header)))
    assert (model.body_threshold, model.html_body_threshold) == (0.25, 0.65)


@pytest.mark.parametrize(("key", "value", "reason"), [
    ("stages", [], "header must describe the stages"),
    ("labels", ["body", "zzz"], "labels in the header do not match"),
])
def test_malformed_header(tiny_model: LineModel, tmp_path: Path, key: str, value: object,
                          reason: str) -> None:
    arrays, header = parts_of(tiny_model)
    header[key] = value
    assert reason in load_error(write(tmp_path / "m.npz", packed(arrays, header)))


def test_unknown_link_and_classes(reason_model: LineModel, tmp_path: Path) -> None:
    arrays, header = parts_of(reason_model)
    header["stages"]["reason"]["link"] = ["softmax"]
    assert "reason stage: unknown link" in load_error(
        write(tmp_path / "m.npz", packed(arrays, header)))
    header["stages"]["reason"]["link"] = "softmax"
    header["stages"]["reason"]["classes"] = ["meta", "meta", "nav"]
    assert "classes must be distinct" in load_error(
        write(tmp_path / "m.npz", packed(arrays, header)))


def test_model_error_is_the_only_error(tmp_path: Path) -> None:
    """A sanity check of the helper: a good file loads, so the tests above test refusals."""
    from cleaner.model import DEFAULT_MODEL_PATH

    assert isinstance(LineModel.load(DEFAULT_MODEL_PATH), LineModel)
    with pytest.raises(ModelError):
        LineModel.from_bytes(b"PK\x05\x06" + b"\0" * 18, "x")


def test_a_zip_version_this_python_cannot_read() -> None:
    """Found by tests/fuzz_model.py: zipfile raises NotImplementedError for an archive
    that says it needs a newer zip version; that is damage like any other."""
    from cleaner.model import DEFAULT_MODEL_PATH

    data = bytearray(DEFAULT_MODEL_PATH.read_bytes())
    entry = data.index(b"PK\x01\x02")  # the first central directory entry
    data[entry + 6] = 96  # "version needed to extract": 9.6
    with pytest.raises(ModelError, match="not a zip archive"):
        LineModel.from_bytes(bytes(data), "x")


def test_a_short_fuzz_of_the_shipped_model() -> None:
    """`make fuzz` runs this for minutes; here a fixed, short run (see tests/fuzz_model.py)."""
    import fuzz_model

    assert fuzz_model.main(["--cases", "40", "--seed", "11", "--limit", "60"]) == 0
