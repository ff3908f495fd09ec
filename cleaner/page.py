"""A page is an ordered list of lines, from plain text or from HTML.

From plain text a line is a line; from HTML a line is a text block and
carries structure features that plain text lacks (``structure`` is None for
text pages, and the model sees those features as missing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import regex

from cleaner.html_blocks import STRUCTURE_FEATURES, html_to_blocks

InputFormat = Literal["text", "html"]

_LINE_BREAK = regex.compile(r"\r\n|\r|\n")
_HTML_MARKERS = regex.compile(
    r"<(?:!doctype\s+html|html|head|body|div|p|span|a\s|table|meta|script|title|br|li|h[1-6])\b",
    regex.IGNORECASE,
)


@dataclass
class Page:
    """Lines of one page; ``structure`` has one row of HTML features per line, or is None;
    ``ancestors`` the block elements each line lies in (see ``html_blocks.Blocks``), or
    None (text pages, and HTML pages built without them: the model then reads no
    grouping by element)."""

    lines: list[str]
    kind: InputFormat
    structure: np.ndarray | None = None
    ancestors: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.structure is not None and len(self.structure) != len(self.lines):
            raise ValueError("structure must have one row per line")
        if self.ancestors is not None and len(self.ancestors) != len(self.lines):
            raise ValueError("ancestors must have one row per line")


def split_lines(text: str) -> list[str]:
    """Lines as a scraper saved them; a final line break does not start another line."""
    if text == "":
        return []
    lines = _LINE_BREAK.split(text)
    if lines[-1] == "":
        lines.pop()
    return lines


def looks_like_html(text: str) -> bool:
    """True when the start of the text is markup rather than prose."""
    head = text[:20_000].lstrip("\ufeff \t\r\n")
    if head[:1] == "<" and _HTML_MARKERS.match(head):
        return True
    return len(_HTML_MARKERS.findall(head)) >= 3


def page_from_text(text: str) -> Page:
    return Page(split_lines(text), "text")


def page_from_html(html: str) -> Page:
    blocks = html_to_blocks(html)
    return Page(blocks.lines, "html", blocks.structure, blocks.ancestors)


def make_page(text: str, input_format: InputFormat | None = None) -> Page:
    """Build a page, detecting HTML from the content unless the format is given."""
    if input_format is None:
        input_format = "html" if looks_like_html(text) else "text"
    if input_format == "html":
        return page_from_html(text)
    if input_format == "text":
        return page_from_text(text)
    raise ValueError(f"unknown input format {input_format!r}; expected 'text' or 'html'")


__all__ = ["Page", "STRUCTURE_FEATURES", "make_page", "page_from_text", "page_from_html",
           "split_lines", "looks_like_html"]
