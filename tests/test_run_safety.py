"""What a run promises whatever the arguments: no input overwritten, no output read back,
no process left behind, a summary that counts what was written (issue 10)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import PAGES, tree

from cleaner import files

# --------------------------------------------------------------------------- inputs stay inputs


@pytest.fixture
def pages(tmp_path: Path) -> Path:
    shutil.copytree(PAGES, tmp_path / "pages")
    return tmp_path / "pages"


@pytest.mark.parametrize("existing", [[], ["--overwrite"], ["--skip-existing"]])
def test_a_page_cleaned_into_its_own_directory_is_not_replaced(cli, pages: Path,
                                                               existing: list[str]) -> None:
    before = (pages / "harbour.txt").read_bytes()
    result = cli(pages / "harbour.txt", "-o", pages, *existing)
    assert result.code == 1
    assert result.messages == [f"cleaner: {pages}/harbour.txt: the output would replace "
                               f"an input of this run: {pages}/harbour.txt"]
    assert (pages / "harbour.txt").read_bytes() == before


def test_clean_in_place_with_a_glob_and_overwrite_replaces_no_input(cli, pages: Path) -> None:
    before = tree(pages)
    result = cli(*sorted(pages.glob("*.*")), "-o", pages, "--overwrite")
    assert result.code == 1
    # bakery.html -> bakery.txt is new; every .txt input would be replaced by its own output
    assert tree(pages) == before | {"bakery.txt": tree(pages)["bakery.txt"]}
    assert all("the output would replace an input of this run" in message
               for message in result.messages)


def test_an_output_onto_another_input_reached_by_symlink_is_refused(cli, tmp_path: Path) -> None:
    # out/sub links to in/, so in2/sub/a.html would become out/sub/a.txt: in/a.txt itself
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("The input the run must not destroy, " * 3 + "\n")
    (tmp_path / "out").mkdir()
    os.symlink(tmp_path / "in", tmp_path / "out" / "sub")
    (tmp_path / "in2" / "sub").mkdir(parents=True)
    (tmp_path / "in2" / "sub" / "a.html").write_text("<p>" + "A page that becomes a.txt. " * 3)
    before = (tmp_path / "in" / "a.txt").read_bytes()
    result = cli(tmp_path / "in", tmp_path / "in2", "-o", tmp_path / "out", "--overwrite")
    assert result.code == 1
    assert (tmp_path / "in" / "a.txt").read_bytes() == before
    assert result.messages == [f"cleaner: {tmp_path}/in2/sub/a.html: the output would replace "
                               f"an input of this run: {tmp_path}/out/sub/a.txt"]


def test_the_walker_never_enters_the_output_directory(cli, pages: Path, tmp_path: Path) -> None:
    os.symlink("../out", pages / "link")  # relative, as a user would make it
    first = cli(pages, "-o", tmp_path / "out")
    assert first.code == 0
    assert first.summary.startswith("cleaner: 4 pages done, 0 failed")
    assert sorted(tree(tmp_path / "out")) == ["bakery.txt", "harbour.txt", "mandi.txt",
                                              "world/observatory.txt"]
    resumed = cli(pages, "-o", tmp_path / "out", "--skip-existing")
    assert resumed.summary.startswith("cleaner: 0 pages done, 0 failed, 4 skipped")
    assert len(tree(tmp_path / "out")) == 4


def test_the_walker_never_enters_a_directory_inside_the_output(cli, pages: Path,
                                                                tmp_path: Path) -> None:
    assert cli(pages, "-o", tmp_path / "out").code == 0
    os.symlink(tmp_path / "out" / "world", pages / "old")
    os.symlink(tmp_path / "out" / "bakery.txt", pages / "old-bakery.txt")
    plan = list(files.plan_jobs([str(pages)], str(tmp_path / "out"), existing="overwrite"))
    assert [Path(job.source).name for job in plan if isinstance(job, files.Job)] == [
        "bakery.html", "harbour.txt", "mandi.txt", "observatory.htm"]
    notes = [item for item in plan if isinstance(item, files.Problem)]
    assert [(Path(note.display).name, note.reason, note.status) for note in notes] == [
        ("old", "inside the output directory, not read", "note"),
        ("old-bakery.txt", "inside the output directory, not read", "note")]


def test_an_input_directory_inside_the_output_is_refused(cli, tmp_path: Path) -> None:
    shutil.copytree(PAGES, tmp_path / "out" / "raw")
    result = cli(tmp_path / "out" / "raw", "-o", tmp_path / "out")
    assert result.code == 2
    assert (f"input directory {tmp_path}/out/raw is inside output directory {tmp_path}/out"
            in result.stderr)
