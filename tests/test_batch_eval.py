"""batch_eval: the gain of clean_batch over clean_many, scored as make eval scores."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from cleaner import Cleaner, LineModel, site_memory
from cleaner.training.batch_eval import batch_gain, format_gain, text_and_site
from cleaner.training.corpus import GoldPage

STORIES = [
    "The harbour board voted on Tuesday to rebuild the northern breakwater before winter.",
    "A bakery on Mill Street has been baking the town's bread for a hundred and ten years.",
    "The county library will open on Sundays from March, after a vote by the council.",
]
SHARED = "Our reporting is paid for by readers like you, and every story we publish is free."


def _pages(tmp_path: Path) -> list[GoldPage]:
    pages = []
    for i, story in enumerate(STORIES):
        html = (f"<html><body><p>{story}</p><p>{story} It went on at length.</p>"
                f"<p>{SHARED}</p></body></html>")
        path = tmp_path / f"{i}.html.gz"
        path.write_bytes(gzip.compress(html.encode()))
        pages.append(GoldPage("dragnet", str(i), path, f"{story}\n{story} It went on at length.",
                              extra={"url": f"https://www.paper.com/{i}"}))
    return pages


def test_batch_gain_scores_the_pages_alone_and_in_their_batch(
        tmp_path: Path, tiny_model: LineModel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(site_memory, "REPEAT_GATE", 1.01)  # any kept shared line goes
    pages = _pages(tmp_path)
    prepared = [text_and_site(page) for page in pages]
    assert {site for _, site in prepared} == {"site:paper.com"}
    result = batch_gain(pages, prepared, Cleaner(tiny_model, input_format="text"))
    alone, batch = result["rows"]["pooled"]
    assert alone.pages == batch.pages == 3
    assert batch.f1 > alone.f1 and batch.precision > alone.precision
    assert set(result["rows"]) == {"pooled", "news", "dragnet"}
    report = format_gain(result)
    assert report.splitlines()[1].startswith("pooled") and "dragnet" in report


def test_a_page_alone_in_its_batch_scores_the_same(
        tmp_path: Path, tiny_model: LineModel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(site_memory, "REPEAT_GATE", 1.01)
    pages = _pages(tmp_path)[:1]
    result = batch_gain(pages, [text_and_site(page) for page in pages],
                        Cleaner(tiny_model, input_format="text"))
    alone, batch = result["rows"]["pooled"]
    assert alone == batch and result["up"] == result["down"] == 0
