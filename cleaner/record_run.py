"""Cleaning a stream of records: one record in, one record out, in order.

The main process reads records (raw JSONL lines, or WARC/WET payloads) and
sends them in chunks to worker processes, each with the model loaded once;
only a few chunks are in flight, and results are written in input order as
they come, so memory stays flat however long the input is. A record that
cannot be cleaned comes out with an ``error`` field and the run goes on.
With ``--sites url`` the file is read twice: a survey keeps a hash per distinct
line of each text record, then the run drops the site template it found.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from urllib.parse import urlsplit

import numpy as np

from cleaner import site_memory
from cleaner.api import Cleaner
from cleaner.decode import decode_bytes
from cleaner.files import display_path, remove_stale_temps
from cleaner.labels import BLANK, BODY, Line
from cleaner.metadata import FIELDS as METADATA_FIELDS
from cleaner.metadata import page_metadata
from cleaner.model import LineModel, ModelError, one_thread
from cleaner.page import Page
from cleaner.reader import InputError, Limits, read_page
from cleaner.records import (
    Item,
    Payload,
    RecordKind,
    RecordWriter,
    check_readable,
    jsonl_lines,
    open_input,
    record_kind,
    warc_payloads,
)

#: Records per chunk sent to a worker, and characters that end a chunk early.
CHUNK_RECORDS = 64
CHUNK_CHARS = 4_000_000
#: Fields tried in order for the page when no --field is given.
PAGE_FIELDS = ("html", "text", "content", "raw_content")


@dataclass(frozen=True)
class RecordOptions:
    field: str | None = None  # None: the first of PAGE_FIELDS the record has
    output_field: str = "text"
    keep: tuple[str, ...] = (BODY,)
    input_format: str | None = None
    explain: bool = False
    probabilities: bool = False
    label_counts: bool = False
    metadata: bool = True
    limits: Limits = Limits()  # frozen, so one default can be shared
    sites: bool = False  # --sites url: drop site template from text records by their url
    survey: bool = False  # --sites: the first pass, which only traces text records
    template: np.ndarray | None = dataclasses.field(default=None, compare=False)  # survey's


@dataclass
class ChunkResult:
    lines: list[bytes]
    done: int = 0
    failed: int = 0
    empty: int = 0
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    traces: list[site_memory.Trace] = field(default_factory=list)


def url_site(record: dict) -> str | None:
    """A record's site for ``--sites url``: its url's host, without ``www.``."""
    url = record.get("url")
    try:
        host = urlsplit(url).hostname if isinstance(url, str) else None
    except ValueError:  # an unbalanced [ in the host
        return None
    return host.removeprefix("www.") if host else None


class RecordWorker:
    """Parses, reads, labels and serialises records with one loaded model."""

    def __init__(self, model: LineModel, options: RecordOptions) -> None:
        self.options = options
        self.cleaner = Cleaner(model, keep=options.keep, limits=options.limits)

    def process(self, items: list[Item]) -> ChunkResult:
        prepared: list[tuple[dict, Page | None, str | None]] = [self._prepare(item)
                                                               for item in items]
        if self.options.survey:
            return self._survey(prepared)
        pages = [page for _, page, _ in prepared if page is not None]
        labelled = iter(self.cleaner.label_each(pages))
        result = ChunkResult([])
        for record, page, error in prepared:
            if page is not None:
                lines = next(labelled)
                if isinstance(lines, Exception):
                    error = f"internal error ({type(lines).__name__}: {lines})"
                else:
                    if self.options.template is not None:
                        lines = site_memory.drop_recurring(lines, page.kind, url_site(record),
                                                           self.options.template)
                    self._fill(record, page, lines, result)
            if error is not None:
                record["error"] = error
                result.failed += 1
            else:
                result.done += 1
            result.lines.append(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")
        return result

    def _survey(self, prepared: list[tuple[dict, Page | None, str | None]]) -> ChunkResult:
        """The first pass of ``--sites``: the trace of each text record with a url."""
        chosen = [(page, site) for record, page, _ in prepared
                  if page is not None
                  and site_memory.takes_part(page.kind, site := url_site(record))]
        labelled = self.cleaner.label_each([page for page, _ in chosen], reasons=False)
        traces = [site_memory.trace(lines, site) for (_, site), lines
                  in zip(chosen, labelled, strict=True) if not isinstance(lines, Exception)]
        return ChunkResult([], done=len(prepared), traces=traces)

    def _prepare(self, item: Item) -> tuple[dict, Page | None, str | None]:
        """The record to write, its page (or None) and why there is none."""
        if isinstance(item, Payload):
            record, data, input_format = dict(item.fields), item.data, item.input_format
        else:
            try:
                record = json.loads(item)
            except ValueError as error:
                return {"input": item.decode("utf-8", "replace").rstrip("\r\n")}, None, \
                    f"not JSON ({error})"
            if not isinstance(record, dict):
                return {"input": record}, None, "not a JSON object"
            name = self.options.field or next(
                (name for name in PAGE_FIELDS if isinstance(record.get(name), str)), None)
            if name is None or not isinstance(record.get(name), str):
                wanted = self.options.field or " or ".join(PAGE_FIELDS)
                return record, None, f"no string field {wanted}"
            # Encoded, so that a record's page gets the same checks and limits as a file's.
            data, input_format = record[name].encode("utf-8", "surrogatepass"), None
        try:
            page = read_page(data, self.options.limits,
                             self.options.input_format or input_format)  # type: ignore[arg-type]
        except InputError as error:
            return record, None, str(error)
        except Exception as error:  # a bug must cost one record, not the run
            return record, None, f"internal error ({type(error).__name__}: {error})"
        if page.kind == "html" and self.options.metadata and not self.options.survey:
            found = page_metadata(decode_bytes(data))
            for name in METADATA_FIELDS:
                if name in found and record.get(name) in (None, ""):
                    record[name] = found[name]
        return record, page, None

    def _fill(self, record: dict, page: Page, lines: list[Line], result: ChunkResult) -> None:
        keep = self.cleaner.keep
        body = self.cleaner.render(page, lines)
        record[self.options.output_field] = body
        counts = Counter(line.label for line in lines if line.label != BLANK)
        if self.options.label_counts:
            record["label_counts"] = dict(sorted(counts.items()))
        if self.options.explain:
            record["lines"] = [
                [line.label, round(line.probability, 4), line.text] if self.options.probabilities
                else [line.label, line.text] for line in lines]
        result.kept += sum(count for label, count in counts.items() if label in keep)
        result.dropped.update({label: count for label, count in counts.items()
                               if label not in keep})
        result.empty += not body


# --------------------------------------------------------------------------- workers

_worker: RecordWorker | None = None


def _init_worker(model: LineModel, options: RecordOptions, run_alive: Connection) -> None:
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    threading.Thread(target=_exit_when_the_run_ends, args=(run_alive,), daemon=True).start()
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    one_thread()
    _worker = RecordWorker(model, options)


def _exit_when_the_run_ends(run_alive: Connection) -> None:
    """The main process holds the only writing end of this pipe: its end, however the main
    process died (SIGKILL included), ends this worker, which writes no file of its own."""
    try:
        run_alive.recv_bytes()
    except (EOFError, OSError):
        pass
    os._exit(1)


def _run_chunk(items: list[Item]) -> ChunkResult:
    assert _worker is not None, "worker not initialised"
    return _worker.process(items)


def chunks(items: Iterable[Item]) -> Iterator[list[Item]]:
    """Items in chunks of at most CHUNK_RECORDS records or about CHUNK_CHARS bytes."""
    chunk: list[Item] = []
    size = 0
    for item in items:
        chunk.append(item)
        size += len(item) if isinstance(item, bytes) else len(item.data)
        if len(chunk) >= CHUNK_RECORDS or size >= CHUNK_CHARS:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


@dataclass
class RecordSummary:
    done: int = 0
    failed: int = 0
    empty: int = 0
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)
    traces: list[site_memory.Trace] = field(default_factory=list)  # --sites' survey

    def add(self, result: ChunkResult) -> None:
        self.traces += result.traces
        self.done += result.done
        self.failed += result.failed
        self.empty += result.empty
        self.kept += result.kept
        self.dropped.update(result.dropped)

    def line(self, interrupted: bool = False) -> str:
        elapsed = time.monotonic() - self.started
        total = self.done + self.failed
        dropped = ", ".join(f"{label} {count:,}" for label, count in
                            sorted(self.dropped.items(), key=lambda item: (-item[1], item[0])))
        skipped = ", ".join(f"{reason} {count:,}" for reason, count in
                            sorted(self.skipped.items(), key=lambda item: (-item[1], item[0])))
        text = (f"{self.done:,} records done, {self.failed:,} failed (error field), "
                f"{self.empty:,} with an empty body"
                + (f", skipped: {skipped}" if skipped else "")
                + f"; {self.kept:,} lines kept, dropped: {dropped or 'none'}"
                + f"; {elapsed:.1f} s, {total / max(elapsed, 1e-9):,.1f} records/s")
        return ("interrupted: " if interrupted else "") + text


def run_records(items: Iterable[Item], model: LineModel, options: RecordOptions, jobs: int,
                write, summary: RecordSummary, progress=None) -> None:
    """Clean every item, passing each chunk's output lines to ``write`` in input order."""
    def report(result: ChunkResult) -> None:
        write(result.lines)
        summary.add(result)
        if progress is not None:
            progress.update(result.done + result.failed)

    pending = chunks(items)
    first = next(pending, [])
    if jobs == 1 or len(first) < CHUNK_RECORDS:  # one chunk: starting workers costs more
        worker = RecordWorker(model, options)
        with one_thread():
            for chunk in itertools.chain([first], pending):
                report(worker.process(chunk))
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    run_alive, alive_end = multiprocessing.Pipe(duplex=False)
    executor = ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                                   initializer=_init_worker, initargs=(model, options, run_alive))
    in_flight: deque[Future] = deque()
    try:
        for chunk in itertools.chain([first], pending):
            in_flight.append(_submit(executor, chunk))
            while in_flight and (in_flight[0].done() or len(in_flight) >= 2 * jobs):
                report(in_flight.popleft().result())
        while in_flight:
            report(in_flight.popleft().result())
    finally:
        executor.shutdown(wait=not sys.is_finalizing(), cancel_futures=True)
        run_alive.close()
        alive_end.close()


def _submit(executor: ProcessPoolExecutor, chunk: list[Item]) -> Future:
    """Submit with Ctrl-C and SIGTERM blocked, so a worker being started does not die of them."""
    if not hasattr(signal, "pthread_sigmask"):
        return executor.submit(_run_chunk, chunk)
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        return executor.submit(_run_chunk, chunk)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


# --------------------------------------------------------------------------- the command


def clean_record_file(path: str, kind: RecordKind, output: str, model_path: str | None,
                      options: RecordOptions, jobs: int, overwrite: bool) -> int:
    """``cleaner clean FILE.jsonl|.warc|.wet[.gz|.zst] -o OUT.jsonl[.gz|.zst]`` (or ``-o -``).

    Returns the exit code: 0, 1 when a record failed, 2 for unusable arguments
    (checked before the model loads), 128+N after signal N.
    """
    def usage(message: str) -> int:
        print(f"cleaner: {message}", file=sys.stderr)
        return 2

    shown = display_path(path)
    if options.sites and os.path.exists(path) and not os.path.isfile(path):
        # before check_readable, which would wait on a pipe for its writer
        return usage(f"{shown}: --sites reads the record file twice, so it must be a file, "
                     "not a pipe or a device")
    problem = check_readable(path, kind)
    if problem:
        return usage(f"{shown}: {problem}")
    if output != "-":
        if os.path.isdir(output):
            return usage(f"output {display_path(output)} is a directory; for a {kind.upper()} "
                         "input -o names the output JSONL file")
        if os.path.exists(output):
            if os.path.samefile(output, path):
                return usage(f"output {display_path(output)} is the input")
            if not overwrite:
                return usage(f"output exists: {display_path(output)} (--overwrite replaces it)")
        if record_kind(output) != "jsonl":
            return usage(f"output {display_path(output)} must end in .jsonl, .jsonl.gz or "
                         ".jsonl.zst (or be - for standard output)")
    try:
        model = LineModel.load(model_path)
    except ModelError as error:
        return usage(str(error))
    summary = RecordSummary()
    progress = _progress_bar()
    received: list[int] = []

    def on_sigterm(signum: int, frame: object) -> None:
        received.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    writer: RecordWriter | None = None
    try:
        if output != "-":
            os.makedirs(os.path.dirname(output) or ".", exist_ok=True)
            remove_stale_temps(os.path.dirname(output) or ".")
        writer = RecordWriter(output, overwrite=overwrite)
        if options.sites:
            options = dataclasses.replace(options, template=_survey(path, kind, model, options,
                                                                    jobs))
        with open_input(path) as stream:
            run_records(_items(stream, kind, options, summary.skipped), model, options, jobs,
                        writer.write, summary, progress)
        writer.commit()
    except KeyboardInterrupt:
        if writer is not None:
            writer.discard()
        _close(progress)
        print(f"cleaner: {summary.line(interrupted=True)} (no output written)", file=sys.stderr)
        return 128 + (received[0] if received else signal.SIGINT)
    except Exception as error:  # a corrupt or unreadable input, a full disk: no partial output
        if writer is not None:
            writer.discard()
        _close(progress)
        reason = (str(error) if isinstance(error, (OSError, EOFError, ValueError)) and str(error)
                  else f"internal error ({type(error).__name__}: {error})")
        print(f"cleaner: {shown}: {reason} (no output written)", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
    _close(progress)
    print(f"cleaner: {summary.line()}", file=sys.stderr, flush=True)
    return 1 if summary.failed else 0


def _items(stream, kind: RecordKind, options: RecordOptions, skipped: Counter
           ) -> Iterable[Item]:
    if kind == "jsonl":
        return jsonl_lines(stream)
    return warc_payloads(stream, kind, options.limits, skipped)


def _survey(path: str, kind: RecordKind, model: LineModel, options: RecordOptions,
            jobs: int) -> np.ndarray:
    """``--sites``' first pass over the file: the hashes of the lines that recur on two
    or more articles of a site (see :mod:`cleaner.site_memory`)."""
    progress = _progress_bar("sites")
    survey = RecordSummary()
    try:
        with open_input(path) as stream:
            run_records(_items(stream, kind, options, Counter()), model,
                        dataclasses.replace(options, survey=True), jobs, lambda lines: None,
                        survey, progress)
    finally:
        _close(progress)
    return site_memory.recurring(survey.traces)


def _progress_bar(desc: str | None = None):
    """A records bar on a terminal's stderr, else None (tqdm is imported only then)."""
    if not sys.stderr.isatty():
        return None
    import tqdm

    return tqdm.tqdm(desc=desc, unit=" records", file=sys.stderr, dynamic_ncols=True)


def _close(progress) -> None:
    if progress is not None:
        progress.close()
