"""The README's retraining loop, end to end: pre-label with --explain, fix labels, train,
clean with --model. Training is tiny (a few boosting rounds, no corpora) to stay fast."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import PAGES

from cleaner.cli import main
from cleaner.labels import read_labelled, write_labelled
from cleaner.model import DEFAULT_MODEL_PATH, LineModel
from cleaner.training.train import BODY_THRESHOLD, HTML_BODY_THRESHOLD, SHIPPED_SEEDS

FAST = ["--keep-iterations", "3", "--reason-iterations", "3"]


def test_prelabel_fix_train_and_use_the_new_model(tiny_model_path: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture) -> None:
    pages = tmp_path / "pages"
    pages.mkdir()
    for name in ("harbour.txt", "mandi.txt"):
        shutil.copy(PAGES / name, pages / name)
    # 1. pre-label with the current model
    assert main(["clean", str(pages), "-o", str(tmp_path / "labelled"), "--explain",
                 "--model", str(tiny_model_path)]) == 0
    labelled = sorted((tmp_path / "labelled").glob("*.labels.tsv"))
    assert [path.name for path in labelled] == ["harbour.labels.tsv", "mandi.labels.tsv"]
    # 2. fix labels in "an editor": the first line of each page is its title
    for path in labelled:
        lines = read_labelled(path)
        lines[0] = dataclasses.replace(lines[0], label="title")
        write_labelled(path, lines, overwrite=True)
    # 3. train on them (added to the shipped seeds), into a new file
    model_path = tmp_path / "models" / f"mine{DEFAULT_MODEL_PATH.suffix}"
    capsys.readouterr()
    assert main(["train", "--labelled", str(tmp_path / "labelled"), "-o", str(model_path),
                 *FAST]) == 0
    err = capsys.readouterr().err
    seeds = sorted(SHIPPED_SEEDS.glob("*.labels.tsv"))
    assert f"of {len(seeds) + 2} hand-labelled pages" in err
    assert "no corpora (--data)" in err
    model = LineModel.load(model_path)
    assert {Path(p).name for p in model.metadata["labelled"]} == {
        *(p.name for p in seeds), "harbour.labels.tsv", "mandi.labels.tsv"}
    # a retrained model decides at the thresholds chosen for the shipped recipe, written
    # into it (not the loader's fallback)
    assert model.body_threshold == model.metadata["body_threshold"] == BODY_THRESHOLD
    assert model.html_body_threshold == model.metadata["html_body_threshold"] == HTML_BODY_THRESHOLD
    card = model_path.with_name(model_path.name + ".card.md").read_text(encoding="utf-8")
    assert (f"- Command: `cleaner train --labelled {tmp_path / 'labelled'} -o {model_path} "
            "--keep-iterations 3 --reason-iterations 3`") in card
    # 4. use it
    assert main(["clean", str(pages), "-o", str(tmp_path / "out"),
                 "--model", str(model_path)]) == 0
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["harbour.txt",
                                                                          "mandi.txt"]


def test_train_never_replaces_a_model_unless_told(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture) -> None:
    existing = tmp_path / f"model{DEFAULT_MODEL_PATH.suffix}"
    existing.write_bytes(b"keep me")
    assert main(["train", "-o", str(existing), *FAST]) == 2
    assert "exists; --overwrite replaces it" in capsys.readouterr().err
    assert existing.read_bytes() == b"keep me"


def test_train_refuses_a_missing_labelled_folder(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture) -> None:
    assert main(["train", "--labelled", str(tmp_path / "nowhere"),
                 "-o", str(tmp_path / "m")]) == 2
    assert "folder of labelled pages not found" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def _tiny_corpus(folder: Path) -> None:
    """A corpus folder in the gold format: fixture pages, some of them held out."""
    import gzip
    import json

    from cleaner.training.corpus import is_held_out

    body = ("The harbour authority said on Monday that the new quay will open in the spring, "
            "after two years of building work and a long dispute over its cost.")
    (folder / "html").mkdir(parents=True)
    ids = [f"p{i}" for i in range(40)]
    held = [i for i in ids if is_held_out("tiny", i)][:3]
    kept = [i for i in ids if not is_held_out("tiny", i)][:4]
    with open(folder / "gold.jsonl", "w", encoding="utf-8") as gold:
        for page_id in held + kept:
            html = (f"<html><body><nav><a href='/'>Home</a> <a href='/n'>News</a></nav>"
                    f"<h1>Quay opens</h1><p>{body}</p><p>{body}</p>"
                    "<footer>All rights reserved</footer></body></html>")
            (folder / "html" / f"{page_id}.html.gz").write_bytes(gzip.compress(html.encode()))
            gold.write(json.dumps({"id": page_id, "body": f"{body}\n\n{body}"}) + "\n")


def test_training_with_corpora_writes_a_quick_held_out_figure_into_the_card(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    _tiny_corpus(tmp_path / "data" / "tiny")
    monkeypatch.chdir(tmp_path)  # the row cache goes under ./build
    model_path = tmp_path / f"m{DEFAULT_MODEL_PATH.suffix}"
    assert main(["train", "--data", str(tmp_path / "data"), "-o", str(model_path), *FAST]) == 0
    card = model_path.with_name(model_path.name + ".card.md").read_text(encoding="utf-8")
    assert "quick held-out check after training" in card
    row = next(line for line in card.splitlines() if line.startswith("tiny "))
    pages, html_f1, text_f1 = row.split()[1:]
    assert pages == "3" and 0.0 <= float(html_f1) <= 1.0 and 0.0 <= float(text_f1) <= 1.0


def test_a_model_trained_without_validation_shows_no_held_out_figure(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    # Settings are chosen on such a model; a held-out figure in sight would let the
    # held-out pages steer the choice.
    _tiny_corpus(tmp_path / "data" / "tiny")
    monkeypatch.chdir(tmp_path)
    model_path = tmp_path / f"m{DEFAULT_MODEL_PATH.suffix}"
    assert main(["train", "--data", str(tmp_path / "data"), "-o", str(model_path),
                 "--without-validation", *FAST]) == 0
    card = model_path.with_name(model_path.name + ".card.md").read_text(encoding="utf-8")
    err = capsys.readouterr().err
    assert "held-out check" not in card and "quick held-out" not in err
    assert "--split validation" in err


def test_models_trained_in_code_decide_at_the_shipped_threshold(monkeypatch) -> None:
    """The leave-one-out report trains with `train()` and no metadata: its models must keep
    lines from the same p(body) as the shipped one, or the report measures another tool."""
    from cleaner.training import train as training

    monkeypatch.setattr(training, "KEEP_ITERATIONS", 3)
    monkeypatch.setattr(training, "REASON_ITERATIONS", 3)
    hand = training.hand_labelled_training_rows(sorted(SHIPPED_SEEDS.glob("*.labels.tsv")), 0)
    model = training.train(training.dataset.Rows.empty(), hand)
    assert (model.metadata["body_threshold"], model.metadata["html_body_threshold"]) == (
        BODY_THRESHOLD, HTML_BODY_THRESHOLD)
    told = training.train(training.dataset.Rows.empty(), hand,
                          metadata={"body_threshold": 0.7, "html_body_threshold": 0.2})
    assert (told.body_threshold, told.html_body_threshold) == (0.7, 0.2)


@pytest.fixture
def tiny_training(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """(the training module set to a few rounds, the tiny corpus's rows, the seeds' rows)."""
    from cleaner.training import train as training

    monkeypatch.setattr(training, "KEEP_ITERATIONS", 3)
    monkeypatch.setattr(training, "REASON_ITERATIONS", 3)
    _tiny_corpus(tmp_path / "data" / "tiny")
    monkeypatch.chdir(tmp_path)
    corpus = training.corpus_training_rows(tmp_path / "data", progress=False)
    hand = training.hand_labelled_training_rows(sorted(SHIPPED_SEEDS.glob("*.labels.tsv")),
                                                int(corpus.groups.max()) + 1)
    return training, corpus, hand


def test_corpora_give_html_pages_trees_of_their_own(tiny_training) -> None:
    """The HTML model learns from the corpora's HTML renderings only, the text model from
    the rest and the hand-labelled pages; without HTML rows there is one model for both."""
    training, corpus, hand = tiny_training
    model = training.train(corpus, hand, corpus_sample=1.0)
    html = corpus.pages % training.dataset.RENDERINGS == 0
    assert model.html_model is not None and 0 < html.sum() < len(corpus)
    # The HTML model saw no seed page: it gives none of the seeds' kinds of chrome that
    # the tiny corpus lacks.
    assert set(model.html_model.labels) < set(model.labels)
    assert training.train(corpus.select(~html), hand, corpus_sample=1.0).html_model is None


def test_the_text_model_averages_two_fits_on_disjoint_slices(tiny_training) -> None:
    training, corpus, hand = tiny_training
    model = training.train(corpus, hand, corpus_sample=0.5)
    assert len(model.bag) == training.TEXT_MODELS - 1 == 1
    assert model.bag[0].keep.arrays["value"].tobytes() != \
        model.keep_estimator.arrays["value"].tobytes()
    # The second fits half the keep rounds (rounded: 2 of 3), for speed.
    assert training.MEMBER_ROUNDS_SHARE == 0.5
    assert [model.keep_estimator.n_trees, model.context_estimator.n_trees] == [3, 3]
    assert [model.bag[0].keep.n_trees, model.bag[0].context.n_trees] == [2, 2]
    # A sample with no room for a second disjoint slice gives one fit.
    assert not training.train(corpus, hand, corpus_sample=0.6).bag


def test_the_sample_seed_draws_other_rows_and_the_same_seed_the_same_rows(tiny_training) -> None:
    """--sample-seed exists to measure the draw's own noise: another seed must fit other
    rows, and the same seed the same rows (training stays deterministic)."""
    training, corpus, hand = tiny_training

    def keep_values(seed: int) -> bytes:
        model = training.train(corpus, hand, corpus_sample=0.5, sample_seed=seed)
        return model.keep_estimator.arrays["value"].tobytes()

    assert keep_values(1) == keep_values(1) != keep_values(0)


def test_train_records_the_sample_seed_and_refuses_one_numpy_cannot_use(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _tiny_corpus(tmp_path / "data" / "tiny")
    monkeypatch.chdir(tmp_path)
    model_path = tmp_path / f"m{DEFAULT_MODEL_PATH.suffix}"
    assert main(["train", "--data", str(tmp_path / "data"), "-o", str(model_path),
                 "--sample-seed", "7", "--without-validation", *FAST]) == 0
    assert LineModel.load(model_path).metadata["sample_seed"] == 7
    assert main(["train", "-o", str(tmp_path / "other.npz"), "--sample-seed", "-1", *FAST]) == 2
    assert not (tmp_path / "other.npz").exists()


def test_sample_slices_are_disjoint_and_the_first_is_the_sample() -> None:
    from cleaner.training.train import sample_mask, sample_slices

    first, second = sample_slices(10_000, 0.5, 2)
    assert not (first & second).any() and (first | second).all()
    np.testing.assert_array_equal(first, sample_mask(10_000, 0.5))
    small = sample_slices(10_000, 0.125, 3)
    assert [abs(s.mean() - 0.125) < 0.01 for s in small] == [True] * 3
    assert not (small[0] & small[1]).any() and not (small[1] & small[2]).any()
    wrapped = sample_slices(10_000, 0.75, 2)  # beyond 1: they wrap around and overlap
    assert abs(wrapped[1].mean() - 0.75) < 0.02 and (wrapped[0] & wrapped[1]).any()
