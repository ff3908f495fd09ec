"""The audit page of a run: ``cleaner clean ... --report report.html``.

A person who ran cleaner over 50,000 pages wants to see what was cut and
why without opening 50,000 files. The report is one self-contained HTML file
(inline style, no script, nothing fetched): the run's summary, made from the
very counters the CLI's summary line prints, the failures grouped by reason,
and a sample of pages, the least confident first, each line coloured by its
label with the label's probability on hover.

It stays small for a large run: workers send a trimmed copy of each page's
labelled lines (:func:`review_page`), and the main process keeps only the
``pages`` least confident ones in a bounded heap (:class:`ReportCollector`).
"""

from __future__ import annotations

import heapq
import html
import itertools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import regex

from cleaner.labels import BLANK, LABELS, Line

#: Pages shown by default (``--report-pages``).
DEFAULT_PAGES = 20
#: Characters of line text kept per sampled page, and per line: a 300-page
#: run with the default sample stays well under 2 MB whatever the pages hold.
PAGE_CHARS = 40_000
LINE_CHARS = 600
#: Failed files listed one by one; the rest are only counted by reason.
LISTED_FAILURES = 100

#: One colour per label: body green, the chrome in distinct hues.
COLOURS = {
    "body": "#d9f2d9", "title": "#c8e6fa", "meta": "#e6e0f8", "currency": "#fde2c4",
    "stock": "#fbd3d3", "related": "#f9d8ef", "app": "#fff1b8", "promo": "#ffd6a8",
    "nav": "#dfe3e8", "comments": "#d4f0ef", "legal": "#ece2d0", "blank": "#ffffff",
}


@dataclass(frozen=True)
class PageReview:
    """One page as the report shows it: its labelled lines, trimmed to a budget.

    ``confidence`` is the mean probability of the labels of the page's
    non-blank lines, computed before trimming; the report shows the lowest
    first, because that is where the model was least sure what to cut.
    """

    display: str
    kind: str
    confidence: float
    kept: int
    dropped: int
    lines: tuple[tuple[str, str, float], ...]  # (label, text, probability)
    hidden_lines: int = 0


def review_page(display: str, kind: str, lines: list[Line], keep: Iterable[str]) -> PageReview:
    """The report's view of a labelled page; called in the worker, so only a trimmed copy
    travels back to the main process."""
    keep = frozenset(keep)
    scored = [line.probability for line in lines if line.label != BLANK]
    confidence = sum(scored) / len(scored) if scored else 1.0
    kept = sum(1 for line in lines if line.label in keep)
    dropped = sum(1 for line in lines if line.label not in keep and line.label != BLANK)
    shown: list[tuple[str, str, float]] = []
    budget = PAGE_CHARS
    for line in lines:
        if budget <= 0:
            break
        text = line.text if len(line.text) <= LINE_CHARS else line.text[:LINE_CHARS] + " …"
        budget -= len(text) + 1
        shown.append((line.label, text, round(line.probability, 3)))
    return PageReview(display, kind, confidence, kept, dropped, tuple(shown),
                      len(lines) - len(shown))


def reason_kind(reason: str) -> str:
    """A failure reason without its particulars, so that like failures are counted together:
    ``file is 3,000 bytes, over the limit of 20`` -> ``file is N bytes, over the limit of N``."""
    head = regex.split(r" \(|: ", reason, maxsplit=1)[0]
    return regex.sub(r"\d[\d,.]*", "N", head)


class ReportCollector:
    """Failures and the least confident pages of a run, in bounded memory."""

    def __init__(self, pages: int = DEFAULT_PAGES) -> None:
        self.pages = pages
        self.failure_kinds: Counter[str] = Counter()
        self.failures: list[tuple[str, str]] = []
        self._worst: list[tuple[float, int, PageReview]] = []  # a max-heap by confidence
        self._order = itertools.count()

    def add(self, status: str, display: str, error: str | None,
            review: PageReview | None) -> None:
        """Take in one outcome of the run (the CLI calls this as it reports each outcome)."""
        if status == "failed":
            self.failure_kinds[reason_kind(error or "")] += 1
            if len(self.failures) < LISTED_FAILURES:
                self.failures.append((display, error or ""))
        if review is None or self.pages == 0:
            return
        item = (-review.confidence, -next(self._order), review)
        if len(self._worst) < self.pages:
            heapq.heappush(self._worst, item)
        elif item > self._worst[0]:
            heapq.heapreplace(self._worst, item)

    def sample(self) -> list[PageReview]:
        """The kept pages, least confident first (input order among equals)."""
        return [review for _, _, review in sorted(self._worst, key=lambda i: (-i[0], -i[1]))]


@dataclass(frozen=True)
class RunFigures:
    """The numbers of the run's summary line, as the CLI counted them."""

    done: int
    failed: int
    skipped: int
    kept: int
    dropped: dict[str, int]
    summary_line: str
    interrupted: bool = False
    empty: int = 0  # pages done whose output is empty (nothing kept)


def render(figures: RunFigures, collector: ReportCollector, keep: Iterable[str]) -> str:
    """The whole report as one HTML document."""
    keep = frozenset(keep)
    parts = [_HEAD, "<h1>cleaner run report</h1>",
             f'<p class="summary">{_e(figures.summary_line)}</p>',
             _summary_table(figures), _chart(figures, keep), _failures(figures, collector),
             _legend(), _pages(collector.sample(), keep, figures.done), "</body>\n</html>\n"]
    return "\n".join(parts)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _summary_table(figures: RunFigures) -> str:
    rows = [("pages done", figures.done), ("pages failed", figures.failed)]
    if figures.skipped:
        rows.append(("pages skipped (output exists)", figures.skipped))
    rows += [("pages with an empty output", figures.empty), ("lines kept", figures.kept),
             ("lines dropped", sum(figures.dropped.values()))]
    cells = "".join(f'<tr><th scope="row">{_e(name)}</th><td class="n" id="{_id(name)}">'
                    f"{value:,}</td></tr>" for name, value in rows)
    state = '<p class="warn">The run was interrupted.</p>' if figures.interrupted else ""
    return f'<h2>Summary</h2>{state}<table class="figures">{cells}</table>'


def _id(name: str) -> str:
    return regex.sub(r"[^a-z]+", "-", name.lower()).strip("-")


def _chart(figures: RunFigures, keep: frozenset[str]) -> str:
    """A bar per label: lines kept, then lines dropped by label, largest first."""
    rows = [("kept: " + ", ".join(sorted(keep)), figures.kept, "body")]
    rows += [(label, count, label) for label, count in
             sorted(figures.dropped.items(), key=lambda item: (-item[1], item[0]))]
    largest = max((count for _, count, _ in rows), default=0) or 1
    bars = "".join(
        f'<tr><th scope="row">{_e(name)}</th><td class="n">{count:,}</td>'
        f'<td class="track"><span class="bar" style="width:{100 * count / largest:.1f}%;'
        f'background:{COLOURS.get(colour, "#ccc")}"></span></td></tr>'
        for name, count, colour in rows)
    return f'<h2>Lines kept and dropped by label</h2><table class="chart">{bars}</table>'


def _failures(figures: RunFigures, collector: ReportCollector) -> str:
    if not figures.failed:
        return "<h2>Failures</h2><p>None.</p>"
    kinds = "".join(f'<tr><td class="n">{count:,}</td><td>{_e(kind)}</td></tr>'
                    for kind, count in collector.failure_kinds.most_common())
    listed = "".join(f"<li><code>{_e(display)}</code>: {_e(reason)}</li>"
                     for display, reason in collector.failures)
    more = figures.failed - len(collector.failures)
    tail = f"<p>… and {more:,} more.</p>" if more > 0 else ""
    return (f'<h2>Failures</h2><table class="kinds">{kinds}</table>'
            f'<details open><summary>Failed files</summary><ul>{listed}</ul>{tail}</details>')


def _legend() -> str:
    chips = "".join(f'<span class="chip" style="background:{COLOURS[label]}">{label}</span>'
                    for label in LABELS if label != BLANK)
    return f'<p class="legend">Labels: {chips}</p>'


def _pages(sample: list[PageReview], keep: frozenset[str], done: int) -> str:
    head = (f"<h2>Sampled pages</h2><p>{len(sample):,} of {done:,} pages, least confident "
            "first (confidence: the mean probability of the labels of a page's non-blank "
            "lines). Kept lines are in bold with a green edge; hover over a line for its label "
            "and probability.</p>")
    return head + "".join(_page(review, keep) for review in sample)


def _page(review: PageReview, keep: frozenset[str]) -> str:
    rows = []
    for label, text, probability in review.lines:
        if label == BLANK:
            rows.append('<li class="blank"></li>')
            continue
        state = "kept" if label in keep else "dropped"
        rows.append(f'<li class="{state}" style="background:{COLOURS.get(label, "#ccc")}" '
                    f'title="{label} {probability:.2f}"><span class="tag">{label}</span>'
                    f"{_e(text)}</li>")
    hidden = (f'<p class="more">… {review.hidden_lines:,} more lines not shown.</p>'
              if review.hidden_lines else "")
    return (f'<section class="page"><h3><code>{_e(review.display)}</code></h3>'
            f'<p class="meta">{review.kind} · confidence {review.confidence:.3f} · '
            f"{review.kept:,} lines kept · {review.dropped:,} dropped</p>"
            f'<ol class="lines">{"".join(rows)}</ol>{hidden}</section>')


_HEAD = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cleaner run report</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em auto; max-width: 70em;
  padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.5em; }
h3 { font-size: 1em; margin-bottom: 0.2em; }
.summary { font-family: ui-monospace, monospace; background: #f4f4f4; padding: 0.5em; }
table { border-collapse: collapse; } th { text-align: left; font-weight: normal; }
th, td { padding: 0.15em 0.6em; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.chart td.track { width: 30em; } .bar { display: block; height: 1em; border: 1px solid #999; }
.chip { padding: 0 0.4em; margin: 0 0.2em; border: 1px solid #bbb; }
.warn { color: #a00; font-weight: bold; }
.page { border-top: 1px solid #ccc; margin-top: 1em; }
.meta, .more { color: #555; margin: 0.2em 0; }
ol.lines { list-style: none; padding: 0; margin: 0; font-size: 13px; }
ol.lines li { padding: 1px 0.4em; border-left: 4px solid transparent; white-space: pre-wrap;
  overflow-wrap: anywhere; }
ol.lines li.kept { font-weight: 600; border-left-color: #2a8a2a; }
ol.lines li.dropped { color: #555; }
ol.lines li.blank { height: 0.5em; }
.tag { display: inline-block; min-width: 5.5em; color: #444; font-size: 11px;
  font-weight: normal; font-family: ui-monospace, monospace; }
</style>
</head>
<body>"""
