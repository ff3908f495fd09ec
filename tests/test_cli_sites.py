"""``cleaner clean --sites``: a kept line that other articles of a page's site repeat goes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cleaner import Cleaner, LineModel, site_memory
from cleaner.cli import main

STORIES = [
    "The harbour board voted on Tuesday to rebuild the northern breakwater before winter, "
    "after a long debate among its members.",
    "A bakery on Mill Street has been baking the town's bread for a hundred and ten years, "
    "and its owners say it will go on.",
    "The county library will open on Sundays from March, after a vote by the council that "
    "ended weeks of argument.",
    "Two swans nested under the old rail bridge this spring, the first pair seen on the "
    "river since the mill closed.",
    "The school's brass band played at the harvest fair for the fortieth year running, with "
    "three former pupils among the horns.",
    "A retired teacher has mapped every footpath in the parish, some of them lost for a "
    "century under fields and hedges.",
    "The ferry will run an hour later on Fridays through the summer, the operator said after "
    "a petition from the island's shops.",
    "Volunteers planted four hundred oaks along the ring road on Sunday, in a scheme the "
    "council hopes to repeat each year.",
    "The town's oldest pub reopened under new owners who promised to keep its darts team and "
    "its Sunday folk night.",
]
SHARED = "Our reporting is paid for by readers like you, and every story we publish is free."


def text_page(story: str) -> str:
    return (f"Home | News | Sport\n\n{story}\n\n{story} It went on at length about it, and "
            f"more was said.\n\n{SHARED}\n")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def any_kept_line_recurs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A gate above 1: the tests then do not depend on how sure the tiny model is of the
    shared line (in this process only, so with -j 1)."""
    monkeypatch.setattr(site_memory, "REPEAT_GATE", 1.01)


def test_sites_folder_drops_what_other_articles_of_the_folder_repeat(
        cli, tmp_path: Path, any_kept_line_recurs: None) -> None:
    for number, story in enumerate(STORIES[:3]):
        write(tmp_path / "in" / "x.com" / f"{number}.txt", text_page(story))
    write(tmp_path / "in" / "y.com" / "0.txt", text_page(STORIES[3]))
    alone = cli(tmp_path / "in", "-o", tmp_path / "alone", "-j", "1")
    assert alone.code == 0
    for output in (tmp_path / "alone").rglob("*.txt"):
        assert SHARED in output.read_text(), "the tiny model should keep the shared line"
    result = cli(tmp_path / "in", "-o", tmp_path / "out", "-j", "1", "--sites", "folder")
    assert result.code == 0, result.stderr
    assert "4 pages done, 0 failed" in result.summary
    for number, story in enumerate(STORIES[:3]):
        body = (tmp_path / "out" / "x.com" / f"{number}.txt").read_text()
        assert story in body and SHARED not in body
    assert SHARED in (tmp_path / "out" / "y.com" / "0.txt").read_text()  # a site of one page


def test_sites_top_takes_the_first_folder_below_the_path_as_the_site(
        cli, tmp_path: Path, any_kept_line_recurs: None) -> None:
    write(tmp_path / "in" / "x.com" / "2025" / "a.txt", text_page(STORIES[0]))
    write(tmp_path / "in" / "x.com" / "2026" / "b.txt", text_page(STORIES[1]))
    cli(tmp_path / "in", "-o", tmp_path / "folder", "-j", "1", "--sites", "folder")
    cli(tmp_path / "in", "-o", tmp_path / "top", "-j", "1", "--sites", "top")
    for name in ("x.com/2025/a.txt", "x.com/2026/b.txt"):
        assert SHARED in (tmp_path / "folder" / name).read_text()
        assert SHARED not in (tmp_path / "top" / name).read_text()


def test_sites_counts_a_copy_of_an_article_once_and_leaves_html_pages_alone(
        cli, tmp_path: Path, any_kept_line_recurs: None) -> None:
    write(tmp_path / "in" / "a.txt", text_page(STORIES[0]))
    write(tmp_path / "in" / "a-amp.txt", text_page(STORIES[0]))
    write(tmp_path / "in" / "b.html", f"<html><body><p>{STORIES[1]}</p><p>{SHARED}</p>"
                                      "</body></html>")
    result = cli(tmp_path / "in", "-o", tmp_path / "out", "-j", "1", "--sites", "folder")
    assert result.code == 0
    for name in ("a.txt", "a-amp.txt", "b.txt"):
        assert SHARED in (tmp_path / "out" / name).read_text()


def test_sites_counts_the_pages_skip_existing_leaves_out(
        cli, tmp_path: Path, any_kept_line_recurs: None) -> None:
    write(tmp_path / "in" / "a.txt", text_page(STORIES[0]))
    write(tmp_path / "in" / "b.txt", text_page(STORIES[1]))
    write(tmp_path / "out" / "b.txt", "written by an earlier run\n")
    result = cli(tmp_path / "in", "-o", tmp_path / "out", "-j", "1", "--sites", "folder",
                 "--skip-existing")
    assert result.code == 0
    assert SHARED not in (tmp_path / "out" / "a.txt").read_text()
    assert (tmp_path / "out" / "b.txt").read_text() == "written by an earlier run\n"


def test_sites_in_worker_processes_is_clean_batch_with_the_shipped_model(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Workers survey and drop by line hashes that must agree across processes; the
    shipped model keeps the shared line on some of these pages below the gate."""
    paths = [write(tmp_path / "in" / "x.com" / f"{number}.txt", text_page(story))
             for number, story in enumerate(STORIES)]
    assert main(["clean", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-j", "2",
                 "--sites", "folder"]) == 0
    assert "9 pages done, 0 failed" in capsys.readouterr().err
    cleaner = Cleaner()
    texts = [path.read_text() for path in paths]
    expected = cleaner.clean_batch(texts, ["x.com"] * len(texts))
    written = [(tmp_path / "out" / "x.com" / path.name).read_text() for path in paths]
    assert written == [body + "\n" for body in expected]
    alone = list(cleaner.clean_many(texts))
    assert sum(SHARED in body for body in alone) > sum(SHARED in body for body in expected), \
        "the shipped model should keep the shared line below the gate on some page"


def test_sites_url_drops_what_other_articles_of_a_host_repeat_in_records(
        cli, tmp_path: Path, any_kept_line_recurs: None) -> None:
    records = [{"url": f"https://www.x.com/{number}", "text": text_page(story)}
               for number, story in enumerate(STORIES[:3])]
    records += [{"url": "https://y.com/0", "text": text_page(STORIES[3])},
                {"text": text_page(STORIES[4])},  # no url: left alone
                {"url": "https://x.com/html", "html": f"<p>{STORIES[5]}</p><p>{SHARED}</p>"},
                "not json"]
    source = write(tmp_path / "pages.jsonl",
                   "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    result = cli(source, "-o", tmp_path / "out.jsonl", "-j", "1", "--sites", "url")
    assert result.code == 1 and "6 records done, 1 failed" in result.stderr  # the bad line
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [SHARED in record.get("text", SHARED) for record in out] == \
        [False, False, False, True, True, True, True]
    assert all(story in record["text"] for story, record in zip(STORIES[:3], out[:3], strict=True))
    assert "error" in out[-1]
    assert cli(source, "-o", tmp_path / "alone.jsonl", "-j", "1").code == 1
    assert all(SHARED in json.loads(line).get("text", SHARED)
               for line in (tmp_path / "alone.jsonl").read_text().splitlines())


def test_sites_url_in_worker_processes_is_clean_batch_with_the_shipped_model(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """More records than one chunk, so that worker processes survey and drop."""
    texts = [text_page(f"{story} Part {part}.") for part in range(8) for story in STORIES]
    source = write(tmp_path / "pages.jsonl", "".join(
        json.dumps({"url": f"https://x.com/{number}", "text": text}) + "\n"
        for number, text in enumerate(texts)))
    assert main(["clean", str(source), "-o", str(tmp_path / "out.jsonl"), "-j", "2",
                 "--sites", "url"]) == 0
    assert f"{len(texts)} records done, 0 failed" in capsys.readouterr().err
    written = [json.loads(line)["text"]
               for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    cleaner = Cleaner()
    expected = cleaner.clean_batch(texts, ["x.com"] * len(texts))
    assert written == expected
    alone = list(cleaner.clean_many(texts))
    assert sum(SHARED in body for body in alone) > sum(SHARED in body for body in expected)


def test_sites_wants_pages_in_folders_or_records_with_urls(cli, tmp_path: Path,
                                                            tiny_model: LineModel) -> None:
    result = cli("-", "--sites", "folder")
    assert result.code == 2 and "--sites needs pages in folders" in result.stderr
    result = cli(tmp_path, "-o", tmp_path / "out", "--sites", "url")
    assert result.code == 2 and "--sites url is for record files" in result.stderr
    records = write(tmp_path / "pages.jsonl", '{"text": "a page"}\n')
    result = cli(records, "-o", tmp_path / "out.jsonl", "--sites", "folder")
    assert result.code == 2 and "records take --sites url" in result.stderr
    result = cli(tmp_path, "-o", tmp_path / "out", "--sites", "host")
    assert result.code == 2 and "invalid choice: 'host'" in result.stderr


def test_sites_url_refuses_a_record_pipe(cli, tmp_path: Path, tiny_model: LineModel) -> None:
    fifo = tmp_path / "pages.jsonl"
    os.mkfifo(fifo)
    result = cli(fifo, "-o", tmp_path / "out.jsonl", "--sites", "url")
    assert result.code == 2 and "must be a file, not a pipe" in result.stderr
    assert not (tmp_path / "out.jsonl").exists()
