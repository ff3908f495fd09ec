"""The line model: saving and safe loading, page lengths, prediction, fitting edge cases.

A model file comes from anyone, so every way the loader can refuse one is
tested with a file built for it, and each error must name the file and the
reason. Prediction is tested against its own definition (body when p(body)
reaches the threshold, else the likeliest reason), on the tiny model and on
a model with several reasons.
"""

from __future__ import annotations

import io
import os
import pickle
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import PAGES, rule_label
from threadpoolctl import threadpool_limits

from cleaner import model as model_module
from cleaner import model_file
from cleaner.decode import decode_bytes
from cleaner.features import FEATURE_NAMES, page_features
from cleaner.html_blocks import STRUCTURE_FEATURES
from cleaner.labels import BODY
from cleaner.model import (
    DROP,
    FORMAT_VERSION,
    LineModel,
    ModelError,
    default_model_path,
    page_lengths,
    page_thresholds,
)
from cleaner.page import make_page

Pages = list[tuple[np.ndarray, list[str]]]


def fixture_pages(formats: tuple[str, ...] = ("text", "html")) -> Pages:
    """(features, kept line texts) of every fixture page, as text and (HTML files) as HTML."""
    pages = []
    for path in sorted(PAGES.rglob("*")):
        if not path.is_file():
            continue
        text = decode_bytes(path.read_bytes())
        for input_format in formats:
            if input_format == "html" and not path.suffix.startswith(".htm"):
                continue
            page = make_page(text, input_format)
            features, kept = page_features(page)
            pages.append((features, [page.lines[i] for i in kept]))
    return pages


def stacked(pages: Pages) -> tuple[np.ndarray, list[int]]:
    return np.vstack([features for features, _ in pages]), [len(f) for f, _ in pages]


def reason_label(line: str) -> str:
    """Long lines are body; short ones are meta (with digits), nav (with a bar) or promo."""
    line = line.strip()
    if len(line) >= 40:
        return BODY
    if any(char.isdigit() for char in line):
        return "meta"
    return "nav" if "|" in line else "promo"


def fit_on(pages: Pages, label=reason_label, **kwargs) -> LineModel:
    """Fit on the pages repeated four times (so that leaves of 40 rows can split)."""
    features, lengths = stacked(pages * 4)
    labels = np.array([label(line) for _, lines in pages * 4 for line in lines], dtype=object)
    page_ids = np.repeat(np.arange(len(lengths)), lengths)
    return LineModel.fit(features, labels, page_ids, keep_iter=10, reason_iter=10, **kwargs)


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    """OpenMP on a few hundred rows is far slower than one thread (see cli._one_thread)."""
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def rows() -> tuple[np.ndarray, list[int]]:
    """Feature rows of all fixture pages and the pages' lengths."""
    return stacked(fixture_pages())


@pytest.fixture(scope="module")
def reason_model() -> LineModel:
    """A model with three reasons, so that choosing a reason is a real choice."""
    return fit_on(fixture_pages())


@pytest.fixture(params=["tiny", "reasons"])
def any_model(request: pytest.FixtureRequest, tiny_model: LineModel,
              reason_model: LineModel) -> LineModel:
    return tiny_model if request.param == "tiny" else reason_model


def parts_of(model: LineModel) -> tuple[dict[str, np.ndarray], dict]:
    """The arrays and the JSON header a model file holds (see ``LineModel.to_bytes``)."""
    return model_file.unpack(model.to_bytes())


def packed(arrays: dict[str, np.ndarray], header: dict) -> bytes:
    return model_file.pack(arrays, header)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def load_error(path: Path) -> str:
    """The message of the ModelError that loading ``path`` raises; it must name the file."""
    with pytest.raises(ModelError) as caught:
        LineModel.load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    return message


# --------------------------------------------------------------------------- save and load


def test_reason_model_has_three_reasons(reason_model: LineModel) -> None:
    assert reason_model.labels == ["body", "meta", "nav", "promo"]


def test_save_load_round_trip_gives_identical_probabilities_and_labels(
        any_model: LineModel, rows: tuple[np.ndarray, list[int]], tmp_path: Path) -> None:
    features, lengths = rows
    any_model.save(tmp_path / "model.npz")
    loaded = LineModel.load(tmp_path / "model.npz")
    assert loaded.labels == any_model.labels
    assert loaded.metadata == any_model.metadata
    np.testing.assert_array_equal(loaded.predict_proba(features, lengths),
                                  any_model.predict_proba(features, lengths))
    for threshold in (0.2, 0.5, 0.8):
        expected_labels, expected_p = any_model.predict(features, lengths, threshold)
        labels, p = loaded.predict(features, lengths, threshold)
        assert labels.tolist() == expected_labels.tolist()
        np.testing.assert_array_equal(p, expected_p)


def test_metadata_survives_the_round_trip(tiny_model: LineModel, tmp_path: Path) -> None:
    metadata = {"body_threshold": 0.4, "trained": "2024-05-01", "corpora": ["a", "b"]}
    model = LineModel(tiny_model.keep_estimator, tiny_model.context_estimator,
                      tiny_model.reason_estimator, metadata)
    model.save(tmp_path / "model.npz")
    assert LineModel.load(tmp_path / "model.npz").metadata == metadata


def test_save_creates_missing_directories(tiny_model: LineModel, tmp_path: Path) -> None:
    tiny_model.save(tmp_path / "a" / "b" / "model.npz")
    assert LineModel.load(tmp_path / "a" / "b" / "model.npz").labels == tiny_model.labels


def test_save_leaves_no_temporary_file(tiny_model: LineModel, tmp_path: Path) -> None:
    tiny_model.save(tmp_path / "model.npz")
    tiny_model.save(tmp_path / "model.npz")  # and again, over the first
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]


def test_save_replaces_the_target_only_when_the_new_file_is_complete(
        tiny_model: LineModel, reason_model: LineModel, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "model.npz"
    target.write_bytes(b"the old model")
    new_bytes = reason_model.to_bytes()
    seen = []

    def checking_replace(source: os.PathLike, destination: os.PathLike) -> None:
        # At the moment of the swap the old file is intact and the new one complete.
        seen.append((Path(source).read_bytes(), Path(destination).read_bytes()))
        real_replace(source, destination)

    real_replace = os.replace
    monkeypatch.setattr(model_module.os, "replace", checking_replace)
    reason_model.save(target)
    assert len(seen) == 1
    written, old = seen[0]
    assert old == b"the old model"
    assert LineModel.from_bytes(written).labels == LineModel.from_bytes(new_bytes).labels
    assert LineModel.load(target).labels == reason_model.labels
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]


def test_a_failed_save_keeps_the_old_model(tiny_model: LineModel, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "model.npz"
    tiny_model.save(target)
    before = target.read_bytes()

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(model_module.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tiny_model.save(target)
    assert target.read_bytes() == before


# --------------------------------------------------------------------------- refusing files


def test_missing_file(tmp_path: Path) -> None:
    message = load_error(tmp_path / "nowhere.npz")
    assert "model file not found" in message


def test_directory_instead_of_a_file(tmp_path: Path) -> None:
    (tmp_path / "model.npz").mkdir()
    assert "a directory" in load_error(tmp_path / "model.npz")


def test_non_zip_file(tmp_path: Path) -> None:
    path = write(tmp_path / "model.npz", b"body\tThis is a labelled page, not a model.\n")
    assert "not a cleaner model file (not a zip archive" in load_error(path)


def test_empty_file(tmp_path: Path) -> None:
    assert "not a zip archive" in load_error(write(tmp_path / "model.npz", b""))


def test_truncated_file(tiny_model: LineModel, tmp_path: Path) -> None:
    data = tiny_model.to_bytes()
    path = write(tmp_path / "model.npz", data[: len(data) // 2])
    assert "not a cleaner model file (not a zip archive" in load_error(path)


def test_damaged_archive_member(tiny_model: LineModel, tmp_path: Path) -> None:
    """The zip directory is intact but a member's bytes are not: the CRC check catches it."""
    data = bytearray(tiny_model.to_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        member = archive.getinfo("keep.threshold.npy")
    start = member.header_offset
    name_length, extra_length = struct.unpack("<HH", data[start + 26:start + 30])
    body = start + 30 + name_length + extra_length
    for i in range(body, body + min(member.compress_size, 64)):
        data[i] ^= 0x55
    message = load_error(write(tmp_path / "model.npz", bytes(data)))
    assert "corrupt model file" in message


def test_zip_that_is_not_a_model(tmp_path: Path) -> None:
    path = tmp_path / "model.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert "not a cleaner model file (no model.json)" in load_error(path)


def test_a_pickled_array_is_refused_unread(tiny_model: LineModel, tmp_path: Path) -> None:
    arrays, header = parts_of(tiny_model)
    arrays["keep.value"] = np.array([os.system], dtype=object)
    buffer = io.BytesIO(packed({}, header))
    with zipfile.ZipFile(buffer, "a") as archive:
        for name, array in arrays.items():
            member = io.BytesIO()
            np.save(member, array, allow_pickle=True)
            archive.writestr(f"{name}.npy", member.getvalue())
    message = load_error(write(tmp_path / "model.npz", buffer.getvalue()))
    assert "unreadable array 'keep.value.npy'" in message


@pytest.mark.parametrize("version", [1, 2, 3, 4, 7, "6", None, True])
def test_wrong_format_version(tiny_model: LineModel, tmp_path: Path, version: object) -> None:
    arrays, header = parts_of(tiny_model)
    header["format_version"] = version
    message = load_error(write(tmp_path / "model.npz", packed(arrays, header)))
    assert f"model format version {version!r}" in message
    assert f"reads version {FORMAT_VERSION}" in message
    assert "retrain" in message


def test_the_shipped_skops_format_is_refused_with_advice(tmp_path: Path) -> None:
    """A format-2 file (a skops zip) is not read as something else."""
    path = tmp_path / "old.skops"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("schema.json", '{"__class__": "dict"}')
    assert "no model.json" in load_error(path)


@pytest.mark.parametrize(("stage", "change"), [
    (stage, change) for stage in ("keep", "context", "reason")
    for change in ("one-missing", "one-extra", "renamed", "reordered", "context-reordered")
    if not (stage == "keep" and change == "context-reordered")  # it reads no context columns
])
def test_other_column_names(tiny_model: LineModel, tmp_path: Path, stage: str,
                            change: str) -> None:
    """Every column each stage reads is checked, the second stage's context columns too."""
    arrays, header = parts_of(tiny_model)
    names = header["stages"][stage]["feature_names"]
    if change == "one-missing":
        names.pop()
    elif change == "one-extra":
        names.append("stopword_density")
    elif change == "renamed":
        names[0] = "log_characters"
    elif change == "reordered":
        names[0], names[1] = names[1], names[0]
    else:
        names[-1], names[-2] = names[-2], names[-1]
    message = load_error(write(tmp_path / "model.npz", packed(arrays, header)))
    assert f"{stage} stage was trained on other columns than this cleaner computes" in message


def test_other_format_name(tiny_model: LineModel, tmp_path: Path) -> None:
    arrays, header = parts_of(tiny_model)
    header["format"] = "someone-elses-model"
    assert load_error(write(tmp_path / "m.npz", packed(arrays, header))).endswith(
        "not a cleaner model file")


def test_header_of_something_else(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model.json", "[1, 2, 3]")
    assert load_error(path).endswith("model.json is not a JSON object")


def test_missing_stage_array(tiny_model: LineModel, tmp_path: Path) -> None:
    arrays, header = parts_of(tiny_model)
    del arrays["reason.value"]
    message = load_error(write(tmp_path / "m.npz", packed(arrays, header)))
    assert "reason stage: missing array 'value'" in message


def test_extra_array(tiny_model: LineModel, tmp_path: Path) -> None:
    arrays, header = parts_of(tiny_model)
    arrays["payload"] = np.zeros(3)
    message = load_error(write(tmp_path / "m.npz", packed(arrays, header)))
    assert "unexpected arrays" in message


def test_loader_never_unpickles(tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model loader unpickled something")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, forbidden)
    with pytest.raises(AssertionError):  # the patch is live
        pickle.loads(pickle.dumps(1))
    model = LineModel.load(tiny_model_path)
    assert model.labels == ["body", "nav"]


def test_default_model_path_follows_the_environment(tiny_model_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEANER_MODEL", str(tiny_model_path))
    assert default_model_path() == tiny_model_path
    assert LineModel.load().labels == ["body", "nav"]
    monkeypatch.delenv("CLEANER_MODEL")
    assert default_model_path() == model_module.DEFAULT_MODEL_PATH


# --------------------------------------------------------------------------- the constructor


def test_keep_model_must_predict_body_and_drop(reason_model: LineModel) -> None:
    with pytest.raises(ModelError, match="keep models must predict exactly body/drop"):
        LineModel(reason_model.reason_estimator, reason_model.context_estimator,
                  reason_model.reason_estimator)


def test_reason_model_must_not_predict_body(reason_model: LineModel) -> None:
    with pytest.raises(ModelError, match=r"must not: \['body', 'drop'\]"):
        LineModel(reason_model.keep_estimator, reason_model.context_estimator,
                  reason_model.keep_estimator)


# --------------------------------------------------------------------------- page lengths


@pytest.mark.parametrize(("pages", "lengths"), [
    ([], []),
    ([0], [1]),
    ([0, 0, 0], [3]),
    ([0, 0, 1, 1, 1, 2], [2, 3, 1]),
    ([7, 7, 3, 9, 9], [2, 1, 2]),
    ([0, 1, 0], [1, 1, 1]),  # runs, not distinct ids
    ([-1, -1, 5], [2, 1]),
])
def test_page_lengths(pages: list[int], lengths: list[int]) -> None:
    assert page_lengths(np.array(pages, dtype=np.int64)) == lengths


# --------------------------------------------------------------------------- prediction


def test_probabilities_have_one_column_per_label_and_sum_to_one(
        any_model: LineModel, rows: tuple[np.ndarray, list[int]]) -> None:
    features, lengths = rows
    proba = any_model.predict_proba(features, lengths)
    assert proba.shape == (len(features), len(any_model.labels))
    assert (proba >= 0).all() and (proba <= 1).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("threshold", [0.0, 0.25, 0.5, 0.75, 1.0])
def test_predict_is_body_exactly_when_p_body_reaches_the_threshold(
        any_model: LineModel, rows: tuple[np.ndarray, list[int]], threshold: float) -> None:
    features, lengths = rows
    proba = any_model.predict_proba(features, lengths)
    labels, probability = any_model.predict(features, lengths, threshold,
                                            empty_page_margin=None)
    is_body = proba[:, 0] >= threshold
    assert (labels == BODY).tolist() == is_body.tolist()
    # By default a page none of whose rows reaches the threshold keeps its likeliest.
    rescued = proba[:, 0] >= page_thresholds(proba[:, 0], threshold, lengths)
    assert (any_model.predict(features, lengths, threshold)[0] == BODY).tolist() == \
        rescued.tolist()
    np.testing.assert_allclose(probability[is_body], proba[is_body, 0])
    # A dropped row gets the likeliest reason, with that reason's column as probability.
    reasons = proba[~is_body, 1:]
    best = reasons.argmax(axis=1)
    assert labels[~is_body].tolist() == [any_model.labels[1 + i] for i in best]
    np.testing.assert_allclose(probability[~is_body], reasons[np.arange(len(best)), best])


def test_threshold_equal_to_a_rows_p_body_keeps_that_row(
        reason_model: LineModel, rows: tuple[np.ndarray, list[int]]) -> None:
    features, lengths = rows
    p_body = reason_model.predict_proba(features, lengths)[:, 0]
    row = int(np.argsort(p_body)[len(p_body) // 2])
    labels, _ = reason_model.predict(features, lengths, float(p_body[row]))
    assert labels[row] == BODY
    assert set(labels[p_body < p_body[row]]) <= set(reason_model.labels[1:])


def test_reason_model_chooses_among_several_reasons(
        reason_model: LineModel, rows: tuple[np.ndarray, list[int]]) -> None:
    features, lengths = rows
    labels, _ = reason_model.predict(features, lengths, body_threshold=1.01,
                                     empty_page_margin=None)
    assert len(set(labels.tolist())) >= 2
    assert set(labels.tolist()) <= {"meta", "nav", "promo"}


def test_page_lengths_change_context_not_shape(
        reason_model: LineModel, rows: tuple[np.ndarray, list[int]]) -> None:
    """Pages are predicted in context: one page alone equals the same page in a batch."""
    features, lengths = rows
    together = reason_model.predict_proba(features, lengths)
    first = lengths[0]
    alone = reason_model.predict_proba(features[:first])
    np.testing.assert_allclose(together[:first], alone)


def test_page_lengths_must_add_up(tiny_model: LineModel,
                                  rows: tuple[np.ndarray, list[int]]) -> None:
    features, lengths = rows
    with pytest.raises(ValueError, match="add up"):
        tiny_model.predict_proba(features, [*lengths, 1])
    with pytest.raises(ValueError, match="add up"):
        tiny_model.predict(features, lengths[:-1])


def test_no_rows(any_model: LineModel) -> None:
    empty = np.zeros((0, len(FEATURE_NAMES)), dtype=np.float32)
    assert any_model.predict_proba(empty, []).shape == (0, len(any_model.labels))
    labels, probability = any_model.predict(empty, [])
    assert len(labels) == 0 and len(probability) == 0


def test_tiny_model_learns_its_rule(tiny_model: LineModel) -> None:
    """The conftest model keeps long lines: check it on the page it was trained on."""
    features, lines = fixture_pages(("text",))[0]
    labels, _ = tiny_model.predict(features)
    assert labels.tolist() == [rule_label(line) for line in lines]


# --------------------------------------------------------------------------- fitting


def test_fit_on_text_pages_only(rows: tuple[np.ndarray, list[int]]) -> None:
    """Structure features are all missing; the model still fits and reads HTML pages."""
    text_pages = fixture_pages(("text",))
    features, _ = stacked(text_pages)
    structure = [FEATURE_NAMES.index(name) for name in STRUCTURE_FEATURES]
    assert structure and np.isnan(features[:, structure]).all()
    model = fit_on(text_pages)
    assert model.labels == ["body", "meta", "nav", "promo"]
    all_features, lengths = rows  # HTML pages included
    proba = model.predict_proba(all_features, lengths)
    assert np.isfinite(proba).all()
    labels, _ = model.predict(*stacked(text_pages))
    lines = [line for _, page_lines in text_pages for line in page_lines]
    expected_body = np.array([reason_label(line) == BODY for line in lines])
    agree = np.mean((labels == BODY) == expected_body)
    assert agree > 0.9


def test_fit_leaves_the_features_unchanged() -> None:
    text_pages = fixture_pages(("text",))
    features, lengths = stacked(text_pages * 4)
    before = features.copy()
    labels = np.array([reason_label(line) for _, lines in text_pages * 4 for line in lines])
    LineModel.fit(features, labels, np.repeat(np.arange(len(lengths)), lengths),
                  keep_iter=3, reason_iter=3)
    np.testing.assert_array_equal(features, before)


def test_fit_with_a_single_dropped_label() -> None:
    model = fit_on(fixture_pages(), label=rule_label)
    assert model.labels == ["body", "nav"]
    features, lengths = stacked(fixture_pages())
    proba = model.predict_proba(features, lengths)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    labels, _ = model.predict(features, lengths)
    assert set(labels.tolist()) == {"body", "nav"}


def test_fit_with_one_dropped_row() -> None:
    pages = fixture_pages(("text",))
    first_line = pages[0][1][0]

    def only_first_dropped(line: str) -> str:
        return "legal" if line == first_line else BODY

    model = fit_on(pages, label=only_first_dropped)
    assert model.labels == ["body", "legal"]


def test_fit_is_deterministic() -> None:
    pages = fixture_pages(("text",))
    first, second = fit_on(pages), fit_on(pages)
    features, lengths = stacked(pages)
    np.testing.assert_array_equal(first.predict_proba(features, lengths),
                                  second.predict_proba(features, lengths))


def test_fit_respects_fit_mask_and_metadata() -> None:
    """Rows outside the mask give context but teach nothing: here, no meta lines are fitted."""
    pages = fixture_pages(("text",))
    features, lengths = stacked(pages * 4)
    labels = np.array([reason_label(line) for _, lines in pages * 4 for line in lines])
    model = LineModel.fit(features, labels, np.repeat(np.arange(len(lengths)), lengths),
                          fit_mask=labels != "meta", metadata={"note": "masked"},
                          keep_iter=5, reason_iter=5)
    assert model.labels == ["body", "nav", "promo"]
    assert model.metadata == {"note": "masked"}


def test_drop_is_the_keep_models_second_class(tiny_model: LineModel) -> None:
    for estimator in (tiny_model.keep_estimator, tiny_model.context_estimator):
        assert [str(c) for c in estimator.classes_] == [BODY, DROP]



# --------------------------------------------------------------------------- regressions
# Bugs found by review, fixed; each test states the promised behaviour.


def test_mismatched_estimators_error_names_the_file(reason_model: LineModel,
                                                    tmp_path: Path) -> None:
    arrays, header = parts_of(reason_model)
    header["stages"]["keep"]["classes"] = header["stages"]["reason"]["classes"]
    message = load_error(write(tmp_path / "m.npz", packed(arrays, header)))
    assert "body/drop" in message


@pytest.mark.parametrize("metadata", ["abc", 5])
def test_metadata_that_is_not_a_dict_is_refused(tiny_model: LineModel, tmp_path: Path,
                                                metadata: object) -> None:
    arrays, header = parts_of(tiny_model)
    header["metadata"] = metadata
    assert "metadata is not a mapping" in load_error(
        write(tmp_path / "m.npz", packed(arrays, header)))


def test_fit_with_only_body_lines_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="both body lines and dropped lines"):
        fit_on(fixture_pages(("text",)), label=lambda line: BODY)


def test_a_failed_write_leaves_no_temporary_file(tiny_model: LineModel, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    real_write_bytes = Path.write_bytes

    def disk_full(self: Path, data: bytes) -> int:
        real_write_bytes(self, data[:100])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", disk_full)
    with pytest.raises(OSError):
        tiny_model.save(tmp_path / "model.npz")
    assert os.listdir(tmp_path) == []


def test_loading_and_predicting_never_import_sklearn(tiny_model_path: Path) -> None:
    """scikit-learn costs a second of start-up and an OpenMP pool; prediction needs neither."""
    import subprocess
    import sys

    code = ("import sys, numpy as np\n"
            "from cleaner.model import LineModel, one_thread\n"
            "from cleaner.features import FEATURE_NAMES\n"
            "with one_thread():\n"
            f"    model = LineModel.load({str(tiny_model_path)!r})\n"
            "    model.predict(np.zeros((3, len(FEATURE_NAMES)), np.float32))\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'skops')))\n")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True).stdout
    assert out.strip() == "[]"


def test_numpy_numbers_in_metadata_are_saved_as_numbers(tiny_model: LineModel,
                                                       tmp_path: Path) -> None:
    metadata = {"rows": np.int64(12), "share": np.float32(0.5), "counts": np.arange(3)}
    model = LineModel(tiny_model.keep_estimator, tiny_model.context_estimator,
                      tiny_model.reason_estimator, metadata)
    model.save(tmp_path / "m.npz")
    assert LineModel.load(tmp_path / "m.npz").metadata == {
        "rows": 12, "share": 0.5, "counts": [0, 1, 2]}


@pytest.mark.parametrize("metadata", [{"x": float("nan")}, {"x": object()}])
def test_metadata_that_cannot_be_saved_fails_before_fitting(metadata: dict) -> None:
    """Training takes hours: a model that could not be saved must not be fitted."""
    features, _ = stacked(fixture_pages(("text",)))
    labels = np.array(["body", "nav"] * len(features))[:len(features)]
    with pytest.raises((ValueError, TypeError), match="JSON|Out of range|cannot be stored"):
        LineModel.fit(features, labels, metadata=metadata, keep_iter=10**9)


def test_features_of_another_width_fail_before_fitting() -> None:
    features, lengths = stacked(fixture_pages(("text",)))
    labels = np.array(["body", "nav"] * len(features))[:len(features)]
    with pytest.raises(ValueError, match="columns of FEATURE_NAMES"):
        LineModel.fit(features[:, :-1], labels, keep_iter=10**9)


def test_page_thresholds_lower_only_on_pages_where_no_row_reaches_them() -> None:
    # Three pages (one empty) in one batch, each row with its page's threshold.
    p_body = np.array([0.9, 0.2, 0.35, 0.3, 0.1])
    thresholds = np.array([0.5, 0.5, 0.6, 0.6, 0.6])
    got = page_thresholds(p_body, thresholds, [2, 0, 3], margin=0.1)
    assert np.allclose(got, [0.5, 0.5, 0.3, 0.3, 0.3])  # 0.35 - 0.1 is under 0.6 / 2
    assert (p_body >= got).tolist() == [True, False, True, True, False]
    assert np.allclose(page_thresholds(p_body[2:], 0.6, [3], margin=0.2), 0.3)
    assert np.allclose(page_thresholds(p_body[2:], 0.4, [3], margin=0.1), 0.25)
    # A page whose best row is under half the threshold stays empty (chrome only).
    low = np.array([0.05, 0.2])
    assert not (low >= page_thresholds(low, 0.5, [2], margin=0.2)).any()
    assert page_thresholds(np.zeros(0), 0.5, []).shape == (0,)


# ------------------------------------------------------------------ one model per input format


@pytest.fixture(scope="module")
def per_format() -> tuple[LineModel, LineModel, LineModel]:
    """(text model, HTML model, the text model holding the HTML one): the two are fitted
    on different rules, so that which one read a page shows in its labels."""
    text = fit_on(fixture_pages(("text",)))
    html = fit_on(fixture_pages(("html",)), label=rule_label)
    return text, html, text.with_html(html)


def test_html_pages_are_read_by_the_html_model(per_format) -> None:
    text, html, both = per_format
    text_rows, text_lengths = stacked(fixture_pages(("text",)))
    html_rows, html_lengths = stacked(fixture_pages(("html",)))
    features = np.vstack([text_rows, html_rows])
    lengths = text_lengths + html_lengths
    is_html = np.array([False] * len(text_lengths) + [True] * len(html_lengths))
    labels, p = both.predict(features, lengths, 0.5, html=is_html)
    text_labels, text_p = text.predict(text_rows, text_lengths, 0.5)
    html_labels, html_p = html.predict(html_rows, html_lengths, 0.5)
    assert labels.tolist() == text_labels.tolist() + html_labels.tolist()
    np.testing.assert_array_equal(p, np.concatenate([text_p, html_p]))
    assert set(html_labels) != set(text_labels)  # the two models do differ
    # Without the flags every page is read by the text model.
    assert both.predict(features, lengths, 0.5)[0].tolist() == \
        text.predict(features, lengths, 0.5)[0].tolist()


def test_per_format_probabilities_use_the_text_models_columns(per_format) -> None:
    text, html, both = per_format
    html_rows, html_lengths = stacked(fixture_pages(("html",)))
    proba = both.predict_proba(html_rows, html_lengths,
                               html=np.ones(len(html_lengths), bool))
    assert proba.shape == (len(html_rows), len(text.labels))
    expected = html.predict_proba(html_rows, html_lengths)
    for column, label in enumerate(html.labels):
        np.testing.assert_array_equal(proba[:, text.labels.index(label)], expected[:, column])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_per_format_model_round_trip(per_format, tmp_path: Path) -> None:
    _, _, both = per_format
    both.save(tmp_path / "m.npz")
    loaded = LineModel.load(tmp_path / "m.npz")
    assert loaded.html_model is not None and loaded.html_model.labels == both.html_model.labels
    features, lengths = stacked(fixture_pages())
    is_html = np.arange(len(lengths)) % 2 == 1
    for model in (both, loaded):
        assert model.predict(features, lengths, 0.5, html=is_html)[0].tolist() == \
            both.predict(features, lengths, 0.5, html=is_html)[0].tolist()


def test_html_arrays_without_their_description_are_refused(per_format, tmp_path: Path) -> None:
    arrays, header = parts_of(per_format[2])
    del header["html"]
    message = load_error(write(tmp_path / "m.npz", packed(arrays, header)))
    assert "unexpected arrays" in message


def test_a_damaged_html_model_is_named(per_format, tmp_path: Path) -> None:
    arrays, header = parts_of(per_format[2])
    del arrays["html.context.value"]
    message = load_error(write(tmp_path / "m.npz", packed(arrays, header)))
    assert "HTML model: context stage: missing array 'value'" in message
    arrays, header = parts_of(per_format[2])
    header["html"]["labels"] = ["body", "legal"]
    message = load_error(write(tmp_path / "m2.npz", packed(arrays, header)))
    assert "HTML model: labels in the header" in message
    arrays, header = parts_of(per_format[2])
    header["html"] = ["not", "a", "mapping"]
    assert "not a mapping" in load_error(write(tmp_path / "m3.npz", packed(arrays, header)))


def test_the_html_model_cannot_hold_another(per_format) -> None:
    text, html, both = per_format
    with pytest.raises(ModelError, match="cannot hold a model of its own"):
        text.with_html(both)


def test_the_html_model_gives_no_label_the_text_model_lacks(per_format) -> None:
    # predict_proba gives one column per label of the text model.
    text, html, _ = per_format
    with pytest.raises(ModelError, match=r"labels the text model does not: \['meta', 'promo'\]"):
        html.with_html(text)


# ------------------------------------------------------------------ a bag of keep stages


@pytest.fixture(scope="module")
def bagged() -> tuple[LineModel, LineModel, LineModel]:
    """(a model, another fitted on other labels, the first holding the second's keep
    stages): the two disagree on some lines, so the mean shows."""
    first = fit_on(fixture_pages(("text",)))
    second = fit_on(fixture_pages(("text",)), reasons=False,
                    label=lambda line: BODY if len(line.strip()) >= 80 else "nav")
    return first, second, first.with_bag([second.keep_stages])


def test_a_bag_averages_p_body_and_keeps_the_first_models_reasons(bagged) -> None:
    first, second, both = bagged
    features, lengths = stacked(fixture_pages(("text",)))
    p_first = first.predict_proba(features, lengths)[:, 0]
    p_second = second.predict_proba(features, lengths)[:, 0]
    assert not np.allclose(p_first, p_second)
    proba = both.predict_proba(features, lengths)
    np.testing.assert_allclose(proba[:, 0], (p_first + p_second) / 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    labels, _ = both.predict(features, lengths, 0.5)
    dropped = labels != BODY
    assert dropped.any() and (~dropped).any()
    assert ((proba[:, 0] >= 0.5) == ~dropped).all()
    assert set(labels[dropped]) <= set(first.labels[1:])
    # The second model was fitted without reasons: its reason stage is the prior alone.
    assert second.reason_estimator.n_trees <= len(second.labels) - 1


def test_a_bagged_model_round_trips_with_an_html_model(bagged, per_format, tmp_path) -> None:
    _, _, both = bagged
    model = both.with_html(per_format[1].with_bag([both.bag[0]]))
    model.save(tmp_path / "m.npz")
    loaded = LineModel.load(tmp_path / "m.npz")
    assert len(loaded.bag) == 1 and len(loaded.html_model.bag) == 1
    features, lengths = stacked(fixture_pages())
    is_html = np.arange(len(lengths)) % 2 == 1
    np.testing.assert_array_equal(loaded.predict_proba(features, lengths, html=is_html),
                                  model.predict_proba(features, lengths, html=is_html))
    assert not np.array_equal(loaded.predict_proba(features, lengths)[:, 0],
                              per_format[0].predict_proba(features, lengths)[:, 0])


def _without(mapping: dict, key: str) -> None:
    del mapping[key]


@pytest.mark.parametrize(("damage", "expected"), [
    (lambda arrays, header: _without(arrays, "bag0.context.value"),
     "bag model 0: context stage: missing array 'value'"),
    (lambda arrays, header: _without(header, "bag"), "unexpected arrays"),
    # described twice, but the second has no arrays of its own
    (lambda arrays, header: header["bag"].append(header["bag"][0]), "bag model 1: "),
    (lambda arrays, header: header.update(bag={"keep": {}}), "the bag's description is not a list"),
    (lambda arrays, header: header["bag"][0].update(reason=header["stages"]["reason"]),
     "bag model 0: header must describe the stages ['keep', 'context']"),
])
def test_a_damaged_bag_is_named(bagged, tmp_path: Path, damage, expected: str) -> None:
    arrays, header = parts_of(bagged[2])
    damage(arrays, header)
    assert expected in load_error(write(tmp_path / "m.npz", packed(arrays, header)))


def test_version_5_files_are_read_as_files_without_a_bag(bagged, tmp_path: Path) -> None:
    first, _, both = bagged
    arrays, header = parts_of(first)
    header["format_version"] = 5
    loaded = LineModel.load(write(tmp_path / "m.npz", packed(arrays, header)))
    features, lengths = stacked(fixture_pages(("text",)))
    np.testing.assert_array_equal(loaded.predict_proba(features, lengths),
                                  first.predict_proba(features, lengths))
    arrays, header = parts_of(both)
    header["format_version"] = 5
    assert "a bag in a model file of version 5" in load_error(
        write(tmp_path / "m2.npz", packed(arrays, header)))


def test_a_bag_holds_keep_stages_only(bagged) -> None:
    first, second, _ = bagged
    with pytest.raises(ModelError, match="a bag holds KeepStages"):
        first.with_bag([second])


def test_the_shipped_text_model_averages_two_fits_and_can_read_with_one() -> None:
    """What the README says: text pages are read by two fits averaged, and
    ``with_bag([])`` reads them with the first alone (faster, the model shipped before)."""
    model = LineModel.load()
    assert len(model.bag) == 1
    assert model.html_model is not None and not model.html_model.bag
    features, lengths = stacked(fixture_pages(("text",)))
    p_first = model.with_bag([]).predict_proba(features, lengths)[:, 0]
    p_second = model.bag[0].body_and_staged(features, lengths, None, None)[0]
    np.testing.assert_allclose(model.predict_proba(features, lengths)[:, 0],
                               (p_first + p_second) / 2)
    assert not np.allclose(p_first, p_second)
