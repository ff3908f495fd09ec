"""The datatrove step, in a real datatrove pipeline on two worker processes."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

import cleaner
from tests.conftest import FIXTURES, PAGES

datatrove = pytest.importorskip(
    "datatrove", reason="datatrove is not installed (pip install 'news-cleaner[datatrove]')")

from datatrove.executor import LocalPipelineExecutor  # noqa: E402
from datatrove.pipeline.readers import JsonlReader  # noqa: E402
from datatrove.pipeline.writers import JsonlWriter  # noqa: E402

from cleaner.datatrove import CleanerExtractor  # noqa: E402

#: A page of links and a copyright line: the model keeps nothing of it.
CHROME_ONLY = ("<html><body><ul><li><a href=/>Home</a></li><li><a href=/s>Sport</a></li>"
               "<li><a href=/w>Weather</a></li></ul>"
               "<p>© 2024 The Paper. All rights reserved.</p></body></html>")


def html_pages() -> list[str]:
    """Real HTML fixtures and the seed pages as HTML paragraphs: news with chrome."""
    pages = [path.read_text("utf-8") for path in sorted(PAGES.rglob("*.htm*"))]
    for seed in sorted((FIXTURES / "seeds").glob("*.txt")):
        paragraphs = "".join(f"<p>{line}</p>" for line in
                             seed.read_text("utf-8").splitlines() if line.strip())
        pages.append(f"<html><body>{paragraphs}</body></html>")
    return pages


def write_inputs(directory: Path, documents: list[dict], files: int) -> None:
    directory.mkdir()
    for number in range(files):
        with open(directory / f"part{number}.jsonl", "w", encoding="utf-8") as out:
            for document in documents[number::files]:
                out.write(json.dumps(document) + "\n")


def test_pipeline_on_two_workers_equals_clean(tmp_path: Path) -> None:
    pages = html_pages()
    documents = [{"id": f"doc{number:02}", "text": pages[number % len(pages)]}
                 for number in range(40)]
    documents += [{"id": "blank", "text": "   \n  "},  # no text: a clean_error
                  {"id": "chrome", "text": CHROME_ONLY}]
    write_inputs(tmp_path / "in", documents, files=2)
    LocalPipelineExecutor(
        pipeline=[JsonlReader(str(tmp_path / "in")), CleanerExtractor(batch_size=2),
                  JsonlWriter(str(tmp_path / "out"), compression=None)],
        tasks=2, workers=2, logging_dir=str(tmp_path / "logs")).run()

    written = {}
    for path in (tmp_path / "out").glob("*.jsonl"):
        for row in path.read_text("utf-8").splitlines():
            document = json.loads(row)
            written[document["id"]] = document
    expected = {document["id"]: cleaner.clean(document["text"]) for document in documents
                if document["id"] != "blank"}
    assert expected["chrome"] == ""  # so it is dropped, as datatrove drops empty extractions
    assert {id_: document["text"] for id_, document in written.items()} \
        == {id_: body for id_, body in expected.items() if body}
    labels = written["doc00"]["metadata"]["cleaner_labels"]
    assert labels["body"] == len(expected["doc00"].splitlines())

    stats = json.loads((tmp_path / "logs" / "stats.json").read_text())
    entry = next(entry for entry in stats if "cleaner" in entry["name"])
    step = entry["stats"]
    assert step["total"] == 42 and step["forwarded"] == 40
    assert step["dropped"] == 1 and step["clean_error"] == 1
    # Each task's 21 documents went through in 11 batches with one model load per process.
    assert entry["time_stats"]["n"] == 22 and entry["time_stats"]["unit"] == "batch"
    assert step["model_loads"] == 2
    logs = "".join(path.read_text() for path in (tmp_path / "logs" / "logs").glob("*.log"))
    loads = re.findall(r"cleaner: model loaded in process (\d+)", logs)
    assert len(loads) == len(set(loads)) == 2


def test_default_timeout_is_enough_for_the_model(tmp_path: Path) -> None:
    """datatrove's default 1 s per document, warm-up included, with no batching."""
    pages = html_pages()
    documents = [{"id": str(number), "text": page} for number, page in enumerate(pages)]
    write_inputs(tmp_path / "in", documents, files=1)
    LocalPipelineExecutor(
        pipeline=[JsonlReader(str(tmp_path / "in")), CleanerExtractor(batch_size=1),
                  JsonlWriter(str(tmp_path / "out"), compression=None)],
        tasks=1, workers=1, logging_dir=str(tmp_path / "logs")).run()
    rows = [json.loads(row) for path in (tmp_path / "out").glob("*.jsonl")
            for row in path.read_text("utf-8").splitlines()]
    assert sorted(row["id"] for row in rows) == sorted(
        document["id"] for document in documents if cleaner.clean(document["text"]))


def test_text_input_by_option() -> None:
    text = (PAGES / "harbour.txt").read_text("utf-8")
    step = CleanerExtractor(input_format="text")
    assert step.extract(text) == cleaner.Cleaner(input_format="text").clean(text)


class _Troublesome(CleanerExtractor):
    """Hangs on a page that says SLOW and dies on one that says CRASH (in the sandbox)."""

    def clean_texts(self, texts: list[str]) -> list:
        if any("SLOW" in text for text in texts):
            time.sleep(60)
        if any("CRASH" in text for text in texts):
            os._exit(1)
        return super().clean_texts(texts)


def test_a_hanging_or_dying_page_costs_only_itself() -> None:
    from datatrove.data import Document

    page = html_pages()[0]
    texts = [page, page.replace("<body>", "<body>SLOW"), page,
             page.replace("<body>", "<body>CRASH"), page]
    step = _Troublesome(timeout=0.5, batch_size=5)
    out = list(step.run(iter(Document(text, str(n)) for n, text in enumerate(texts))))
    assert [doc.id for doc in out] == ["0", "2", "4"]
    assert all(doc.text == cleaner.clean(page) for doc in out)
    counts = {name: stat.total for name, stat in step.stats.stats.items()}
    assert counts["timeout"] == 1 and counts["broken_process"] == 1
    assert counts["forwarded"] == 3 and counts["total"] == 5
