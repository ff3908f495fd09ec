"""The datatrove step, in a real datatrove pipeline on two worker processes."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import numpy as np
import pytest

import cleaner
from tests.conftest import FIXTURES, PAGES

datatrove = pytest.importorskip(
    "datatrove", reason="datatrove is not installed (pip install 'news-cleaner[datatrove]')")

from datatrove.executor import LocalPipelineExecutor  # noqa: E402
from datatrove.pipeline.readers import JsonlReader  # noqa: E402
from datatrove.pipeline.writers import JsonlWriter  # noqa: E402

from cleaner.datatrove import CleanerExtractor, SiteSurvey  # noqa: E402
from tests.test_cli_sites import SHARED, STORIES, text_page  # noqa: E402

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


def read_outputs(directory: Path) -> dict[str, dict]:
    return {document["id"]: document for path in directory.glob("*.jsonl")
            for document in map(json.loads, path.read_text("utf-8").splitlines())}


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

    written = read_outputs(tmp_path / "out")
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

    def clean_texts(self, texts: list[str], sites: list[str | None] | None = None) -> list:
        if any("SLOW" in text for text in texts):
            time.sleep(60)
        if any("CRASH" in text for text in texts):
            os._exit(1)
        return super().clean_texts(texts, sites)


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


def test_site_template_in_two_pipelines_is_clean_batch(tmp_path: Path) -> None:
    """The survey runs as two tasks, each seeing half of a site's pages (y.com's two
    pages one each, so that only the merged survey finds their shared line), and the
    drop in two more: the same text as ``clean_batch`` with each document's host as its
    site, and less of the shared line than without (the shipped model keeps it below
    the gate on most of these pages)."""
    texts = [text_page(f"{story} Part {part}.") for part in range(4) for story in STORIES]
    documents = [{"id": f"doc{number:02}", "text": text, "url": f"https://www.x.com/{number}"}
                 for number, text in enumerate(texts)]
    documents += [{"id": "nourl", "text": texts[1]},  # no site: cleaned alone
                  {"id": "y1", "text": texts[1], "url": "https://y.com/1"},
                  {"id": "y2", "text": texts[2], "url": "https://y.com/2"}]
    write_inputs(tmp_path / "in", documents, files=2)
    LocalPipelineExecutor(
        pipeline=[JsonlReader(str(tmp_path / "in")), SiteSurvey(str(tmp_path / "sites"))],
        tasks=2, workers=2, logging_dir=str(tmp_path / "logs1")).run()
    assert sorted(path.name for path in (tmp_path / "sites").iterdir()) == \
        ["00000-of-00002.sites.npz", "00001-of-00002.sites.npz"]
    LocalPipelineExecutor(
        pipeline=[JsonlReader(str(tmp_path / "in")),
                  CleanerExtractor(input_format="text", site_template=str(tmp_path / "sites")),
                  JsonlWriter(str(tmp_path / "out"), compression=None)],
        tasks=2, workers=2, logging_dir=str(tmp_path / "logs2")).run()

    written = {id_: document["text"] for id_, document in read_outputs(tmp_path / "out").items()}
    shipped = cleaner.Cleaner()
    sites = ["x.com" if "url" in document and "x.com" in document["url"] else
             "y.com" if "url" in document else None for document in documents]
    expected = shipped.clean_batch([document["text"] for document in documents], sites)
    assert written == {document["id"]: body
                       for document, body in zip(documents, expected, strict=True)}
    alone = list(shipped.clean_many(texts))
    assert sum(SHARED in body for body in alone) > sum(SHARED in written[f"doc{number:02}"]
                                                       for number in range(len(texts)))
    assert written["nourl"] == alone[1] and SHARED in alone[1] and SHARED in alone[2]
    assert SHARED not in written["y1"] and SHARED not in written["y2"]
    stats = json.loads((tmp_path / "logs1" / "stats.json").read_text())
    survey = next(entry for entry in stats if "site survey" in entry["name"])["stats"]
    assert survey["total"] == len(documents) and survey["traced"] == len(documents) - 1
    assert survey["no_site"] == 1


def test_site_template_wants_text_pages_and_a_survey(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="text pages only"):
        CleanerExtractor(site_template=str(tmp_path))
    with pytest.raises(ValueError, match="text pages only"):
        SiteSurvey(str(tmp_path), input_format="html")
    (tmp_path / "empty").mkdir()
    step = CleanerExtractor(input_format="text", site_template=str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match="run SiteSurvey"):
        list(step.run(iter([])))
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "00000-of-00001.sites.npz").write_bytes(b"not a zip file")
    step = CleanerExtractor(input_format="text", site_template=str(tmp_path / "bad"))
    with pytest.raises(ValueError, match="00000-of-00001.sites.npz: not a site survey file"):
        list(step.run(iter([])))
    with open(tmp_path / "bad" / "00000-of-00001.sites.npz", "wb") as pickled:  # never loaded
        np.savez(pickled, lines=np.array([{"a": 1}], dtype=object), lowest=np.zeros(1),
                 highest=np.zeros(1))
    with pytest.raises(ValueError, match="00000-of-00001.sites.npz: not a site survey file"):
        list(step.run(iter([])))
    (tmp_path / "bad" / "00000-of-00001.sites.npz").unlink()
    os.mkfifo(tmp_path / "bad" / "00000-of-00001.sites.npz")
    with pytest.raises(ValueError, match="00000-of-00001.sites.npz: not a site survey file"):
        list(step.run(iter([])))


def test_site_template_wants_one_whole_survey(tmp_path: Path) -> None:
    """A task that failed, or files of an earlier survey run as another number of tasks,
    would give a template that misses sites or holds stale ones: refused, said why."""
    empty = {key: np.zeros(0, np.uint64) for key in ("lines", "lowest", "highest")}
    step = CleanerExtractor(input_format="text", site_template=str(tmp_path))
    for name in ("00000-of-00003.sites.npz", "00002-of-00003.sites.npz"):
        np.savez(tmp_path / name, **empty)
    with pytest.raises(ValueError, match=r"survey of 3 tasks is missing task\(s\) \[1\]"):
        list(step.run(iter([])))
    np.savez(tmp_path / "00001-of-00003.sites.npz", **empty)
    assert list(step.run(iter([]))) == []  # whole: the template (empty) loads
    np.savez(tmp_path / "00000-of-00002.sites.npz", **empty)
    with pytest.raises(ValueError, match=r"surveys run as \[2, 3\] tasks"):
        list(step.run(iter([])))
    (tmp_path / "00000-of-00002.sites.npz").unlink()
    np.savez(tmp_path / "00000.sites.npz", **empty)
    with pytest.raises(ValueError, match="00000.sites.npz: not a site survey file"):
        list(step.run(iter([])))
