"""Fuzz the page reader and segmenter: ``make fuzz`` (``--seconds N``).

Hypothesis generates raw files (random bytes, text and HTML built from
hostile fragments, in several encodings, sometimes gzipped) and pushes each
through the one reader that the CLI, the API and the stream readers share
(:func:`cleaner.reader.read_page`): gunzip, decode, detect the kind, split
into lines or HTML blocks, check the limits; then compute features.
Every input must give a page or an :class:`InputError`; nothing else, and
the page must be sound (see :func:`check_input`). A failing input is shrunk
and saved under ``tests/fixtures/fuzz/``, where ``test_fuzz_regressions.py``
keeps checking it once the bug is fixed.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import sys
import time
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cleaner import files, reader  # noqa: E402
from cleaner.features import FEATURE_NAMES, page_features  # noqa: E402
from cleaner.reader import InputError, Limits  # noqa: E402

FOUND = Path(__file__).resolve().parent / "fixtures" / "fuzz"
#: Small limits so that the limit checks are reached, and examples stay fast.
LIMITS = Limits(max_page_bytes=200_000, max_line_chars=5_000, max_page_lines=2_000)

_FRAGMENTS = [
    "<html>", "</html>", "<head>", "<meta charset=\"utf-8\">", "<meta charset=\"bogus-8\">",
    "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\">",
    "<body>", "<div>", "</div>", "<p>", "</p>", "<br>", "<a href=\"/x\">", "</a>", "<li>",
    "<ul>", "<table><tr><td>", "<script>", "</script>", "<style>", "</style>", "<!--", "-->",
    "<![CDATA[", "]]>", "<!DOCTYPE html>", "<?xml version=\"1.0\"?>", "&amp;", "&#0;",
    "&#x110000;", "&nbsp;", "&lol;", "<!ENTITY lol \"lol\">", "<svg><text>", "<math>",
    "<template>", "<textarea>", "<noscript>", "<h1>", "<title>", "</title>", "<", ">", "&",
    "<div hidden id=\"S:0\">", "<div hidden id=S:1>", "<template id=\"B:0\">",
    "<template id='B:1'></template>", "$RC(\"B:0\",\"S:1\")", "<p hidden>", "</noscript>",
    "\x00", "\x0b", "\x0c", "\x1b", "\u2028", "\u2029", "\ufeff", "\ud7ff", "\ufffd", "\r",
    "\r\n", "\n", "\t", " ", "EUR 0.85425", "• BP / 0.1892 / 34.33 / +0.55%",
    "The river rose by two metres overnight.", "नदी का जलस्तर बढ़ गया।", "河水上涨了两米。",
]
_ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252", "latin-1",
              "koi8-r", "shift_jis", "gb18030"]


@st.composite
def page_text(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=40)),
                          max_size=60))
    return "".join(parts)


@st.composite
def page_bytes(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["bytes", "text", "text", "text"]))
    if kind == "bytes":
        data = draw(st.binary(max_size=2_000))
    else:
        encoding = draw(st.sampled_from(_ENCODINGS))
        data = draw(page_text()).encode(encoding, errors="replace")
        if draw(st.booleans()):  # damage: cut anywhere, or flip a byte
            cut = draw(st.integers(0, len(data)))
            data = data[:cut]
    if draw(st.integers(0, 9)) == 0:
        data = gzip.compress(data, mtime=0)
        if draw(st.booleans()):
            data = data[:draw(st.integers(0, len(data)))]
    return data


def check_input(data: bytes) -> None:
    """The reader's contract on one file's bytes; raises AssertionError (or the bug)."""
    try:
        data = files.read_stream(io.BytesIO(data), LIMITS)
    except InputError as error:
        assert str(error), "an InputError must say why"
        return
    for input_format in (None, "text", "html"):
        try:
            page = reader.read_page(data, LIMITS, input_format)
        except InputError as error:
            assert str(error), "an InputError must say why"
            continue
        assert page.lines, "a page without lines must be an InputError"
        assert all(isinstance(line, str) for line in page.lines)
        assert all("\n" not in line and "\r" not in line for line in page.lines)
        assert len(page.lines) <= LIMITS.max_page_lines
        assert max(map(len, page.lines)) <= LIMITS.max_line_chars
        if page.kind == "text":
            raw = reader.gunzip(data, LIMITS) if data.startswith(reader.GZIP_MAGIC) else data
            text = reader.page_text(raw)
            assert "".join(page.lines) == "".join(text.replace("\r", "\n").split("\n"))
        else:
            assert all(line.strip() for line in page.lines), "HTML blocks carry text"
        features, kept = page_features(page)
        assert features.shape == (len(kept), len(FEATURE_NAMES))
        assert not np.isinf(features).any(), "features must be finite or missing"
        assert all(page.lines[i].strip() for i in kept), "blank lines are not classified"


def save(data: bytes) -> Path:
    FOUND.mkdir(parents=True, exist_ok=True)
    path = FOUND / f"{hashlib.sha1(data).hexdigest()[:16]}.bin"
    path.write_bytes(data)
    return path


def run(seconds: float, batch: int = 200) -> int:
    """Fuzz in seeded rounds of ``batch`` examples until the time is up; 1 if a bug was found."""
    examples = 0
    last: list[bytes] = []

    @settings(max_examples=batch, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(page_bytes())
    def one(data: bytes) -> None:
        nonlocal examples
        examples += 1
        last[:] = [data]
        check_input(data)

    started, rounds = time.monotonic(), 0
    while time.monotonic() - started < seconds:
        try:
            seed(rounds)(one)()
        except Exception as error:  # hypothesis re-raises the bug on the shrunk input last
            path = save(last[0])
            print(f"round {rounds}: {type(error).__name__}: {error}\n  input saved to {path}",
                  file=sys.stderr)
            return 1
        rounds += 1
    elapsed = time.monotonic() - started
    print(f"fuzzed the reader for {elapsed:.0f} s: {examples} inputs in {rounds} rounds, "
          "no failure")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=180.0, help="how long to fuzz")
    return run(parser.parse_args(argv).seconds)


if __name__ == "__main__":
    sys.exit(main())
