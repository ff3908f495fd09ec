"""What a run promises whatever the arguments: no input overwritten, no output read back,
no process left behind, a summary that counts what was written (issue 10)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import PAGES, cli_command, subprocess_env, tree
from fuzz_signals import session

from cleaner import cli as cli_module
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


# --------------------------------------------------------------------------- signals and processes

def _many_pages(directory: Path, count: int) -> Path:
    """``count`` distinct small pages in a few subdirectories (as test_cli makes them)."""
    text = (PAGES / "harbour.txt").read_text()
    for i in range(count):
        sub = directory / f"part{i % 3}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"page{i:04}.txt").write_text(text.replace("Harbour", f"Town {i}"))
    return directory


def _written(directory: Path) -> int:
    return sum(not name.startswith(".") for _, _, names in os.walk(directory) for name in names)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_signal_while_results_are_counted_leaves_the_summary_exact(
        cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: str) -> None:
    # SIGTERM (or Ctrl-C) lands at any moment; here just as a written page is being counted
    inputs = _many_pages(tmp_path / "in", 40)
    count = cli_module.Reporter.outcome

    def outcome_then_signal(self, outcome) -> None:
        if outcome.status == "done" and self.summary.done == 2:
            signal.pthread_kill(threading.main_thread().ident, signal.SIGTERM)
        count(self, outcome)

    monkeypatch.setattr(cli_module.Reporter, "outcome", outcome_then_signal)
    result = cli(inputs, "-o", tmp_path / "out", "--jobs", jobs)
    assert result.code == 143
    done = int(result.summary.split("interrupted: ")[1].split(" pages done")[0])
    assert done == _written(tmp_path / "out") < 40


_INTERRUPTED_WHILE_THE_MODEL_LOADS = """
import os, signal, sys, time
from cleaner import cli
from cleaner.model import LineModel

def load(path=None):
    os.kill(os.getpid(), getattr(signal, sys.argv[1]))
    time.sleep(30)

LineModel.load = load
print(cli.main(["clean", sys.argv[2], "-o", sys.argv[3]]))
"""


@pytest.mark.parametrize(("name", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_signal_while_the_model_loads_exits_quietly(tmp_path: Path, name: str,
                                                      code: int) -> None:
    done = subprocess.run([sys.executable, "-c", _INTERRUPTED_WHILE_THE_MODEL_LOADS, name,
                           str(PAGES), str(tmp_path / "out")], env=subprocess_env(),
                          capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout.strip()) == (0, str(code)), done.stderr
    assert done.stderr == "cleaner: interrupted\n"


def _gone_within(leader: int, seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := session(leader)) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in left:  # leave nothing behind for the next test either
        os.kill(pid, signal.SIGKILL)
    return left


def _start_run(inputs: Path, out: Path, model: Path, stderr) -> subprocess.Popen:
    return subprocess.Popen(cli_command(inputs, "-o", out, "--jobs", "2", model=model),
                            env=subprocess_env(), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=stderr)


linux_only = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")


@linux_only
def test_no_worker_outlives_a_main_process_killed_with_sigkill(
        tiny_model_path: Path, tmp_path: Path) -> None:
    inputs = _many_pages(tmp_path / "in", 300)
    process = _start_run(inputs, tmp_path / "out", tiny_model_path, subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while _written(tmp_path / "out") < 10 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, "the run ended before it could be killed"
    process.kill()  # the main process only, as a supervisor or timeout -s KILL does
    process.wait()
    assert _gone_within(process.pid, 5) == []
    written = _written(tmp_path / "out")
    time.sleep(1)
    assert _written(tmp_path / "out") == written  # nobody goes on writing


@linux_only
@pytest.mark.parametrize(("name", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_signal_while_the_pool_starts_leaves_no_process_and_no_traceback(
        tiny_model_path: Path, tmp_path: Path, name: str, code: int) -> None:
    inputs = _many_pages(tmp_path / "in", 40)
    with open(tmp_path / "stderr", "w+") as stderr:
        process = _start_run(inputs, tmp_path / "out", tiny_model_path, stderr)
        deadline = time.monotonic() + 120
        while len(session(process.pid)) < 2 and process.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.002)
        process.send_signal(getattr(signal, name))  # the first child (a fork server) is up
        process.wait(timeout=120)
        stderr.seek(0)
        messages = stderr.read()
    assert process.returncode == code, messages
    assert "Traceback" not in messages
    assert _gone_within(process.pid, 5) == []
    assert not [path for path in (tmp_path / "out").rglob(".*")]


# --------------------------------------------------------------------------- rough edges

@pytest.mark.parametrize("option", ["--max-page-bytes", "--max-line-chars", "--max-page-lines"])
@pytest.mark.parametrize("value", [str(2**62), str(10**30)])
def test_a_limit_beyond_the_memory_is_a_usage_error(cli, pages: Path, tmp_path: Path,
                                                    option: str, value: str) -> None:
    result = cli(pages, "-o", tmp_path / "out", option, value)
    assert result.code == 2
    assert f"argument {option}: {value!r} is more than this machine's memory" in result.stderr
    assert not (tmp_path / "out").exists()


def test_an_output_written_by_another_run_meanwhile_is_a_skip(cli, pages: Path, tmp_path: Path,
                                                              monkeypatch) -> None:
    plan_jobs = files.plan_jobs

    def plan_then_another_run_writes(*args, **kwargs):
        yield from plan_jobs(*args, **kwargs)
        (tmp_path / "out" / "harbour.txt").write_text("written by another run\n")

    monkeypatch.setattr(files, "plan_jobs", plan_then_another_run_writes)
    result = cli(pages, "-o", tmp_path / "out", "--skip-existing")
    assert (result.code, result.messages) == (0, [])
    assert result.summary.startswith("cleaner: 3 pages done, 0 failed, 1 skipped (output exists)")
    assert (tmp_path / "out" / "harbour.txt").read_text() == "written by another run\n"


def test_control_characters_in_a_path_are_escaped_on_stderr(cli, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    name = "x\ncleaner: 0 pages done, 0 failed\x1b[31m.txt"
    (tmp_path / "in" / name).write_bytes(b"")
    result = cli(tmp_path / "in", "-o", tmp_path / "out")
    assert result.code == 1
    assert result.stderr.count("\n") == 2 and "\x1b" not in result.stderr
    assert result.messages == [f"cleaner: {tmp_path}/in/x\\x0acleaner: 0 pages done, 0 failed"
                               "\\x1b[31m.txt: empty file"]


def _stdin_run(model: Path, shell: str) -> subprocess.CompletedProcess:
    command = " ".join(cli_command("-", model=model))
    return subprocess.run(["bash", "-c", f"{command} {shell}"], env=subprocess_env(),
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("shell", "message"), [
    (f"< {PAGES}/harbour.txt >&-", "cleaner: standard output is closed"),
    ("<&- > /dev/null", "cleaner: standard input is closed"),
    (f"< {PAGES}/harbour.txt > /dev/full", "cleaner: <stdout>: cannot write: No space left"),
    ("0>/dev/null >/dev/null", "cleaner: <stdin>: cannot read: Bad file descriptor"),
])
def test_stdin_mode_without_a_usable_stream_says_so(tiny_model_path: Path, shell: str,
                                                    message: str) -> None:
    done = _stdin_run(tiny_model_path, shell)
    assert done.returncode == 1
    assert done.stderr.startswith(message) and "Traceback" not in done.stderr, done.stderr


def test_stdin_mode_into_a_reader_that_left_says_so(tiny_model_path: Path) -> None:
    # the reader is gone before the body is written: a short write, not a success
    done = _stdin_run(tiny_model_path, f"< {PAGES}/harbour.txt | (exec 0<&-; sleep 2); "
                                       "exit ${PIPESTATUS[0]}")
    assert done.returncode == 1
    assert done.stderr == "cleaner: <stdout>: cannot write: Broken pipe\n"


@pytest.mark.parametrize("unbuffered", ["", "1"])
def test_stdin_mode_short_write_into_head_says_so(tiny_model_path: Path, tmp_path: Path,
                                                  unbuffered: str) -> None:
    # 300 kB of body into | head -c 10: an unbuffered stdout took 64 kB, dropped the rest, exit 0
    (tmp_path / "long.txt").write_text("A line of article body, long enough to be kept by the "
                                       "tiny model that the tests use.\n" * 3000)
    command = " ".join(cli_command("-", model=tiny_model_path))
    done = subprocess.run(["bash", "-c", f"{command} < {tmp_path}/long.txt | head -c 10 "
                                         ">/dev/null; exit ${PIPESTATUS[0]}"],
                          env=subprocess_env() | {"PYTHONUNBUFFERED": unbuffered},
                          capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stderr) == (1, "cleaner: <stdout>: cannot write: Broken pipe\n")


@pytest.mark.parametrize(("line", "problem"), [
    (("a\nb", "body", 1.0), "line break inside the line"),
    (("a\rb", "body", 1.0), "line break inside the line"),
    (("a", "Body", 1.0), "unknown label 'Body'"),
    (("a", "body", float("nan")), "probability nan is not between 0 and 1"),
    (("a", "body", float("inf")), "probability inf is not between 0 and 1"),
    (("a", "body", 1.5), "probability 1.5 is not between 0 and 1"),
])
def test_write_labelled_refuses_rows_read_labelled_would_not_read_back(
        tmp_path: Path, line: tuple, problem: str) -> None:
    from cleaner.labels import LabelledFormatError, Line, write_labelled

    rows = [Line("fine", "nav", 0.5), Line(*line)]
    with pytest.raises(LabelledFormatError, match=f"row 2: {problem}$"):
        write_labelled(tmp_path / "page.labels.tsv", rows, with_probability=True)
    assert list(tmp_path.iterdir()) == []


def test_write_labelled_to_a_directory_name_creates_nothing(tmp_path: Path) -> None:
    from cleaner.labels import Line, write_labelled

    with pytest.raises(IsADirectoryError):
        write_labelled(f"{tmp_path}/new/", [Line("a", "body")])
    assert not (tmp_path / "new").exists()


def test_write_atomic_syncs_the_file_before_naming_it_and_the_directory_after(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[tuple[str, int]] = []
    fsync, link = os.fsync, os.link

    def recording_fsync(fd: int) -> None:
        events.append(("fsync", os.fstat(fd).st_ino))
        fsync(fd)

    def recording_link(source, target, *args, **kwargs) -> None:
        link(source, target, *args, **kwargs)
        events.append(("link", os.stat(target).st_ino))

    monkeypatch.setattr(os, "fsync", recording_fsync)
    monkeypatch.setattr(os, "link", recording_link)
    files.write_atomic(str(tmp_path / "page.txt"), b"body\n")
    page, directory = (tmp_path / "page.txt").stat().st_ino, tmp_path.stat().st_ino
    assert events == [("fsync", page), ("link", page), ("fsync", directory)]
