"""Render HTML to plain text the way scrapers do, for training and text-mode evaluation.

Two renderers on purpose, so the model does not learn one scraper's habits:
our own block-per-line renderer (lines separated by single line breaks) and
html-text (paragraphs separated by blank lines, inline layout guessed).
"""

from __future__ import annotations

import regex

from cleaner.html_blocks import html_to_blocks

_CONTROL = regex.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def render_blocks(html: str) -> str:
    lines, _ = html_to_blocks(html)
    return "\n".join(lines)


def render_html_text(html: str) -> str:
    """html-text's rendering; it raises on control characters, so those are dropped first."""
    import html_text

    try:
        return html_text.extract_text(_CONTROL.sub("", html), guess_layout=True)
    except Exception:  # html-text/lxml give up on some broken pages; fall back to ours
        return render_blocks(html)


RENDERERS = {"blocks": render_blocks, "html-text": render_html_text}
#: The renderer that turns HTML into the plain text that text-mode evaluation reads.
EVAL_RENDERER = "html-text"
