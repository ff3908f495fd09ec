"""Hostile inputs (tests/fixtures/bad, make_bad.py): a precise error or the exact right output.

Each test runs the CLI on one input with every label kept, so the expected
output is exactly the text of the page whatever the model says, and either
names the file and the reason on stderr or writes exactly that text.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import regex
from conftest import FIXTURES, KEEP_ALL, PAGES, CliResult, tree
from fixtures import make_bad

from cleaner import files
from cleaner.api import Cleaner
from cleaner.model import LineModel

BAD = FIXTURES / "bad"


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The large hostile inputs, generated once: 50 MB, a 10 MB line, 100,000 levels, a bomb."""
    return make_bad.write_large(tmp_path_factory.mktemp("large"))


def run_on(cli, tmp_path: Path, name: str, content: bytes | Path, *flags: object
           ) -> tuple[CliResult, str | None, str]:
    """Clean one input file; returns the result, its output text (or None) and its path."""
    source = tmp_path / "in" / name
    source.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, Path):
        os.symlink(content, source)  # large inputs: no copy
    else:
        source.write_bytes(content)
    result = cli(source, "-o", tmp_path / "out", "--keep", KEEP_ALL, *flags)
    output = tmp_path / "out" / files.output_name(name)
    return result, output.read_text(encoding="utf-8") if output.exists() else None, str(source)


def assert_fails(result: CliResult, output: str | None, path: str, reason: str) -> None:
    assert (result.code, output) == (1, None)
    assert result.messages == [f"cleaner: {path}: {reason}"]
    assert result.summary.startswith("cleaner: 0 pages done, 1 failed;")


def assert_cleans_to(result: CliResult, output: str | None, expected: str) -> None:
    assert (result.code, result.messages) == (0, [])
    assert output == expected


def fixture(name: str) -> bytes:
    return (BAD / name).read_bytes()


# --------------------------------------------------------------------------- not pages at all


def test_empty_file(cli, tmp_path: Path) -> None:
    assert_fails(*run_on(cli, tmp_path, "empty.txt", fixture("empty.txt")), "empty file")


def test_whitespace_only(cli, tmp_path: Path) -> None:
    assert_fails(*run_on(cli, tmp_path, "whitespace.txt", fixture("whitespace.txt")),
                 "no text (only whitespace)")


def test_html_without_any_text(cli, tmp_path: Path) -> None:
    page = b"<html><head><title>Only a title</title><script>var x = 1;</script></head></html>"
    assert_fails(*run_on(cli, tmp_path, "scripts.html", page), "no text in the HTML page")


@pytest.mark.parametrize("name", ["image.png", "image-named.html", "png.html.gz"])
def test_image(cli, tmp_path: Path, name: str) -> None:
    assert_fails(*run_on(cli, tmp_path, name, fixture(name)),
                 "binary file (PNG image), not a text or HTML page")


def test_gzip_that_holds_another_gzip(cli, tmp_path: Path) -> None:
    assert_fails(*run_on(cli, tmp_path, "double.txt.gz", fixture("double.txt.gz")),
                 "binary file (gzip data), not a text or HTML page")


@pytest.mark.parametrize("name", ["random.html", "random-gzipped.txt.gz"])
def test_random_bytes(cli, tmp_path: Path, name: str) -> None:
    result, output, path = run_on(cli, tmp_path, name, fixture(name))
    assert (result.code, output) == (1, None)
    [message] = result.messages
    assert regex.fullmatch(rf"cleaner: {regex.escape(path)}: binary file \(\d+% control "
                           r"characters\), not a text or HTML page", message)


# --------------------------------------------------------------------------- odd bytes in pages


def test_nul_and_control_characters_in_text_are_kept_as_they_are(cli, tmp_path: Path) -> None:
    """Plain text is never rewritten: the page's own lines come out, odd bytes and all."""
    assert_cleans_to(*run_on(cli, tmp_path, "nul.txt", fixture("nul-in-text.txt"))[:2],
                     "The river rose by two\x00metres overnight and flooded the lower town.\n"
                     "Volunteers filled sandbags until dawn\x07\x1b while the fire brigade "
                     "pumped out cellars.\n")


def test_nul_and_control_characters_in_html_are_dropped_like_browsers_do(cli,
                                                                          tmp_path: Path) -> None:
    assert_cleans_to(*run_on(cli, tmp_path, "nul.html", fixture("nul-in-html.html"))[:2],
                     "A NUL inside a paragraph.\nBell and escape and formfeed.\n")


def test_invalid_utf8_bytes_become_replacement_characters(cli, tmp_path: Path) -> None:
    assert_cleans_to(*run_on(cli, tmp_path, "bad.txt", fixture("invalid-utf8.txt"))[:2],
                     "Grüße aus Köln – a page in UTF-8 with a few broken bytes:\n"
                     "here \ufffd and a cut-off \ufffd dash.\n")


UTF16_LINES = "Ein schöner Tag in München.\nमंडी में टमाटर के दाम गिरे\n"


def test_utf16_with_bom(cli, tmp_path: Path) -> None:
    assert_cleans_to(*run_on(cli, tmp_path, "a.html", fixture("utf16-bom.html"))[:2],
                     UTF16_LINES)


def test_utf16_big_endian_without_bom(cli, tmp_path: Path) -> None:
    assert_cleans_to(*run_on(cli, tmp_path, "a.html", fixture("utf16be-nobom.html"))[:2],
                     UTF16_LINES)


def test_utf16_little_endian_text_without_bom(cli, tmp_path: Path) -> None:
    assert_cleans_to(*run_on(cli, tmp_path, "a.txt", fixture("utf16le-nobom.txt"))[:2],
                     make_bad.ARTICLE)


@pytest.mark.parametrize("name,expected", [
    ("cp1252-declared.html", make_bad.CP1252_TEXT),
    ("cp1252-undeclared.txt", make_bad.CP1252_TEXT),
    ("latin1-declared.html", make_bad.LATIN1_TEXT),
    ("latin1-undeclared.txt", make_bad.LATIN1_TEXT),
    ("wrong-charset.html", make_bad.CP1252_TEXT),  # says utf-8, is windows-1252
    ("declared-latin1-is-utf8.html", make_bad.LATIN1_TEXT),  # says latin-1, is utf-8
])
def test_legacy_and_lying_encodings(cli, tmp_path: Path, name: str, expected: str) -> None:
    assert_cleans_to(*run_on(cli, tmp_path, name, fixture(name))[:2], expected)


# --------------------------------------------------------------------------- broken HTML


def test_malformed_html(cli, tmp_path: Path) -> None:
    assert_cleans_to(*run_on(cli, tmp_path, "a.html", fixture("malformed.html"))[:2],
                     "First bold and italic text\n"
                     "Second paragraph with a stray end tag & a bare < sign\n"
                     "An item outside any list\nA cell outside any table\n")


def test_truncated_html(cli, tmp_path: Path) -> None:
    assert_cleans_to(*run_on(cli, tmp_path, "a.html", fixture("truncated.html"))[:2],
                     "The only paragraph that arrived.\nThis one was cut off in the mid\n")


def test_html_truncated_inside_a_tag(cli, tmp_path: Path) -> None:
    assert_cleans_to(*run_on(cli, tmp_path, "a.html", fixture("truncated-in-tag.html"))[:2],
                     "Complete paragraph.\n")


def test_unclosed_title_that_swallows_the_page(cli, tmp_path: Path) -> None:
    """Real scrape dumps hold pages whose <title> never closes: the parser takes the
    whole page as title text. The page is parsed again without that tag."""
    page = (b"<html><head><title>Storm news document.write('<\\/SCRIPT>');\n</head>"
            b"<body><p>The river rose by two metres overnight.</p></body></html>")
    assert_cleans_to(*run_on(cli, tmp_path, "a.html", page)[:2],
                     "Storm news document.write('<\\/SCRIPT>');\n"
                     "The river rose by two metres overnight.\n")


def test_broken_html_start_tag_that_ends_the_document(cli, tmp_path: Path) -> None:
    page = (b'<!DOCTYPE html><html xmlns="x" xmogo.jpg" alt="A &amp; B" />\n'
            b"<body><p>The river rose by two metres overnight.</p></body></html>")
    assert_cleans_to(*run_on(cli, tmp_path, "a.html", page)[:2],
                     "The river rose by two metres overnight.\n")


def test_billion_laughs_entities_are_not_expanded(cli, tmp_path: Path) -> None:
    """HTML parsers do not expand DTD entities; the reference stays as text, as in a browser."""
    assert_cleans_to(*run_on(cli, tmp_path, "a.html", fixture("billion-laughs.html"))[:2],
                     "]>\n&lol9;\n")


def test_external_entities_are_not_loaded(cli, tmp_path: Path) -> None:
    assert_cleans_to(*run_on(cli, tmp_path, "a.html", fixture("external-entity.html"))[:2],
                     "]>\nBefore &xxe; after.\n")


def test_html_nested_100000_levels_deep(cli, tmp_path: Path, large: dict[str, Path]) -> None:
    """libxml2 gives up at 2048 levels and drops the rest; no text may be lost."""
    assert_cleans_to(*run_on(cli, tmp_path, "deep.html", large["deep.html"])[:2],
                     "Before the deep part.\nText at the bottom of the nesting.\n"
                     "After the deep part.\n")


def test_inline_tags_nested_deep_and_never_closed(cli, tmp_path: Path,
                                                  large: dict[str, Path]) -> None:
    assert_cleans_to(*run_on(cli, tmp_path, "deep.html", large["deep-unclosed.html"])[:2],
                     "Before.\nNever closed, still text.\n")


# --------------------------------------------------------------------------- too big


def test_50_megabyte_file(cli, tmp_path: Path, large: dict[str, Path]) -> None:
    size = large["big.txt"].stat().st_size
    assert size > 50_000_000
    assert_fails(*run_on(cli, tmp_path, "big.txt", large["big.txt"]),
                 f"file is {size:,} bytes, over the limit of 20,000,000 (--max-page-bytes)")


def test_50_megabyte_file_with_a_higher_byte_limit_hits_the_line_limit(
        cli, tmp_path: Path, large: dict[str, Path]) -> None:
    lines = large["big.txt"].read_bytes().count(b"\n")
    assert_fails(*run_on(cli, tmp_path, "big.txt", large["big.txt"],
                         "--max-page-bytes", 60_000_000),
                 f"page has {lines:,} lines, over the limit of 100,000 (--max-page-lines)")


def test_a_single_10_megabyte_line(cli, tmp_path: Path, large: dict[str, Path]) -> None:
    assert_fails(*run_on(cli, tmp_path, "long.txt", large["long-line.txt"]),
                 "line 2 has 10,485,760 characters, over the limit of 100,000 (--max-line-chars)")


def test_a_long_html_block_is_refused_like_a_long_line(cli, tmp_path: Path) -> None:
    page = b"<p>short</p><p>" + b"word " * 30_000 + b"</p>"
    assert_fails(*run_on(cli, tmp_path, "a.html", page),
                 "line 2 has 149,999 characters, over the limit of 100,000 (--max-line-chars)")


def test_gzip_bomb(cli, tmp_path: Path, large: dict[str, Path]) -> None:
    assert_fails(*run_on(cli, tmp_path, "bomb.html.gz", large["bomb.html.gz"]),
                 "decompresses to over the limit of 20,000,000 bytes (--max-page-bytes)")


# --------------------------------------------------------------------------- broken archives


def test_truncated_gzip(cli, tmp_path: Path) -> None:
    assert_fails(*run_on(cli, tmp_path, "a.html.gz", fixture("truncated-gzip.html.gz")),
                 "corrupt gzip file (Compressed file ended before the end-of-stream marker "
                 "was reached)")


def test_gzip_with_a_wrong_checksum(cli, tmp_path: Path) -> None:
    result, output, path = run_on(cli, tmp_path, "a.txt.gz", fixture("bad-crc.txt.gz"))
    assert (result.code, output) == (1, None)
    assert regex.fullmatch(rf"cleaner: {regex.escape(path)}: corrupt gzip file \(CRC check "
                           r"failed 0x0 != 0x[0-9a-f]+\)", result.messages[0])


def test_gz_name_without_gzip_data_is_read_as_it_is(cli, tmp_path: Path) -> None:
    assert_cleans_to(*run_on(cli, tmp_path, "a.txt.gz", fixture("not-gzip.txt.gz"))[:2],
                     make_bad.ARTICLE)


# --------------------------------------------------------------------------- the file system


def test_unreadable_file(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "in" / "locked.html"
    source.parent.mkdir()
    source.write_bytes(b"<p>secret</p>")
    source.chmod(0)
    if os.access(source, os.R_OK):  # root reads anything: make the open fail as it would
        real_open = os.open

        def refuse(path, *args, **kwargs):
            if os.fspath(path) == str(source):
                raise PermissionError(13, "Permission denied", str(source))
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(files.os, "open", refuse)
    result = cli(source, "-o", tmp_path / "out")
    assert_fails(result, None, str(source), "cannot read: Permission denied")
    assert not (tmp_path / "out" / "locked.txt").exists()


def test_directory_with_a_symlink_loop(cli, tmp_path: Path) -> None:
    (tmp_path / "in" / "sub").mkdir(parents=True)
    (tmp_path / "in" / "sub" / "page.txt").write_bytes(make_bad.ARTICLE.encode())
    os.symlink("..", tmp_path / "in" / "sub" / "loop")
    os.symlink("self.txt", tmp_path / "in" / "self.txt")
    result = cli(tmp_path / "in", "-o", tmp_path / "out", "--keep", KEEP_ALL)
    assert result.code == 1
    assert result.messages == [
        f"cleaner: {tmp_path}/in/self.txt: cannot read: symlink loop",
        f"cleaner: {tmp_path}/in/sub/loop: symlink loop, not followed",
    ]
    assert tree(tmp_path / "out") == {"sub/page.txt": make_bad.ARTICLE.encode()}


def test_broken_symlink(cli, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    os.symlink("gone.html", tmp_path / "in" / "link.html")
    result = cli(tmp_path / "in", "-o", tmp_path / "out")
    assert_fails(result, None, f"{tmp_path}/in/link.html", "cannot read: broken symbolic link")


def test_file_name_that_is_not_utf8(cli, tmp_path: Path) -> None:
    """The output keeps the name's bytes; messages show them escaped."""
    directory = os.fsencode(tmp_path / "in")
    os.mkdir(directory)
    with open(os.path.join(directory, b"caf\xe9.txt"), "wb") as stream:
        stream.write(make_bad.ARTICLE.encode())
    with open(os.path.join(directory, b"empty\xff.txt"), "wb"):
        pass
    result = cli(tmp_path / "in", "-o", tmp_path / "out", "--keep", KEEP_ALL)
    assert result.code == 1
    assert result.messages == [f"cleaner: {tmp_path}/in/empty\\xff.txt: empty file"]
    assert os.listdir(os.fsencode(tmp_path / "out")) == [b"caf\xe9.txt"]
    with open(os.path.join(os.fsencode(tmp_path / "out"), b"caf\xe9.txt"), "rb") as stream:
        assert stream.read() == make_bad.ARTICLE.encode()


def test_a_pipe_in_the_input_tree_is_not_waited_on(cli, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    os.mkfifo(tmp_path / "in" / "pipe.html")
    result = cli(tmp_path / "in", "-o", tmp_path / "out")
    assert_fails(result, None, f"{tmp_path}/in/pipe.html",
                 "not a regular file (device, pipe or socket)")


# --------------------------------------------------------------------------- all at once


EXPECTED_FAILURES = {
    "bad-crc.txt.gz": "corrupt gzip file (CRC check failed",
    "double.txt.gz": "binary file (gzip data), not a text or HTML page",
    "empty.txt": "empty file",
    "image-named.html": "binary file (PNG image), not a text or HTML page",
    "image.png": "binary file (PNG image), not a text or HTML page",
    "png.html.gz": "binary file (PNG image), not a text or HTML page",
    "random-gzipped.txt.gz": "binary file (",
    "random.html": "binary file (",
    "truncated-gzip.html.gz": "corrupt gzip file (Compressed file ended",
    "whitespace.txt": "no text (only whitespace)",
    "large/big.txt": "file is 52,428,901 bytes, over the limit",
    "large/long-line.txt": "line 2 has 10,485,760 characters, over the limit",
    "large/bomb.html.gz": "decompresses to over the limit",
}


def test_bad_inputs_mixed_with_good_pages(cli, tmp_path: Path, large: dict[str, Path],
                                          tiny_model: LineModel) -> None:
    """The run finishes, writes every page it can correctly, reports every other, exits 1."""
    inputs = tmp_path / "in"
    shutil.copytree(PAGES, inputs / "good")
    shutil.copytree(BAD, inputs / "bad")
    (inputs / "bad" / "large").mkdir()
    for name, path in large.items():
        os.symlink(path, inputs / "bad" / "large" / name)
    result = cli(inputs, "-o", tmp_path / "out", "--jobs", "2")
    assert result.code == 1
    failures = {}
    for message in result.messages:
        path, reason = message.removeprefix(f"cleaner: {inputs}/bad/").split(": ", 1)
        failures[path] = reason
    assert sorted(failures) == sorted(EXPECTED_FAILURES)
    for path, reason in failures.items():
        assert reason.startswith(EXPECTED_FAILURES[path]), (path, reason)

    cleaner = Cleaner(tiny_model)
    written = tree(tmp_path / "out")
    expected_outputs = set()
    for source in sorted(inputs.rglob("*")):
        relative = source.relative_to(inputs)
        name = relative.relative_to("bad").as_posix() if relative.parts[0] == "bad" else None
        if source.is_dir() or name in EXPECTED_FAILURES:
            continue
        output = relative.with_name(files.output_name(relative.name)).as_posix()
        expected_outputs.add(output)
        data = files.read_file(str(source), files.Limits())  # raw bytes, as a user has them
        body = cleaner.clean(data)
        assert written[output].decode() == (body + "\n" if body else ""), output
    assert set(written) == expected_outputs
    done = len(expected_outputs)
    assert result.summary.startswith(
        f"cleaner: {done} pages done, {len(EXPECTED_FAILURES)} failed;")
