"""Record files: JSONL and WARC/WET in, JSONL out, plain or compressed (.gz, .zst).

Corpora keep pages as records, many to a file: JSONL with one JSON object a
line, Common Crawl's WARC (HTTP responses, HTML) and WET (the plain text
its scraper saved). Each record is read and cleaned on its own and gives
one record out, so records are never glued into one page. Everything here
streams: a record is read when the run wants it, and the output is written
as results come, to a temporary file that takes its final name only once
complete (or straight to standard output with ``-``).
"""

from __future__ import annotations

import gzip
import io
import os
import secrets
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Literal

from cleaner import files
from cleaner.reader import Limits

RecordKind = Literal["jsonl", "warc", "wet"]
_KINDS: tuple[tuple[str, RecordKind], ...] = (
    (".jsonl", "jsonl"), (".ndjson", "jsonl"), (".wet", "wet"), (".warc", "warc"),
)
_COMPRESSIONS = (".gz", ".zst")
#: HTTP content types taken for HTML in WARC responses.
HTML_TYPES = ("text/html", "application/xhtml+xml")


def record_kind(path: str) -> RecordKind | None:
    """The record format a file name says (``x.jsonl.zst``, ``CC-...warc.wet.gz``), or None."""
    name = os.path.basename(path).lower()
    for compression in _COMPRESSIONS:
        name = name.removesuffix(compression)
    for suffix, kind in _KINDS:
        if name.endswith(suffix) and len(name) > len(suffix):
            return kind
    return None


def open_input(path: str) -> BinaryIO:
    """The decompressed bytes of a record file, read as a stream."""
    stream: BinaryIO = open(path, "rb")  # noqa: SIM115  (closed by the caller)
    lower = path.lower()
    if lower.endswith(".gz"):
        return gzip.GzipFile(fileobj=stream)  # type: ignore[return-value]
    if lower.endswith(".zst"):
        import zstandard

        reader = zstandard.ZstdDecompressor().stream_reader(stream, closefd=True)
        return io.BufferedReader(reader)  # type: ignore[arg-type]  (lines need a buffer)
    return stream


# --------------------------------------------------------------------------- reading


@dataclass
class Payload:
    """A record from a WARC/WET file: the fields to write, and the page to clean."""

    fields: dict
    data: bytes
    input_format: Literal["text", "html"]


#: What a run gets from a reader: a raw JSONL line (parsed in the worker), or a payload.
Item = bytes | Payload


def jsonl_lines(stream: BinaryIO) -> Iterator[bytes]:
    """Each non-blank line of a JSONL stream, unparsed (workers parse them)."""
    for line in stream:
        if line.strip():
            yield line


def warc_payloads(stream: BinaryIO, kind: RecordKind, limits: Limits,
                  skipped: Counter) -> Iterator[Payload]:
    """HTML responses of a WARC, or conversion records of a WET; others counted in ``skipped``.

    warcio undoes chunked and compressed HTTP bodies. A body over the size
    limit is not read into memory; its record comes out with an error.
    """
    from warcio.archiveiterator import ArchiveIterator

    for record in ArchiveIterator(stream):
        wanted = "conversion" if kind == "wet" else "response"
        if record.rec_type != wanted:
            skipped[f"{record.rec_type} record"] += 1
            continue
        headers = record.rec_headers
        fields = {"url": headers.get_header("WARC-Target-URI"),
                  "warc_record_id": headers.get_header("WARC-Record-ID"),
                  "date": headers.get_header("WARC-Date")}
        if kind == "warc":
            status = record.http_headers.get_statuscode() if record.http_headers else None
            if status != "200":
                skipped[f"HTTP status {status or 'missing'}"] += 1
                continue
            content_type = (record.http_headers.get_header("Content-Type") or "").lower()
            if content_type.split(";")[0].strip() not in HTML_TYPES:
                skipped["not HTML"] += 1
                continue
        data = record.content_stream().read(limits.max_page_bytes + 1)
        yield Payload(fields, data, "html" if kind == "warc" else "text")


def check_readable(path: str, kind: RecordKind) -> str | None:
    """Why a record file cannot be read (checked before the model loads), or None."""
    try:
        with open_input(path) as stream:
            stream.read(1)
    except FileNotFoundError:
        return "no such file"
    except IsADirectoryError:
        return "is a directory"
    except (OSError, EOFError, ImportError) as error:
        return f"cannot read {kind.upper()} file: {error}"
    return None


# --------------------------------------------------------------------------- writing


class RecordWriter:
    """JSONL lines to a file that appears complete or not at all, or to standard output."""

    def __init__(self, path: str, overwrite: bool = False) -> None:
        self.path, self.overwrite = path, overwrite
        self.temp: str | None = None
        if path == "-":
            self.raw: BinaryIO = sys.stdout.buffer
            self.stream: BinaryIO = self.raw
            return
        directory, name = os.path.split(path)
        self.temp = os.path.join(directory or ".", f".{name[:120]}.{os.getpid()}-"
                                                   f"{secrets.token_hex(4)}{files.TEMP_SUFFIX}")
        self.raw = open(self.temp, "xb")  # noqa: SIM115  (closed in commit/discard)
        lower = path.lower()
        if lower.endswith(".gz"):
            self.stream = gzip.GzipFile(fileobj=self.raw, mode="wb", mtime=0)  # type: ignore
        elif lower.endswith(".zst"):
            import zstandard

            self.stream = zstandard.ZstdCompressor().stream_writer(self.raw, closefd=False)
        else:
            self.stream = self.raw

    def write(self, lines: list[bytes]) -> None:
        self.stream.write(b"".join(lines))

    def commit(self) -> None:
        """Finish the output: flushed, synced, and under its final name."""
        if self.temp is None:
            self.stream.flush()
            return
        if self.stream is not self.raw:
            self.stream.close()
        self.raw.flush()
        os.fsync(self.raw.fileno())
        self.raw.close()
        if self.overwrite:
            os.replace(self.temp, self.path)
        else:
            files._link_into_place(self.temp, self.path)
            os.unlink(self.temp)
        self.temp = None

    def discard(self) -> None:
        """Leave no partial output behind (an error or an interrupted run)."""
        if self.temp is None:
            return
        for stream in (self.stream, self.raw):
            try:
                stream.close()
            except Exception:  # noqa: S110  (closing a broken compressor must not mask the cause)
                pass
        try:
            os.unlink(self.temp)
        except OSError:
            pass
        self.temp = None
