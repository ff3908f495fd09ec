"""The command line: ``cleaner clean PATH... -o OUT_DIR`` (or ``cleaner clean -`` in a pipe).

The main process walks the inputs and decides every output name (so
collisions and existing outputs are caught in one place, in sorted order);
worker processes each load the model once, read, check, label and write
their pages in small chunks. Only a bounded number of chunks is in flight,
and results are reported in input order as they complete, so memory stays
flat however many files there are and messages come out deterministically.
A page that cannot be processed is reported as ``cleaner: PATH: reason`` and
the run goes on; a worker that dies takes no other page down with it.
``--sites`` runs the same machinery twice: a survey that keeps a hash per
distinct line of each text page (the one memory that grows with the run),
then the run itself, which drops the site template the survey found.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import errno
import multiprocessing
import os
import select
import signal
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import BinaryIO

import numpy as np

from cleaner import __version__, files, report, site_memory
from cleaner.api import Cleaner
from cleaner.files import InputError, Job, Limits, Problem
from cleaner.labels import BLANK, BODY, LABELS, Line, format_labelled
from cleaner.model import LineModel, ModelError, default_model_path, one_thread
from cleaner.page import Page
from cleaner.reader import read_page
from cleaner.record_run import RecordOptions, clean_record_file
from cleaner.records import record_kind

PROG = "cleaner"
#: Files per chunk sent to a worker: small enough that Ctrl-C is answered in
#: moments, large enough that the model sees several pages per call.
CHUNK_FILES = 8
#: Characters of page text labelled together in one model call by a worker.
BATCH_CHARS = 2_000_000
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


@dataclass(frozen=True)
class Options:
    """What every worker needs to know besides the model."""

    keep: tuple[str, ...] = (BODY,)
    input_format: str | None = None
    explain: bool = False
    probabilities: bool = False
    overwrite: bool = False
    skip_existing: bool = False
    limits: Limits = field(default_factory=Limits)
    review: bool = False  # send each page's labelled lines back for --report
    #: --sites: the first pass only traces text pages (site_memory.trace), writes nothing
    survey: bool = False
    #: --sites: the second pass drops the unsure body lines of text pages found here
    template: np.ndarray | None = field(default=None, compare=False)


@dataclass
class Outcome:
    """What became of one input: an error, or how many lines were kept and dropped."""

    display: str
    error: str | None = None
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    status: str = "done"  # done, failed, skipped (not reported one by one), note
    review: report.PageReview | None = None
    trace: site_memory.Trace | None = None  # what the --sites survey keeps of the page

    def __post_init__(self) -> None:
        if self.error is not None and self.status == "done":
            self.status = "failed"


# --------------------------------------------------------------------------- one page


class PageWorker:
    """Reads, checks, labels and writes pages with one loaded model."""

    def __init__(self, model: LineModel, options: Options) -> None:
        self.options = options
        self.cleaner = Cleaner(model, keep=options.keep, input_format=options.input_format)
        #: Held from a page's write until its outcome is taken: in the main
        #: process a signal then waits, so that every file written is counted.
        self.write_guard: Callable[[], contextlib.AbstractContextManager] = \
            contextlib.nullcontext

    def load(self, data: bytes) -> Page:
        """A checked page from raw bytes; :class:`InputError` says why there is none."""
        return read_page(data, self.options.limits, self.options.input_format)

    def output(self, page: Page, lines: list[Line]) -> tuple[bytes, int, Counter]:
        """The bytes to write, the number of kept lines and the dropped lines by label."""
        keep = self.cleaner.keep
        kept = sum(1 for line in lines if line.label in keep)
        dropped = Counter(line.label for line in lines
                          if line.label not in keep and line.label != BLANK)
        if self.options.explain:
            text = format_labelled(lines, with_probability=self.options.probabilities)
        else:
            body = self.cleaner.render(page, lines)
            text = body + "\n" if body else ""
        return text.encode("utf-8"), kept, dropped

    def process(self, jobs: Iterable[Job]) -> Iterator[Outcome]:
        """Outcomes in job order; pages are labelled in batches of about BATCH_CHARS."""
        batch: list[tuple[Job, Page | None, str | None]] = []
        chars = 0
        for job in jobs:
            try:
                page = self.load(files.read_file(job.source, self.options.limits))
            except InputError as error:
                batch.append((job, None, str(error)))
                continue
            except Exception as error:  # a bug must cost one page, not the run
                batch.append((job, None, _internal(error)))
                continue
            if self.options.survey and not site_memory.takes_part(page.kind, job.site):
                batch.append((job, None, None))  # site memory is for text pages only:
                continue  # an outcome without a trace, counted by the survey's bar
            batch.append((job, page, None))
            chars += sum(map(len, page.lines))
            if chars >= BATCH_CHARS:
                yield from self._finish(batch)
                batch, chars = [], 0
        yield from self._finish(batch)

    def _finish(self, batch: list[tuple[Job, Page | None, str | None]]) -> Iterator[Outcome]:
        pages = [page for _, page, _ in batch if page is not None]
        # The survey reads only body and p(body): no reason model.
        labelled = iter(self.cleaner.label_each(pages, reasons=not self.options.survey))
        for job, page, error in batch:
            if page is None:
                yield Outcome(job.display, error)
                continue
            lines = next(labelled)
            if isinstance(lines, Exception):
                yield Outcome(job.display, _internal(lines))
                continue
            if self.options.survey:
                assert job.site is not None
                yield Outcome(job.display, status="survey",
                              trace=site_memory.trace(lines, job.site))
                continue
            lines = site_memory.drop_recurring(lines, page.kind, job.site,
                                               self.options.template)
            with self.write_guard():
                yield self._write(job, page, lines)

    def _write(self, job: Job, page: Page, lines: list[Line]) -> Outcome:
        try:
            data, kept, dropped = self.output(page, lines)
        except Exception as error:
            return Outcome(job.display, _internal(error))
        try:
            files.write_atomic(job.output, data, overwrite=self.options.overwrite)
        except FileExistsError as error:
            if self.options.skip_existing and os.path.lexists(job.output):
                return Outcome(job.display, status="skipped")  # another run wrote it meanwhile
            return Outcome(job.display, f"cannot write {files.display_path(job.output)}: "
                                        f"{error.strerror or error}")
        except OSError as error:
            reason = error.strerror or str(error)
            return Outcome(job.display, f"cannot write {files.display_path(job.output)}: {reason}")
        review = (report.review_page(job.display, page.kind, lines, self.cleaner.keep)
                  if self.options.review else None)
        return Outcome(job.display, None, kept, dropped, review=review)


def _internal(error: BaseException) -> str:
    if isinstance(error, MemoryError):
        return "out of memory"
    return f"internal error ({type(error).__name__}: {error})"


# --------------------------------------------------------------------------- workers

_worker: PageWorker | None = None


#: Signals a worker is born with blocked (see ``_signals_held``).
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Let Ctrl-C and SIGTERM wait until the end of a step that must not be cut in two.

    A chunk handed to the pool but not recorded, or a page written but not
    counted, would make the summary disagree with the files written. The
    signal is noted and raised again, with the handlers of the caller, when
    the step ends (at once if the step ends with an exception). Python runs
    signal handlers in the main thread only, so only there is this needed.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {signum: signal.signal(signum, lambda signum, frame: received.append(signum))
                for signum in _STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if received:
            signal.raise_signal(received[0])


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Block Ctrl-C and SIGTERM while worker processes are started.

    A terminal sends Ctrl-C to every process of the group. A worker still
    starting up has Python's default handler and would die of it, breaking
    the pool. Blocked signals are inherited by the processes started here
    (and by the fork server, whose children are the workers); a worker
    unblocks them once its own handlers are set. In this process a signal
    that came in the meantime (to any thread: the mask is per thread) is
    raised when the block ends, not lost and not in the middle of a submit.
    """
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no signal masks
        with _signals_deferred():
            yield
        return
    with _signals_deferred():
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            yield
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _init_worker(model: LineModel, options: Options, run_alive: Connection | None = None) -> None:
    """Load once per process; leave Ctrl-C to the main process; die cleanly on SIGTERM,
    and when the main process is gone."""
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _die_on_sigterm)
    if run_alive is not None:
        threading.Thread(target=_stop_when_the_run_ends, args=(run_alive,), daemon=True,
                         name="run-alive").start()
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    one_thread()  # for the life of the process
    _worker = PageWorker(model, options)


def _stop_when_the_run_ends(run_alive: Connection) -> None:
    """Wait on a pipe whose only writer is the main process; its end means the run is gone.

    A worker is a child of the fork server, not of the main process, and
    it holds the pool's queues open itself, so a main process killed with
    SIGKILL (a supervisor, ``timeout -s KILL``) used to leave the workers
    waiting, or writing, for ever. The end of this pipe comes whatever
    killed the main process; the worker then stops as on SIGTERM, removing
    the file it was writing, from this thread, so at once even while the
    main thread is deep in one long page.
    """
    try:
        run_alive.recv_bytes()
    except (EOFError, OSError):
        pass
    _die_on_sigterm(signal.SIGTERM, None)


def _die_on_sigterm(signum: int, frame: object) -> None:
    temp = files.temp_in_progress
    if temp:
        try:
            os.unlink(temp)
        except OSError:
            pass
    os._exit(128 + signum)


def _run_chunk(jobs: list[Job]) -> list[Outcome]:
    assert _worker is not None, "worker not initialised"
    return list(_worker.process(jobs))


# --------------------------------------------------------------------------- a run


@dataclass
class Summary:
    done: int = 0
    failed: int = 0
    skipped: int = 0
    kept: int = 0
    empty: int = 0
    dropped: Counter = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None  # set once, so every copy of the line gives the same time

    def line(self, interrupted: bool = False) -> str:
        elapsed = (self.finished or time.monotonic()) - self.started
        rate = (self.done + self.failed) / max(elapsed, 1e-9)
        dropped = ", ".join(f"{label} {count:,}" for label, count in
                            sorted(self.dropped.items(), key=lambda item: (-item[1], item[0])))
        text = (f"{self.done:,} pages done, {self.failed:,} failed"
                + (f", {self.skipped:,} skipped (output exists)" if self.skipped else "")
                + f"; {self.kept:,} lines kept, dropped: {dropped or 'none'}"
                + f"; {self.empty:,} empty outputs; {elapsed:.1f} s, {rate:,.1f} pages/s")
        return ("interrupted: " if interrupted else "") + text


@dataclass
class _Entry:
    """A place in the ordered stream of results: finished outcomes, or a chunk in flight."""

    jobs: list[Job]
    future: Future | None = None
    outcomes: list[Outcome] | None = None


class Reporter:
    """Messages and the progress bar on stderr; the summary it adds up."""

    def __init__(self, progress: bool, report: report.ReportCollector | None = None,
                 paths: Sequence[str] = (), desc: str | None = None) -> None:
        self.summary = Summary()
        self.report = report
        self.bar = None
        if progress:
            import tqdm

            tqdm.tqdm.monitor_interval = 0
            self.bar = tqdm.tqdm(desc=desc, unit=" pages", file=sys.stderr, dynamic_ncols=True)
            threading.Thread(target=self._count, args=(paths,), daemon=True).start()

    def _count(self, paths: Sequence[str]) -> None:
        """Give the bar its total (and so an ETA) once a walk has counted the inputs."""
        total = sum(1 for item in files.walk_inputs(paths) if not isinstance(item, Problem))
        if self.bar is not None:
            self.bar.total = total
            self.bar.refresh()

    def message(self, text: str) -> None:
        text = files.escape_controls(text)  # one message, one line, no terminal codes
        if self.bar is not None:
            self.bar.write(f"{PROG}: {text}", file=sys.stderr)
        else:
            print(f"{PROG}: {text}", file=sys.stderr, flush=True)

    def outcome(self, outcome: Outcome) -> None:
        if outcome.status in ("failed", "note"):
            self.message(f"{outcome.display}: {outcome.error}")
        if self.report is not None:
            self.report.add(outcome.status, outcome.display, outcome.error, outcome.review)
        if outcome.status == "done":
            self.summary.done += 1
            self.summary.kept += outcome.kept
            self.summary.empty += outcome.kept == 0
            self.summary.dropped.update(outcome.dropped)
        elif outcome.status == "failed":
            self.summary.failed += 1
        elif outcome.status == "skipped":
            self.summary.skipped += 1
        if self.bar is not None and outcome.status != "note":
            self.bar.update(1)

    def close(self, interrupted: bool) -> None:
        if self.bar is not None:
            self.bar.close()
        self.summary.finished = time.monotonic()
        print(f"{PROG}: {self.summary.line(interrupted)}", file=sys.stderr, flush=True)


class SurveyReporter(Reporter):
    """The first pass of ``--sites``: collects each text page's trace, reports nothing
    per page (the run that follows reports what cannot be read) and prints no summary."""

    def __init__(self, progress: bool, paths: Sequence[str]) -> None:
        super().__init__(progress, paths=paths, desc="sites")
        self.traces: list[site_memory.Trace] = []

    def outcome(self, outcome: Outcome) -> None:
        if outcome.trace is not None:
            self.traces.append(outcome.trace)
        if self.bar is not None:
            self.bar.update(1)

    def close(self, interrupted: bool) -> None:
        if self.bar is not None:
            self.bar.close()


def _problem_outcome(problem: Problem) -> Outcome:
    return Outcome(problem.display, problem.reason, status=problem.status)


class Run:
    """Feeds chunks of jobs to worker processes and reports outcomes in input order."""

    def __init__(self, model: LineModel, options: Options, jobs: int, reporter: Reporter) -> None:
        self.model, self.options, self.jobs, self.reporter = model, options, jobs, reporter
        self.entries: deque[_Entry] = deque()
        self.executor: ProcessPoolExecutor | None = None
        self.max_in_flight = jobs * 2
        #: The workers watch the reading end (see ``_stop_when_the_run_ends``).
        self.alive: tuple[Connection, Connection] | None = None

    def execute(self, plan: Iterator[Job | Problem]) -> None:
        head = list(_take_jobs(plan, CHUNK_FILES))
        if self.jobs == 1 or sum(isinstance(item, Job) for item in head) < CHUNK_FILES:
            self._in_process(head, plan)  # starting processes would cost more than it saves
            return
        chunk: list[Job] = []
        for item in _chain(head, plan):
            if isinstance(item, Problem):
                self._submit(chunk)
                chunk = []
                self.entries.append(_Entry([], outcomes=[_problem_outcome(item)]))
            else:
                chunk.append(item)
                if len(chunk) >= CHUNK_FILES:
                    self._submit(chunk)
                    chunk = []
            self._drain(final=False)
        self._submit(chunk)
        self._drain(final=True)
        if self.executor is not None:
            self.executor.shutdown(wait=True)
            self.executor = None

    def _in_process(self, head: list[Job | Problem], plan: Iterator[Job | Problem]) -> None:
        worker = PageWorker(self.model, self.options)
        worker.write_guard = _signals_deferred
        chunk: list[Job] = []
        with one_thread():
            for item in _chain(head, plan):
                if isinstance(item, Job):
                    chunk.append(item)
                    if len(chunk) < CHUNK_FILES:
                        continue
                for outcome in worker.process(chunk):
                    self.reporter.outcome(outcome)
                chunk = []
                if isinstance(item, Problem):
                    self.reporter.outcome(_problem_outcome(item))
            for outcome in worker.process(chunk):
                self.reporter.outcome(outcome)

    def _pool(self, jobs: int | None = None) -> ProcessPoolExecutor:
        """The pool, started on first use; with ``jobs``, a new one of that size."""
        if self.alive is None:
            self.alive = multiprocessing.Pipe(duplex=False)
        if jobs is not None:
            return _new_executor(jobs, self.model, self.options, self.alive[0])
        if self.executor is None:
            self.executor = _new_executor(self.jobs, self.model, self.options, self.alive[0])
        return self.executor

    def close(self) -> None:
        """End the pipe the workers watch: any worker still alive stops."""
        if self.alive is not None:
            for end in self.alive:
                end.close()
            self.alive = None

    def _submit(self, chunk: list[Job]) -> None:
        if chunk:
            with _signals_held():  # a submit may start a worker; the entry is kept either way
                self.entries.append(_Entry(chunk, self._pool().submit(_run_chunk, chunk)))

    def _drain(self, final: bool) -> None:
        """Report finished entries from the front; block while too many are in flight."""
        while self.entries:
            head = self.entries[0]
            if head.outcomes is None:
                assert head.future is not None
                in_flight = sum(1 for entry in self.entries if entry.outcomes is None)
                if not (final or head.future.done() or in_flight >= self.max_in_flight
                        or len(self.entries) > 64 * self.max_in_flight):
                    return
                try:
                    head.outcomes = head.future.result()
                except BrokenProcessPool:
                    self._recover_from_crash()
                    continue
            with _signals_deferred():
                self.entries.popleft()
                for outcome in head.outcomes:
                    self.reporter.outcome(outcome)

    def _recover_from_crash(self) -> None:
        """A worker died (a crash or the OOM killer): redo its pages one by one to find the culprit.

        Every chunk in flight fails with the pool, so each of their pages is
        run alone in a fresh one-process pool; the page that kills that one
        is reported, the others are processed normally.
        """
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = None
        solo: ProcessPoolExecutor | None = None
        for entry in self.entries:
            if entry.outcomes is not None:
                continue
            assert entry.future is not None
            if entry.future.done() and entry.future.exception() is None:
                entry.outcomes = entry.future.result()
                continue
            entry.outcomes = []
            for job in entry.jobs:
                solo = solo or self._pool(jobs=1)
                try:
                    with _signals_held():
                        future = solo.submit(_run_chunk, [job])
                    entry.outcomes += future.result()
                except BrokenProcessPool:
                    entry.outcomes.append(Outcome(
                        job.display, "worker process died on this page (crash or out of memory)"))
                    solo.shutdown(wait=False, cancel_futures=True)
                    solo = None
        if solo is not None:
            solo.shutdown(wait=True)

    def interrupt(self) -> None:
        """Stop starting pages; let the ones in progress finish and report them.

        The pool itself cancels the chunks not yet handed to a worker
        (cancelling them here instead makes Python 3.11's pool crash if a
        worker dies meanwhile, and the run then hangs at exit). A second
        Ctrl-C stops the workers at once; each removes the temporary file it
        was writing, so no partial output is left.
        """
        # Python 3.11's pool closes its wake-up pipe from its manager thread; an exit
        # while that thread is closing it makes concurrent.futures' exit hook write to
        # the closed pipe and print an OSError traceback. So the run waits for that
        # thread here (it ends once the workers have finished their pages and left).
        manager = getattr(self.executor, "_executor_manager_thread", None)
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)
        try:
            if any(entry.future is not None and entry.future.running()
                   for entry in self.entries):
                self.reporter.message("interrupted; finishing the pages in progress "
                                      "(Ctrl-C again to stop at once)")
            while self.entries:
                entry = self.entries.popleft()
                if entry.outcomes is None:
                    assert entry.future is not None
                    try:
                        entry.outcomes = entry.future.result()
                    except (CancelledError, BrokenProcessPool):
                        continue
                for outcome in entry.outcomes:
                    self.reporter.outcome(outcome)
            if manager is not None:
                manager.join()
        except KeyboardInterrupt:
            for child in multiprocessing.active_children():
                child.terminate()
        self.executor = None


def _new_executor(jobs: int, model: LineModel, options: Options,
                  run_alive: Connection | None = None) -> ProcessPoolExecutor:
    # forkserver: workers fork from a fresh process, never from one whose
    # OpenMP or other threads are running (GNU OpenMP does not survive a fork).
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    return ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                               initializer=_init_worker, initargs=(model, options, run_alive))


def _take_jobs(plan: Iterator[Job | Problem], count: int) -> Iterator[Job | Problem]:
    """Items from the plan up to and including the ``count``-th job."""
    taken = 0
    for item in plan:
        yield item
        if isinstance(item, Job):
            taken += 1
            if taken >= count:
                return


def _chain(head: list[Job | Problem], rest: Iterator[Job | Problem]) -> Iterator[Job | Problem]:
    yield from head
    yield from rest


# --------------------------------------------------------------------------- arguments


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def _memory_bytes() -> int:
    """This machine's memory: no page, line or line count can be larger."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf: only what Python can index
        return sys.maxsize // 2


def _limit(text: str) -> int:
    """A page limit: a larger value than the memory could ever be reached only by
    failing page after page for want of memory (or with an OverflowError)."""
    value = _positive_int(text)
    memory = _memory_bytes()
    if value > memory:
        raise argparse.ArgumentTypeError(
            f"{text!r} is more than this machine's memory ({memory:,} bytes)")
    return value


def _labels(text: str) -> tuple[str, ...]:
    labels = tuple(label.strip() for label in text.split(",") if label.strip())
    unknown = [label for label in labels if label not in LABELS]
    if unknown or not labels:
        raise argparse.ArgumentTypeError(
            f"unknown label {', '.join(map(repr, unknown)) or '(none given)'}; "
            f"labels are {', '.join(LABELS)}")
    return labels


def build_parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The ``cleaner`` parser and its ``clean`` subcommand's parser."""
    # allow_abbrev=False: --expl must not silently mean --explain.
    parser = argparse.ArgumentParser(
        prog=PROG, allow_abbrev=False,
        description="Keep the article body of scraped news pages, drop the chrome.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    clean = commands.add_parser(
        "clean", allow_abbrev=False,
        help="clean pages (files, directories, or - for standard input)",
        description="Write the body of each page (plain text or HTML, optionally .gz) "
                    "to OUT_DIR, mirroring the input tree: REL/name.html -> OUT_DIR/REL/name.txt.")
    clean.add_argument("paths", nargs="+", metavar="PATH",
                       help="files or directories (walked recursively), or - alone for stdin")
    clean.add_argument("-o", "--output", metavar="OUT_DIR", help="output directory")
    clean.add_argument("--input-format", choices=("text", "html"),
                       help="treat every input as this (default: detect from the content)")
    clean.add_argument("--explain", action="store_true",
                       help="write label<TAB>line for every line instead of the body "
                            "(files end in .labels.tsv)")
    clean.add_argument("--probabilities", action="store_true",
                       help="with --explain, add the probability of each label")
    clean.add_argument("--keep", type=_labels, default=(BODY,), metavar="LABELS",
                       help="comma-separated labels to keep (default: body)")
    clean.add_argument("--sites", choices=(*files.SITE_GROUPINGS, "url"),
                       help="text pages: drop an unsure kept line that recurs on another "
                            "article of the same site, a page's site being its folder "
                            "(folder), the first folder below the PATH it is under (top), or "
                            "for record files the host of its url field (url); every text "
                            "page is read and labelled twice")
    clean.add_argument("--model", metavar="PATH",
                       help=f"model file (default: {default_model_path()})")
    clean.add_argument("-j", "--jobs", type=_positive_int, default=os.cpu_count() or 1,
                       help="worker processes (default: all cores)")
    existing = clean.add_mutually_exclusive_group()
    existing.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    existing.add_argument("--skip-existing", action="store_true",
                          help="skip inputs whose output exists (resume a run)")
    clean.add_argument("--report", metavar="FILE",
                       help="also write an HTML audit page of the run: summary, failures, "
                            "and a sample of pages with every line coloured by its label")
    clean.add_argument("--report-pages", type=_positive_int, metavar="N",
                       help="pages shown in the --report, least confident first "
                            f"(default: {report.DEFAULT_PAGES})")
    commands.add_parser("train", add_help=False,
                        help="retrain on labelled pages (cleaner train --help)")
    commands.add_parser("eval", add_help=False,
                        help="evaluate a model on corpora and seeds (cleaner eval --help)")
    records = clean.add_argument_group(
        "record files", "a .jsonl, .warc or .wet file (optionally .gz or .zst) is read as "
                        "records: give it alone as PATH, with -o OUT.jsonl[.gz|.zst] or -o -")
    records.add_argument("--field", metavar="NAME",
                         help="JSONL field holding the page (default: the first of "
                              "html, text, content, raw_content)")
    records.add_argument("--output-field", default="text", metavar="NAME",
                         help="field the body is written to (default: %(default)s)")
    records.add_argument("--label-counts", action="store_true",
                         help="add label_counts (lines per label) to each record")
    records.add_argument("--no-metadata", action="store_true",
                         help="do not add title, author, date, url, language of HTML pages")
    limits = Limits()
    clean.add_argument("--max-page-bytes", type=_limit, default=limits.max_page_bytes,
                       metavar="N", help="skip pages larger than this, after decompression "
                                         "(default: %(default)s)")
    clean.add_argument("--max-line-chars", type=_limit, default=limits.max_line_chars,
                       metavar="N", help="skip pages with a longer line or block "
                                         "(default: %(default)s)")
    clean.add_argument("--max-page-lines", type=_limit, default=limits.max_page_lines,
                       metavar="N", help="skip pages with more lines or blocks "
                                         "(default: %(default)s)")
    return parser, clean


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 some pages failed, 2 usage)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] in (["train"], ["eval"]):  # their own parsers, in cleaner.training
        return _training_command(argv[0], argv[1:])
    parser, clean_parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse exits 2 on usage errors, 0 after --help
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    if args.command != "clean":
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    with _stop_signals_raised() as received:
        try:
            return _clean(args)
        except _UsageError as error:
            clean_parser.print_usage(sys.stderr)
            print(f"{PROG} clean: error: {error}", file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt:  # while the model loads, before the run has begun
            print(f"{PROG}: interrupted", file=sys.stderr, flush=True)
            return 128 + (received[0] if received else signal.SIGINT)


@contextlib.contextmanager
def _stop_signals_raised() -> Iterator[list[int]]:
    """Ctrl-C and SIGTERM raise KeyboardInterrupt (noting which came) for the whole command,
    so that one loading the model exits 130 or 143 without a traceback."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def stop(signum: int, frame: object) -> None:
        received.append(signum)
        raise KeyboardInterrupt

    previous = {signum: signal.signal(signum, stop) for signum in _STOP_SIGNALS}
    try:
        yield received
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _training_command(name: str, argv: list[str]) -> int:
    """``cleaner train`` and ``cleaner eval``: the training modules' own main, as installed."""
    if name == "train":
        from cleaner.training.train import main as command
    else:
        from cleaner.training.evaluate import main as command
    try:
        return command(argv, prog=f"{PROG} {name}")
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE


class _UsageError(Exception):
    """Arguments that make no sense together; exit 2 with the usage line."""


def _clean(args: argparse.Namespace) -> int:
    kinds = [record_kind(path) for path in args.paths]
    if any(kinds):
        return _clean_records(args, kinds)
    stdin = args.paths == ["-"]
    if "-" in args.paths and not stdin:
        raise _UsageError("- (standard input) must be the only PATH")
    if args.probabilities and not args.explain:
        raise _UsageError("--probabilities goes with --explain")
    if stdin and args.sites:
        raise _UsageError("--sites needs pages in folders, not -")
    if args.sites == "url":
        raise _UsageError("--sites url is for record files; pages in folders take "
                          "--sites folder or --sites top")
    if not stdin and not args.output:
        raise _UsageError("the output directory is required: -o OUT_DIR")
    if stdin and args.output:
        raise _UsageError("with - the body goes to standard output; leave out -o")
    _check_report_args(args, stdin)
    if not stdin:
        if os.path.exists(args.output) and not os.path.isdir(args.output):
            raise _UsageError(f"output is not a directory: {files.display_path(args.output)}")
        inside = files.output_inside_input(args.paths, args.output)
        if inside is not None:
            raise _UsageError(f"output directory {files.display_path(args.output)} is inside "
                              f"input directory {files.display_path(inside)}")
        inside = files.input_inside_output(args.paths, args.output)
        if inside is not None:
            raise _UsageError(f"input directory {files.display_path(inside)} is inside "
                              f"output directory {files.display_path(args.output)}")
        missing = [path for path in args.paths if not os.path.lexists(path)]
        if missing:  # before the model loads and before anything is created
            raise _UsageError("no such file or directory: "
                              + ", ".join(map(files.display_path, missing)))
    try:
        model = LineModel.load(args.model)
    except ModelError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return EXIT_USAGE
    options = Options(
        keep=args.keep, input_format=args.input_format, explain=args.explain,
        probabilities=args.probabilities, overwrite=args.overwrite,
        skip_existing=args.skip_existing,
        limits=Limits(args.max_page_bytes, args.max_line_chars, args.max_page_lines),
        review=args.report is not None,
    )
    if stdin:
        return _clean_stdin(model, options)
    try:
        os.makedirs(args.output, exist_ok=True)
    except OSError as error:
        print(f"{PROG}: cannot create output directory {files.display_path(args.output)}: "
              f"{error.strerror or error}", file=sys.stderr)
        return EXIT_USAGE
    if args.sites:
        survey = SurveyReporter(sys.stderr.isatty(), args.paths)
        run = Run(model, dataclasses.replace(options, survey=True), args.jobs, survey)
        signum = _run_interruptibly(run, files.survey_jobs(args.paths, args.output, args.sites))
        survey.close(signum is not None)
        if signum is not None:
            print(f"{PROG}: interrupted while reading the sites; no page written",
                  file=sys.stderr, flush=True)
            return 128 + signum
        options = dataclasses.replace(options, template=site_memory.recurring(survey.traces))
    existing = "overwrite" if args.overwrite else "skip" if args.skip_existing else "error"
    suffix = files.EXPLAIN_SUFFIX if args.explain else files.BODY_SUFFIX
    plan = files.plan_jobs(args.paths, args.output, suffix, existing, args.sites)
    collector = None
    if args.report is not None:
        collector = report.ReportCollector(args.report_pages or report.DEFAULT_PAGES)
    reporter = Reporter(progress=sys.stderr.isatty(), report=collector, paths=args.paths)
    run = Run(model, options, args.jobs, reporter)
    signum = _run_interruptibly(run, plan)
    reporter.close(interrupted=signum is not None)
    written = collector is None or _write_report(args, reporter, collector, signum is not None)
    if signum is not None:
        return 128 + signum
    return EXIT_FAILED if reporter.summary.failed or not written else EXIT_OK


def _check_report_args(args: argparse.Namespace, stdin: bool) -> None:
    if args.report is None:
        if args.report_pages is not None:
            raise _UsageError("--report-pages goes with --report")
        return
    if stdin:
        raise _UsageError("--report needs a run into an output directory, not -")
    if os.path.isdir(args.report):
        raise _UsageError(f"report is a directory: {files.display_path(args.report)}")
    if os.path.lexists(args.report) and not args.overwrite:
        raise _UsageError(f"report exists: {files.display_path(args.report)} "
                          "(--overwrite to replace it)")


def _write_report(args: argparse.Namespace, reporter: Reporter,
                  collector: report.ReportCollector, interrupted: bool) -> bool:
    """Write the audit page from the counters the summary line was printed from."""
    summary = reporter.summary
    figures = report.RunFigures(summary.done, summary.failed, summary.skipped, summary.kept,
                                dict(summary.dropped), f"{PROG}: {summary.line(interrupted)}",
                                interrupted, summary.empty)
    data = report.render(figures, collector, args.keep).encode("utf-8")
    try:
        files.write_atomic(args.report, data, overwrite=args.overwrite)
    except OSError as error:
        print(f"{PROG}: cannot write report {files.display_path(args.report)}: "
              f"{error.strerror or error}", file=sys.stderr)
        return False
    return True


def _run_interruptibly(run: Run, plan: Iterator[Job | Problem]) -> int | None:
    """Run; on Ctrl-C or SIGTERM stop cleanly and return the signal number."""
    received: list[int] = []

    def on_sigterm(signum: int, frame: object) -> None:
        received.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        run.execute(plan)
        return None
    except KeyboardInterrupt:
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        run.interrupt()
        return received[0] if received else signal.SIGINT
    finally:
        signal.signal(signal.SIGTERM, previous)
        run.close()


def _clean_records(args: argparse.Namespace, kinds: list) -> int:
    """A JSONL, WARC or WET file: records in, JSONL records out (see record_run)."""
    if len(args.paths) != 1:
        raise _UsageError("a record file (.jsonl, .warc, .wet) must be the only PATH")
    if not args.output:
        raise _UsageError("the output file is required: -o OUT.jsonl[.gz|.zst] or -o -")
    if args.probabilities and not args.explain:
        raise _UsageError("--probabilities goes with --explain")
    for option, given in (("--report", args.report), ("--skip-existing", args.skip_existing)):
        if given:
            raise _UsageError(f"{option} is for pages, not record files")
    if args.sites not in (None, "url"):
        raise _UsageError(f"--sites {args.sites} is for pages in folders; records take "
                          "--sites url (the host of their url field)")
    options = RecordOptions(
        sites=args.sites == "url", field=args.field, output_field=args.output_field, keep=args.keep,
        input_format=args.input_format, explain=args.explain, probabilities=args.probabilities,
        label_counts=args.label_counts or kinds[0] != "jsonl", metadata=not args.no_metadata,
        limits=Limits(args.max_page_bytes, args.max_line_chars, args.max_page_lines))
    return clean_record_file(args.paths[0], kinds[0], args.output, args.model, options,
                             args.jobs, args.overwrite)


def _clean_stdin(model: LineModel, options: Options) -> int:
    """One page from standard input, its body (or labels) to standard output."""
    for stream, name in ((sys.stdin, "standard input"), (sys.stdout, "standard output")):
        if stream is None:  # started with the descriptor closed (<&- or >&-)
            print(f"{PROG}: {name} is closed", file=sys.stderr)
            return EXIT_FAILED
    worker = PageWorker(model, options)
    try:
        page = worker.load(files.read_stream(sys.stdin.buffer, options.limits))
        with one_thread():
            data, _, _ = worker.output(page, worker.cleaner.label(page))
    except InputError as error:
        print(f"{PROG}: <stdin>: {error}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as error:
        print(f"{PROG}: <stdin>: cannot read: {error.strerror or error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 128 + signal.SIGINT
    try:
        _write_all(sys.stdout.buffer, data)
    except OSError as error:  # the reader went away (| head -c 10), /dev/full, a bad descriptor
        print(f"{PROG}: <stdout>: cannot write: {error.strerror or error}", file=sys.stderr)
        # what could not be written must not be tried again (with a traceback) at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_FAILED
    return EXIT_OK


def _write_all(stream: BinaryIO, data: bytes) -> None:
    """Write every byte or raise: unbuffered (``python -u``, PYTHONUNBUFFERED) or non-blocking
    standard output can take part of the data, and the rest used to be dropped, exit 0."""
    view = memoryview(data)
    while view:
        written = stream.write(view)
        if written is None:  # non-blocking and full: wait until it takes more
            select.select([], [stream], [])
            continue
        if written == 0:
            raise OSError(errno.EIO, "nothing could be written")
        view = view[written:]
    stream.flush()


if __name__ == "__main__":
    sys.exit(main())
