"""The one reader: bytes (or text) in, a checked :class:`Page` out.

The API, the CLI, the stream readers (JSONL, WARC) and the fuzzer all turn
what they were given into a page here, so a page reads the same whichever
door it came through: gzip is undone (once, within the size limit), bytes
are decoded (BOM, charset, guess), binary data is refused, the limits are
checked, and the input format is detected unless given. Bytes that are no
page raise :class:`InputError` with the reason; a ``str`` is the caller's
text already and is never refused.
"""

from __future__ import annotations

import gzip
import io
import json
import zlib
from dataclasses import dataclass

import regex

from cleaner.decode import decode_bytes
from cleaner.page import InputFormat, Page, looks_like_html, make_page

GZIP_MAGIC = b"\x1f\x8b"
# Control characters that do not occur in text (tab, line breaks, form feed excepted).
_BINARY_CHARS = regex.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
#: Share of control characters above which decoded "text" is taken for binary data.
BINARY_CONTROL_SHARE = 0.01
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"), (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"), (b"GIF89a", "GIF image"), (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "ZIP archive"), (GZIP_MAGIC, "gzip data"), (b"\x7fELF", "executable"),
    (b"\xfd7zXZ\x00", "xz data"), (b"\x28\xb5\x2f\xfd", "zstd data"),
    (b"7z\xbc\xaf\x27\x1c", "7z archive"), (b"Rar!\x1a\x07", "RAR archive"),
    (b"OggS", "Ogg media"), (b"\x1a\x45\xdf\xa3", "WebM/Matroska video"),
    (b"wOFF", "WOFF font"), (b"wOF2", "WOFF2 font"), (b"SQLite format 3\x00", "SQLite database"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "MS Office document"),
)


class InputError(ValueError):
    """A page that cannot be read; the message is the reason shown to the user."""


@dataclass(frozen=True)
class Limits:
    """Bounds that keep one monster page from exhausting memory or time.

    A page over a limit is reported and skipped, never truncated: a
    truncated page would be a silently wrong output.
    """

    max_page_bytes: int = 20_000_000
    max_line_chars: int = 100_000
    max_page_lines: int = 100_000


def read_page(data: bytes | str, limits: Limits | None = None,
              input_format: InputFormat | None = None) -> Page:
    """A checked page; :class:`InputError` says why bytes are no page (a ``str`` never is)."""
    if isinstance(data, str):
        return make_page(data, input_format)
    limits = limits or Limits()
    if len(data) > limits.max_page_bytes:
        raise InputError(_too_large("input is", limits))
    if data.startswith(GZIP_MAGIC):
        data = gunzip(data, limits)
    refuse_records(data)
    return load_text_page(page_text(data), limits, input_format)


def load_text_page(text: str, limits: Limits, input_format: InputFormat | None = None) -> Page:
    """A checked page from text already decoded (a document in someone else's pipeline):
    unlike :func:`read_page` on a ``str``, limits apply and a page without text is refused."""
    if len(text) > limits.max_page_bytes:  # fewer characters than bytes: a lower bound
        raise InputError(_too_large("page is", limits))
    if not text.strip():
        raise InputError("no text (only whitespace)")
    input_format = input_format or ("html" if looks_like_html(text) else "text")
    if input_format == "text":
        check_line_count(text, limits)
    page = make_page(text, input_format)
    if not page.lines:
        raise InputError("no text in the HTML page")
    check_lines(page.lines, limits)
    return page


def refuse_records(data: bytes) -> None:
    """A WARC or JSONL file is many records: read one as a page and they would be glued."""
    if data.startswith(b"WARC/"):
        raise InputError("WARC file: it holds records, not one page; give it alone as PATH "
                         "with -o OUTPUT.jsonl")
    if data[:1] == b"{":
        head = data[:65_536].split(b"\n", 2)[:2]
        if len(head) == 2 and all(_is_json_object(line) for line in head):
            raise InputError("JSONL file: it holds records, not one page; give it alone as "
                             "PATH with -o OUTPUT.jsonl")


def _is_json_object(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def gunzip(data: bytes, limits: Limits) -> bytes:
    """Decompress at most the size limit, so that a gzip bomb costs nothing."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as archive:
            page = archive.read(limits.max_page_bytes + 1)
    except (OSError, EOFError, zlib.error) as error:
        raise InputError(f"corrupt gzip file ({error})") from None
    if len(page) > limits.max_page_bytes:
        raise InputError(_too_large("decompresses to", limits))
    return page


def page_text(data: bytes) -> str:
    """Decoded text of a page (already gunzipped), or :class:`InputError` if it is no page."""
    if not data:
        raise InputError("empty file")
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            raise InputError(f"binary file ({kind}), not a text or HTML page")
    text = decode_bytes(data)
    sample = text[:1_000_000]
    controls = len(_BINARY_CHARS.findall(sample))
    if controls > 8 and controls > len(sample) * BINARY_CONTROL_SHARE:
        share = controls / len(sample)
        raise InputError(f"binary file ({share:.0%} control characters), not a text or HTML page")
    if not text.strip():
        raise InputError("no text (only whitespace)")
    return text


def check_line_count(text: str, limits: Limits) -> None:
    """Refuse a plain-text page with too many lines before splitting it into them.

    Counted in C, so that twenty million empty lines cost no more than a scan.
    """
    breaks = text.count("\n") + text.count("\r") - text.count("\r\n")
    count = breaks + (0 if text.endswith(("\n", "\r")) else 1)
    if count > limits.max_page_lines:
        raise InputError(_too_many_lines(count, limits))


def check_lines(lines: list[str], limits: Limits) -> None:
    """Refuse a page with too many lines (text) or blocks (HTML), or one too long."""
    if len(lines) > limits.max_page_lines:
        raise InputError(_too_many_lines(len(lines), limits))
    for number, line in enumerate(lines, 1):
        if len(line) > limits.max_line_chars:
            raise InputError(f"line {number:,} has {len(line):,} characters, over the limit of "
                             f"{limits.max_line_chars:,} (--max-line-chars)")


def _too_large(what: str, limits: Limits) -> str:
    return f"{what} over the limit of {limits.max_page_bytes:,} bytes (--max-page-bytes)"


def _too_many_lines(count: int, limits: Limits) -> str:
    return (f"page has {count:,} lines, over the limit of {limits.max_page_lines:,} "
            "(--max-page-lines)")
