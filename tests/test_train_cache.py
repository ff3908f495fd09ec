"""The corpus-row cache key covers every module that shapes the rows."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from cleaner.lexicon import Tokens
from cleaner.training import train
from cleaner.training.train import row_code


def test_row_cache_key_covers_the_modules_dataset_uses_however_deep() -> None:
    covered = set(row_code())
    # imported by dataset.py itself and through other modules
    assert {"training/dataset.py", "training/chrome.py", "training/align.py", "html_blocks.py",
            "deep_html.py", "training/metric.py", "features.py", "page.py"} <= covered
    assert "cli.py" not in covered and "training/train.py" not in covered


def test_a_new_cache_replaces_the_stale_ones_of_its_data_folder_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    (data / "tiny" / "html").mkdir(parents=True)
    html = "<html><body><p>" + "A sentence of the article, long enough. " * 5 + "</p></body></html>"
    (data / "tiny" / "html" / "a.html").write_text(html)
    (data / "tiny" / "gold.jsonl").write_text(json.dumps(
        {"id": "a", "body": "A sentence of the article, long enough. " * 5}) + "\n")
    monkeypatch.setattr(train, "CACHE_DIR", tmp_path / "cache")
    key = train._cache_key(data.resolve())
    place = key.split("-")[0]
    (tmp_path / "cache").mkdir()
    stale = tmp_path / "cache" / f"corpus-rows-{place}-0123456789abcdef.npz"
    other_data = tmp_path / "cache" / "corpus-rows-ffffffff-0123456789abcdef.npz"
    stale.write_bytes(b"old rows")
    other_data.write_bytes(b"another folder's rows")
    monkeypatch.setattr(train, "training_pages", lambda data_dir: [object()])
    monkeypatch.setattr(train.dataset, "corpus_rows", lambda pages, progress: train.Rows(
        np.zeros((1, 2), np.float32), np.array(["body"], dtype=object), np.ones(1),
        np.zeros(1, np.int64), np.zeros(1, np.int64),
        Tokens(np.array([7], np.uint64), np.zeros(1, np.int64)), np.full((1, 4), -1, np.int32)))
    train.corpus_training_rows(data, progress=False)
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted(
        [f"corpus-rows-{key}.npz", other_data.name])


def test_row_cache_key_follows_the_corpora_bytes_not_their_times(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "tiny" / "html").mkdir(parents=True)
    page = data / "tiny" / "html" / "a.html"
    page.write_text("<html><body><p>Old text of the page.</p></body></html>")
    (data / "tiny" / "gold.jsonl").write_text(json.dumps({"id": "a", "body": "Old"}) + "\n")
    key = train._cache_key(data.resolve())
    for path in (page, page.parent, data / "tiny" / "gold.jsonl"):  # a fresh copy's times
        os.utime(path, (1_000_000, 1_000_000))
    assert train._cache_key(data.resolve()) == key
    folder_time = page.parent.stat().st_mtime_ns
    page.write_text("<html><body><p>New text of the page.</p></body></html>")  # same size
    os.utime(page.parent, ns=(folder_time, folder_time))  # an edit in place keeps it
    assert train._cache_key(data.resolve()) != key
