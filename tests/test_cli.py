"""``cleaner clean``: one test per behaviour of the command line."""

from __future__ import annotations

import gzip
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import regex
from conftest import KEEP_ALL, PAGES, CliResult, cli_command, subprocess_env, tree
from fuzz_signals import make_pages

from cleaner.api import Cleaner
from cleaner.cli import main
from cleaner.labels import BLANK, LABELS, parse_labelled
from cleaner.model import LineModel


@pytest.fixture
def pages(tmp_path: Path) -> Path:
    """A copy of the fixture pages, to run on (and to change) freely."""
    return Path(shutil.copytree(PAGES, tmp_path / "in"))


@pytest.fixture
def cleaner(tiny_model: LineModel) -> Cleaner:
    return Cleaner(tiny_model)


def expected_body(cleaner: Cleaner, path: Path) -> str:
    body = cleaner.clean(path.read_bytes())
    return body + "\n" if body else ""


def test_directory_tree_is_mirrored_with_txt_names(cli, pages: Path, tmp_path: Path,
                                                   cleaner: Cleaner) -> None:
    result = cli(pages, "-o", tmp_path / "out")
    assert result.code == 0
    assert sorted(tree(tmp_path / "out")) == [
        "bakery.txt", "harbour.txt", "mandi.txt", "world/observatory.txt"]
    for source, output in [("bakery.html", "bakery.txt"), ("harbour.txt", "harbour.txt"),
                           ("mandi.txt", "mandi.txt"),
                           ("world/observatory.htm", "world/observatory.txt")]:
        assert (tmp_path / "out" / output).read_text() == expected_body(cleaner, pages / source)


def test_body_of_an_html_page_is_its_article(cli, pages: Path, tmp_path: Path) -> None:
    """The tiny model keeps lines of 40+ characters: here, exactly the article paragraphs."""
    cli(pages / "bakery.html", "-o", tmp_path / "out")
    assert (tmp_path / "out" / "bakery.txt").read_text() == (
        "The bakery on Mill Street opened its doors again on Saturday morning, eight months "
        "after the river flooded its ovens and ruined a century of recipes kept in the cellar.\n"
        "A queue formed before dawn. Neighbours who had helped to clear the mud in the autumn "
        "were given the first loaves, still warm, wrapped in paper printed for the occasion.\n"
        "The owners said the new ovens were raised a metre above the old floor, and that the "
        "recipes had been rebuilt from memory with the help of retired bakers from across the "
        "county.\n")


def test_single_file_goes_to_out_dir_by_name(cli, pages: Path, tmp_path: Path) -> None:
    result = cli(pages / "world" / "observatory.htm", "-o", tmp_path / "out")
    assert result.code == 0
    assert list(tree(tmp_path / "out")) == ["observatory.txt"]


def test_gzipped_pages_are_read(cli, pages: Path, tmp_path: Path, cleaner: Cleaner) -> None:
    (pages / "bakery.html.gz").write_bytes(gzip.compress((pages / "bakery.html").read_bytes()))
    (pages / "bakery.html").rename(pages / "original.html")
    cli(pages, "-o", tmp_path / "out")
    assert (tmp_path / "out" / "bakery.txt").read_text() == \
        expected_body(cleaner, pages / "original.html")


def test_hidden_files_and_directories_are_skipped(cli, pages: Path, tmp_path: Path) -> None:
    (pages / ".draft.html").write_bytes((pages / "bakery.html").read_bytes())
    (pages / ".cache").mkdir()
    (pages / ".cache" / "copy.html").write_bytes((pages / "bakery.html").read_bytes())
    cli(pages, "-o", tmp_path / "out")
    assert sorted(tree(tmp_path / "out")) == [
        "bakery.txt", "harbour.txt", "mandi.txt", "world/observatory.txt"]


def test_stdin_to_stdout_in_a_pipe(tiny_model_path: Path, cleaner: Cleaner) -> None:
    page = (PAGES / "harbour.txt").read_bytes()
    result = subprocess.run(
        f"cat | {' '.join(cli_command('-', model=tiny_model_path))} | cat",
        shell=True, input=page, capture_output=True, env=subprocess_env(), timeout=120)
    assert result.returncode == 0
    assert result.stdout.decode() == expected_body(cleaner, PAGES / "harbour.txt")
    assert result.stderr == b""


def test_stdin_failure_is_reported_with_exit_1(tiny_model_path: Path) -> None:
    result = subprocess.run(cli_command("-", model=tiny_model_path), input=b"",
                            capture_output=True, env=subprocess_env(), timeout=120)
    assert (result.returncode, result.stdout, result.stderr) == (
        1, b"", b"cleaner: <stdin>: empty file\n")


def test_explain_writes_every_line_with_its_label(cli, pages: Path, tmp_path: Path,
                                                  cleaner: Cleaner) -> None:
    result = cli(pages, "-o", tmp_path / "out", "--explain")
    assert result.code == 0
    assert sorted(tree(tmp_path / "out")) == [
        "bakery.labels.tsv", "harbour.labels.tsv", "mandi.labels.tsv",
        "world/observatory.labels.tsv"]
    rows = parse_labelled((tmp_path / "out" / "harbour.labels.tsv").read_text())
    expected = cleaner.label((pages / "harbour.txt").read_bytes())
    assert [(row.label, row.text) for row in rows] == [(line.label, line.text) for line in expected]
    assert len(rows) == len((pages / "harbour.txt").read_text().splitlines())


def test_probabilities_add_a_third_column(cli, pages: Path, tmp_path: Path,
                                          cleaner: Cleaner) -> None:
    cli(pages / "bakery.html", "-o", tmp_path / "out", "--explain", "--probabilities")
    text = (tmp_path / "out" / "bakery.labels.tsv").read_text()
    expected = cleaner.label((pages / "bakery.html").read_bytes())
    assert text.splitlines() == [f"{line.label}\t{line.text}\t{line.probability:.3f}"
                                 for line in expected]


def test_probabilities_without_explain_is_a_usage_error(cli, pages: Path, tmp_path: Path) -> None:
    result = cli(pages, "-o", tmp_path / "out", "--probabilities")
    assert result.code == 2
    assert "--probabilities goes with --explain" in result.stderr
    assert not (tmp_path / "out").exists()


def test_keep_more_labels(cli, pages: Path, tmp_path: Path) -> None:
    """Keeping every label gives every line, blank runs shrunk to one, like the page."""
    cli(pages / "harbour.txt", "-o", tmp_path / "out", "--keep", KEEP_ALL)
    lines = (pages / "harbour.txt").read_text().splitlines()
    expected = "\n".join(line for i, line in enumerate(lines)
                         if line.strip() or (i and lines[i - 1].strip())) + "\n"
    assert (tmp_path / "out" / "harbour.txt").read_text() == expected


@pytest.mark.parametrize("keep", ["body,bogus", "", "Body"])
def test_unknown_keep_label_is_a_usage_error(cli, pages: Path, tmp_path: Path, keep: str) -> None:
    result = cli(pages, "-o", tmp_path / "out", "--keep", keep)
    assert result.code == 2
    assert f"labels are {', '.join(LABELS)}" in result.stderr


def test_missing_model_is_a_clear_error(pages: Path, tmp_path: Path, capsys) -> None:
    from cleaner.cli import main

    code = main(["clean", str(pages), "-o", str(tmp_path / "out"),
                 "--model", str(tmp_path / "none.npz")])
    assert code == 2
    assert capsys.readouterr().err == (f"cleaner: {tmp_path}/none.npz: model file not found "
                                       "(run `make train` or pass --model)\n")


def test_corrupt_model_is_a_clear_error(pages: Path, tmp_path: Path, capsys) -> None:
    from cleaner.cli import main

    model = tmp_path / "bad.npz"
    model.write_bytes(b"PK\x03\x04 this is not a model")
    code = main(["clean", str(pages), "-o", str(tmp_path / "out"), "--model", str(model)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"cleaner: {model}: ") and "model file" in err


def test_output_inside_input_is_refused(cli, pages: Path) -> None:
    result = cli(pages, "-o", pages / "cleaned")
    assert result.code == 2
    assert f"output directory {pages}/cleaned is inside input directory {pages}" in result.stderr
    assert not (pages / "cleaned").exists()


def test_output_that_is_a_file_is_refused(cli, pages: Path, tmp_path: Path) -> None:
    (tmp_path / "out").write_text("a file")
    result = cli(pages, "-o", tmp_path / "out")
    assert result.code == 2
    assert "output is not a directory" in result.stderr


def test_output_directory_is_required(cli, pages: Path) -> None:
    result = cli(pages)
    assert result.code == 2
    assert "the output directory is required: -o OUT_DIR" in result.stderr


def test_existing_output_is_not_replaced(cli, pages: Path, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "harbour.txt").write_text("from an earlier run\n")
    result = cli(pages, "-o", tmp_path / "out")
    assert result.code == 1
    assert result.messages == [
        f"cleaner: {pages}/harbour.txt: output exists: {tmp_path}/out/harbour.txt "
        "(--overwrite replaces it, --skip-existing keeps it)"]
    assert (tmp_path / "out" / "harbour.txt").read_text() == "from an earlier run\n"
    assert (tmp_path / "out" / "bakery.txt").exists()


def test_overwrite_replaces_existing_outputs(cli, pages: Path, tmp_path: Path,
                                             cleaner: Cleaner) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "harbour.txt").write_text("from an earlier run\n")
    result = cli(pages, "-o", tmp_path / "out", "--overwrite")
    assert result.code == 0
    assert (tmp_path / "out" / "harbour.txt").read_text() == \
        expected_body(cleaner, pages / "harbour.txt")


def test_skip_existing_resumes(cli, pages: Path, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "harbour.txt").write_text("from an earlier run\n")
    result = cli(pages, "-o", tmp_path / "out", "--skip-existing")
    assert result.code == 0
    assert result.messages == []
    assert result.summary.startswith("cleaner: 3 pages done, 0 failed, 1 skipped (output exists);")
    assert (tmp_path / "out" / "harbour.txt").read_text() == "from an earlier run\n"


def test_overwrite_and_skip_existing_exclude_each_other(cli, pages: Path, tmp_path: Path) -> None:
    result = cli(pages, "-o", tmp_path / "out", "--overwrite", "--skip-existing")
    assert result.code == 2
    assert "not allowed with argument" in result.stderr


def test_two_inputs_with_one_output_name(cli, pages: Path, tmp_path: Path,
                                         cleaner: Cleaner) -> None:
    (pages / "bakery.htm").write_text("<p>Another page that would also become bakery.txt</p>")
    result = cli(pages, "-o", tmp_path / "out")
    assert result.code == 1
    assert result.messages == [
        f"cleaner: {pages}/bakery.html: same output as {pages}/bakery.htm: "
        f"{tmp_path}/out/bakery.txt"]
    assert (tmp_path / "out" / "bakery.txt").read_text() == \
        expected_body(cleaner, pages / "bakery.htm")


def test_input_format_overrides_detection(cli, pages: Path, tmp_path: Path) -> None:
    cli(pages / "bakery.html", "-o", tmp_path / "out", "--input-format", "text",
        "--keep", KEEP_ALL)
    assert (tmp_path / "out" / "bakery.txt").read_text().splitlines() == [
        line for line in (pages / "bakery.html").read_text().splitlines() if line.strip()]


def test_text_that_mentions_tags_is_still_text(cli, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    page = "How to write a paragraph in HTML: use the <p> element around it.\n"
    (tmp_path / "in" / "howto.txt").write_text(page)
    cli(tmp_path / "in", "-o", tmp_path / "out", "--keep", KEEP_ALL)
    assert (tmp_path / "out" / "howto.txt").read_text() == page


def test_missing_input_is_a_usage_error_before_anything_is_created(
        cli, pages: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_model(*args: object) -> None:
        raise AssertionError("the model must not load when an input is missing")

    monkeypatch.setattr(LineModel, "load", no_model)
    result = cli(tmp_path / "nowhere", pages / "harbour.txt", "-o", tmp_path / "out")
    assert result.code == 2
    assert result.stderr.splitlines()[-1] == (
        f"cleaner clean: error: no such file or directory: {tmp_path}/nowhere")
    assert not (tmp_path / "out").exists()


def test_options_are_not_abbreviated(cli, pages: Path, tmp_path: Path) -> None:
    result = cli(pages, "-o", tmp_path / "out", "--expl")
    assert result.code == 2 and "unrecognized arguments: --expl" in result.stderr
    assert not (tmp_path / "out").exists()


def test_version(capsys: pytest.CaptureFixture) -> None:
    import cleaner

    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"cleaner {cleaner.__version__}\n"


def test_summary_counts_pages_and_lines_by_label(cli, pages: Path, tmp_path: Path,
                                                 cleaner: Cleaner) -> None:
    (pages / "empty.txt").write_bytes(b"")
    result = cli(pages, "-o", tmp_path / "out")
    kept, dropped, empty = 0, Counter(), 0
    for path in [pages / "bakery.html", pages / "harbour.txt", pages / "mandi.txt",
                 pages / "world" / "observatory.htm"]:
        empty += not cleaner.clean(path.read_bytes())
        for line in cleaner.label(path.read_bytes()):
            if line.label == "body":
                kept += 1
            elif line.label != BLANK:
                dropped[line.label] += 1
    dropped_text = ", ".join(f"{label} {count:,}" for label, count in dropped.most_common())
    assert regex.fullmatch(
        regex.escape(f"cleaner: 4 pages done, 1 failed; {kept:,} lines kept, dropped: "
                     f"{dropped_text}; {empty} empty outputs; ") + r"\d+\.\d s, [\d,]+\.\d pages/s",
        result.stderr.splitlines()[-1])


def test_quiet_on_success_when_stderr_is_not_a_terminal(cli, pages: Path, tmp_path: Path) -> None:
    result = cli(pages, "-o", tmp_path / "out")
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("cleaner: 4 pages done, 0 failed;")


def test_exit_codes(cli, pages: Path, tmp_path: Path) -> None:
    assert cli(pages, "-o", tmp_path / "ok").code == 0
    (pages / "broken.html.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    assert cli(pages, "-o", tmp_path / "some-failed").code == 1
    assert cli(pages, "-o", tmp_path / "usage", "--jobs", "0").code == 2


def test_parallel_run_matches_a_single_process_run(cli, tmp_path: Path) -> None:
    inputs = make_pages(tmp_path / "in", 40)
    (inputs / "part3" / "empty.txt").write_bytes(b"")
    one = cli(inputs, "-o", tmp_path / "one", "--jobs", "1")
    two = cli(inputs, "-o", tmp_path / "two", "--jobs", "2")
    assert tree(tmp_path / "one") == tree(tmp_path / "two")
    assert len(tree(tmp_path / "one")) == 40
    assert one.code == two.code == 1
    def untimed(result: CliResult, out: str) -> str:  # the same run, but not the same time
        return regex.sub(r"; [\d.]+ s, [\d,.]+ pages/s$", "",
                         result.stderr.replace(str(tmp_path / out), "OUT"), flags=regex.M)
    assert untimed(one, "one") == untimed(two, "two")


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory, tiny_model_path: Path) -> tuple[Path, dict]:
    """300 pages to interrupt a run over, and the tree an uninterrupted run writes."""
    from cleaner.cli import main

    directory = tmp_path_factory.mktemp("many")
    inputs = make_pages(directory / "in", 300)
    assert main(["clean", str(inputs), "-o", str(directory / "reference"), "--jobs", "1",
                 "--model", str(tiny_model_path)]) == 0
    return inputs, tree(directory / "reference")


def _start(args: list, model: Path) -> subprocess.Popen:
    return subprocess.Popen(cli_command(*args, model=model), env=subprocess_env(),
                            start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _wait_for_outputs(directory: Path, process: subprocess.Popen, count: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if directory.exists() and sum(1 for _ in directory.rglob("*.txt")) >= count:
            return
        time.sleep(0.02)
    pytest.fail("the run finished (or hung) before it could be interrupted")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_stops_cleanly_and_a_resumed_run_completes_it(
        cli, tiny_model_path: Path, tmp_path: Path, many: tuple[Path, dict], jobs: str) -> None:
    inputs, reference = many
    process = _start([inputs, "-o", tmp_path / "out", "--jobs", jobs], tiny_model_path)
    _wait_for_outputs(tmp_path / "out", process, 20)
    os.killpg(process.pid, signal.SIGINT)  # as a terminal does: every process of the group
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    done = int(stderr.splitlines()[-1].split("interrupted: ")[1].split(" pages done")[0])
    written = tree(tmp_path / "out")
    assert 0 < len(written) < 300
    assert not [name for name in written if Path(name).name.startswith(".")]  # no temp files
    assert all(written[name] == reference[name] for name in written)  # no partial file
    assert done == len(written)
    resumed = cli(inputs, "-o", tmp_path / "out", "--skip-existing")
    assert resumed.code == 0
    assert tree(tmp_path / "out") == reference


_CTRL_C_WHILE_A_WORKER_STARTS = """
import multiprocessing, os, signal, sys, time
from cleaner import cli
from cleaner.model import LineModel

executor = cli._new_executor(1, LineModel.load(sys.argv[1]), cli.Options())
with cli._signals_held():
    future = executor.submit(signal.getsignal, signal.SIGINT)
workers = multiprocessing.active_children()
while not future.done():  # Ctrl-C after Ctrl-C, all through the worker's start-up
    for worker in workers:
        try:
            os.kill(worker.pid, signal.SIGINT)
        except ProcessLookupError:
            pass
    time.sleep(0.01)
print(future.result().name)
executor.shutdown()
"""


def test_a_worker_hit_by_ctrl_c_while_it_starts_survives(tiny_model_path: Path) -> None:
    # A terminal's Ctrl-C reaches every worker; one still starting up used to die of it,
    # which broke the pool (and, with Python 3.11, hung the interrupted run at exit).
    done = subprocess.run([sys.executable, "-c", _CTRL_C_WHILE_A_WORKER_STARTS,
                           str(tiny_model_path)], env=subprocess_env(), capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "SIG_IGN"  # and its handlers are in place once it runs


_WORKER_DIES_AS_THE_RUN_IS_INTERRUPTED = """
import multiprocessing, os, signal, sys, threading
from cleaner import cli, files
from cleaner.model import LineModel

jobs = [job for job in files.plan_jobs([sys.argv[2]], sys.argv[3])]
run = cli.Run(LineModel.load(sys.argv[1]), cli.Options(), 2, cli.Reporter(progress=False))
for start in range(0, len(jobs), cli.CHUNK_FILES):
    run._submit(jobs[start:start + cli.CHUNK_FILES])
worker = multiprocessing.active_children()[0]
# while the run waits for the pages in progress, a worker crashes (or meets the OOM killer)
threading.Timer(0.1, os.kill, (worker.pid, signal.SIGKILL)).start()
run.interrupt()
written = sum(not name.startswith(".") for _, _, names in os.walk(sys.argv[3]) for name in names)
print(run.reporter.summary.done, written)
"""


def test_a_worker_dying_while_the_run_is_interrupted_does_not_hang_it(
        tiny_model_path: Path, tmp_path: Path, many: tuple[Path, dict]) -> None:
    # With Python 3.11 the pool's manager thread crashed when the run had cancelled
    # chunks itself and a worker then died; the process waited for that worker forever.
    inputs, _ = many
    done = subprocess.run([sys.executable, "-c", _WORKER_DIES_AS_THE_RUN_IS_INTERRUPTED,
                           str(tiny_model_path), str(inputs), str(tmp_path / "out")],
                          env=subprocess_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Exception in thread" not in done.stderr
    reported, written = map(int, done.stdout.split())
    assert reported == written < 300


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="no signal masks")
def test_ctrl_c_while_signals_are_held_comes_after_not_never() -> None:
    from cleaner.cli import _signals_held

    reached = False
    with pytest.raises(KeyboardInterrupt):
        with _signals_held():
            # To this thread: a process-wide kill may be taken by another thread
            # (OpenMP's, once a model has run), which blocks nothing.
            signal.pthread_kill(threading.get_ident(), signal.SIGINT)
            reached = True
    assert reached


def test_kill_9_then_skip_existing_gives_the_same_tree(cli, tiny_model_path: Path,
                                                        tmp_path: Path,
                                                        many: tuple[Path, dict]) -> None:
    inputs, reference = many
    process = _start([inputs, "-o", tmp_path / "out", "--jobs", "2"], tiny_model_path)
    _wait_for_outputs(tmp_path / "out", process, 20)
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    written = tree(tmp_path / "out")
    finals = {name: data for name, data in written.items() if not Path(name).name.startswith(".")}
    assert 0 < len(finals) < 300
    assert all(finals[name] == reference[name] for name in finals)  # complete or absent
    assert all(name.endswith(".cleaner-tmp") for name in set(written) - set(finals))
    resumed = cli(inputs, "-o", tmp_path / "out", "--skip-existing")
    assert resumed.code == 0
    assert tree(tmp_path / "out") == reference  # leftover temp files removed too


def test_sigterm_is_handled_like_ctrl_c(tiny_model_path: Path, tmp_path: Path,
                                        many: tuple[Path, dict]) -> None:
    inputs, _ = many
    process = _start([inputs, "-o", tmp_path / "out", "--jobs", "1"], tiny_model_path)
    _wait_for_outputs(tmp_path / "out", process, 10)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143
    assert "cleaner: interrupted: " in stderr.splitlines()[-1]
    assert not [p for p in (tmp_path / "out").rglob(".*")]
