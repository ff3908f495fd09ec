"""Walking inputs, naming outputs, reading within limits, writing atomically."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from cleaner import files, reader
from cleaner.files import InputError, Job, Limits, Problem
from cleaner.reader import read_page


@pytest.mark.parametrize(("name", "expected"), [
    ("story.html", "story.txt"),
    ("story.htm", "story.txt"),
    ("story.xhtml", "story.txt"),
    ("story.txt", "story.txt"),
    ("story.text", "story.txt"),
    ("story.html.gz", "story.txt"),
    ("story.txt.gz", "story.txt"),
    ("STORY.HTML", "STORY.txt"),
    ("story.gz", "story.txt"),
    ("story.php", "story.php.txt"),
    ("story.php.gz", "story.php.txt"),
    ("story", "story.txt"),
    ("v1.2.html", "v1.2.txt"),
])
def test_output_name_replaces_known_suffixes(name: str, expected: str) -> None:
    assert files.output_name(name) == expected


def test_output_name_in_explain_mode() -> None:
    assert files.output_name("story.html.gz", files.EXPLAIN_SUFFIX) == "story.labels.tsv"


def _touch(path: Path, content: bytes = b"text\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def _plan(paths: list[Path], out: Path, **kwargs) -> list[Job | Problem]:
    return list(files.plan_jobs([str(p) for p in paths], str(out), **kwargs))


def test_walk_is_sorted_and_skips_hidden_names(tmp_path: Path) -> None:
    for name in ["b.txt", "a.txt", "sub/c.html", ".hidden.txt", ".git/x.txt", "sub/.d.txt",
                 "a/z.txt"]:
        _touch(tmp_path / "in" / name)
    plan = _plan([tmp_path / "in"], tmp_path / "out")
    assert [Path(job.source).relative_to(tmp_path / "in").as_posix() for job in plan] == [
        "a.txt", "b.txt", "a/z.txt", "sub/c.html"]
    assert [Path(job.output).relative_to(tmp_path / "out").as_posix() for job in plan] == [
        "a.txt", "b.txt", "a/z.txt", "sub/c.txt"]


def test_explicit_hidden_file_is_processed(tmp_path: Path) -> None:
    hidden = _touch(tmp_path / ".page.html")
    assert [job.output for job in _plan([hidden], tmp_path / "out")] == [
        str(tmp_path / "out" / ".page.txt")]


def test_symlink_loop_is_walked_once_and_noted(tmp_path: Path) -> None:
    _touch(tmp_path / "in" / "a.txt")
    _touch(tmp_path / "in" / "sub" / "b.txt")
    os.symlink("..", tmp_path / "in" / "sub" / "up")
    os.symlink(tmp_path / "in" / "sub", tmp_path / "in" / "again")
    plan = _plan([tmp_path / "in"], tmp_path / "out")
    jobs = [Path(item.source).relative_to(tmp_path / "in").as_posix()
            for item in plan if isinstance(item, Job)]
    notes = [(item.display, item.reason, item.status) for item in plan
             if isinstance(item, Problem)]
    assert jobs == ["a.txt", "again/b.txt"]
    assert notes == [
        (f"{tmp_path}/in/sub", "directory already walked through another path, skipped", "note"),
        (f"{tmp_path}/in/again/up", "symlink loop, not followed", "note"),
    ]


def test_collision_keeps_the_first_and_reports_the_second(tmp_path: Path) -> None:
    first = _touch(tmp_path / "in" / "a.htm")
    second = _touch(tmp_path / "in" / "a.html")
    plan = _plan([tmp_path / "in"], tmp_path / "out")
    assert plan[0] == Job(str(first), str(tmp_path / "out" / "a.txt"), str(first))
    assert plan[1] == Problem(str(second), f"same output as {first}: {tmp_path}/out/a.txt")


def test_collision_across_arguments(tmp_path: Path) -> None:
    one = _touch(tmp_path / "one" / "a.html")
    two = _touch(tmp_path / "two" / "a.txt")
    plan = _plan([tmp_path / "one", tmp_path / "two"], tmp_path / "out")
    assert isinstance(plan[0], Job)
    assert plan[1] == Problem(str(two), f"same output as {one}: {tmp_path}/out/a.txt")


def test_collision_across_arguments_in_different_directories(tmp_path: Path) -> None:
    _touch(tmp_path / "one" / "x" / "a.html")
    _touch(tmp_path / "one" / "y.html")
    _touch(tmp_path / "two" / "z.txt")
    two = _touch(tmp_path / "two" / "x" / "a.txt")
    plan = _plan([tmp_path / "one", tmp_path / "two"], tmp_path / "out")
    assert plan[-1] == Problem(str(two),
                               f"same output as an earlier input: {tmp_path}/out/x/a.txt")


@pytest.mark.parametrize(("policy", "expected"), [
    ("error", "failed"), ("skip", "skipped"), ("overwrite", None)])
def test_existing_output_policy(tmp_path: Path, policy: str, expected: str | None) -> None:
    _touch(tmp_path / "in" / "a.html")
    _touch(tmp_path / "out" / "a.txt", b"earlier run\n")
    [item] = _plan([tmp_path / "in"], tmp_path / "out", existing=policy)
    if expected is None:
        assert isinstance(item, Job)
    else:
        assert isinstance(item, Problem) and item.status == expected


def test_output_inside_input_is_detected(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    assert files.output_inside_input([str(tmp_path / "in")], str(tmp_path / "in" / "out")) == \
        str(tmp_path / "in")
    assert files.output_inside_input([str(tmp_path / "in")], str(tmp_path / "in")) == \
        str(tmp_path / "in")
    assert files.output_inside_input([str(tmp_path / "in")], str(tmp_path / "out")) is None


def test_output_inside_input_through_a_symlink(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    os.symlink(tmp_path / "in", tmp_path / "link")
    assert files.output_inside_input([str(tmp_path / "in")], str(tmp_path / "link" / "o"))


# --------------------------------------------------------------------------- reading


def test_read_file_refuses_a_file_over_the_limit_without_reading_it(tmp_path: Path) -> None:
    page = _touch(tmp_path / "a.txt", b"x" * 101)
    with pytest.raises(InputError, match=r"^file is 101 bytes, over the limit of 100 "
                                         r"\(--max-page-bytes\)$"):
        files.read_file(str(page), Limits(max_page_bytes=100))


def test_reader_gunzips_by_content_not_name(tmp_path: Path) -> None:
    page = _touch(tmp_path / "a.html", gzip.compress(b"<p>hello</p>"))
    assert read_page(files.read_file(str(page), Limits())).lines == ["hello"]


def test_gzip_bomb_stops_at_the_limit(tmp_path: Path) -> None:
    page = _touch(tmp_path / "a.html.gz", gzip.compress(b"\0" * 10_000_000))
    assert page.stat().st_size < 100_000
    with pytest.raises(InputError, match=r"^decompresses to over the limit of 100,000 bytes "
                                         r"\(--max-page-bytes\)$"):
        read_page(files.read_file(str(page), Limits(max_page_bytes=100_000)),
                  Limits(max_page_bytes=100_000))


def test_page_text_line_count_is_checked_before_splitting() -> None:
    reader.check_line_count("a\n" * 10, Limits(max_page_lines=10))
    reader.check_line_count("a\r\n" * 9 + "a", Limits(max_page_lines=10))
    with pytest.raises(InputError, match=r"^page has 11 lines, over the limit of 10 "):
        reader.check_line_count("a\r" * 10 + "a", Limits(max_page_lines=10))


def test_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.html"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"^not a regular file \(device, pipe or socket\)$"):
        files.read_file(str(fifo), Limits())


# --------------------------------------------------------------------------- writing


def test_write_atomic_creates_directories_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "page.txt"
    files.write_atomic(str(target), b"body\n")
    assert target.read_bytes() == b"body\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["page.txt"]


def test_write_atomic_never_replaces_without_overwrite(tmp_path: Path) -> None:
    target = _touch(tmp_path / "page.txt", b"keep me\n")
    with pytest.raises(FileExistsError):
        files.write_atomic(str(target), b"new\n")
    assert target.read_bytes() == b"keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.txt"]
    files.write_atomic(str(target), b"new\n", overwrite=True)
    assert target.read_bytes() == b"new\n"


def test_write_atomic_removes_its_temp_when_writing_fails(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files, "_link_into_place", fail)
    with pytest.raises(OSError, match="No space left"):
        files.write_atomic(str(tmp_path / "page.txt"), b"body\n")
    assert list(tmp_path.iterdir()) == []
    assert files.temp_in_progress is None


def test_write_atomic_falls_back_to_rename_without_hard_links(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(*args: object) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    files.write_atomic(str(tmp_path / "page.txt"), b"body\n")
    assert (tmp_path / "page.txt").read_bytes() == b"body\n"
    with pytest.raises(FileExistsError):
        files.write_atomic(str(tmp_path / "page.txt"), b"other\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.txt"]


def test_stale_temps_of_dead_processes_are_removed(tmp_path: Path) -> None:
    dead = _touch(tmp_path / f".page.txt.{2**22 + 12345}-0123abcd{files.TEMP_SUFFIX}")
    alive = _touch(tmp_path / f".page.txt.{os.getpid()}-0123abcd{files.TEMP_SUFFIX}")
    other = _touch(tmp_path / ".notes.txt")
    assert files.remove_stale_temps(str(tmp_path)) == 1
    assert not dead.exists() and alive.exists() and other.exists()


def test_temps_of_a_killed_but_unreaped_process_are_removed(tmp_path: Path) -> None:
    """After kill -9 of a run, its workers are zombies until reaped: they write nothing."""
    import subprocess
    import time

    child = subprocess.Popen(["true"])
    try:
        deadline = time.monotonic() + 10
        while b") Z" not in Path(f"/proc/{child.pid}/stat").read_bytes():
            assert time.monotonic() < deadline, "child did not exit"
            time.sleep(0.01)
        zombie = _touch(tmp_path / f".page.txt.{child.pid}-0123abcd{files.TEMP_SUFFIX}")
        assert files.remove_stale_temps(str(tmp_path)) == 1
        assert not zombie.exists()
    finally:
        child.wait()


def test_display_path_escapes_bytes_that_are_not_utf8() -> None:
    assert files.display_path(os.fsdecode(b"dir/caf\xe9.html")) == "dir/caf\\xe9.html"


def test_a_job_names_its_site_by_folder_or_by_the_first_folder_below_its_path(
        tmp_path: Path) -> None:
    crawl = tmp_path / "crawl"
    for name in ("x.com/2025/a.txt", "x.com/b.txt", "top.txt"):
        (crawl / name).parent.mkdir(parents=True, exist_ok=True)
        (crawl / name).write_text("a page\n")
    loose = tmp_path / "loose.txt"
    loose.write_text("a page\n")
    paths = [str(crawl), str(loose)]

    def sites(grouping: str | None) -> dict[str, str | None]:
        return {os.path.relpath(job.source, tmp_path): job.site
                for job in files.plan_jobs(paths, str(tmp_path / "out"), grouping=grouping)}

    assert set(sites(None).values()) == {None}
    assert sites("folder") == {"crawl/top.txt": str(crawl), "crawl/x.com/2025/a.txt":
                               str(crawl / "x.com" / "2025"), "crawl/x.com/b.txt":
                               str(crawl / "x.com"), "loose.txt": str(tmp_path)}
    assert sites("top") == {"crawl/top.txt": str(crawl), "crawl/x.com/2025/a.txt":
                            str(crawl / "x.com"), "crawl/x.com/b.txt": str(crawl / "x.com"),
                            "loose.txt": str(tmp_path)}
    survey = {os.path.relpath(job.source, tmp_path): job.site
              for job in files.survey_jobs(paths, str(tmp_path / "out"), "top")}
    assert survey == sites("top")
    with pytest.raises(ValueError, match="unknown site grouping"):
        list(files.plan_jobs(paths, str(tmp_path / "out"), grouping="host"))
