"""Render HTML to plain text the way scrapers do, for training and text-mode evaluation.

Several renderers on purpose, so the model does not learn one scraper's habits.
Training reads three: our own block-per-line renderer (lines separated by single
line breaks), html-text (paragraphs separated by blank lines, inline layout
guessed) and inscriptis (a layout-aware renderer: indented, bulleted lists, as
text browsers print pages). Evaluation also reads two that training never sees:
one line per text node, and text hard-wrapped at 79 columns as ``lynx -dump``
and ``w3m -dump`` save pages.
"""

from __future__ import annotations

import regex
from lxml import etree

from cleaner.html_blocks import SKIP_TAGS, html_to_blocks, parse_html

_CONTROL = regex.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def render_blocks(html: str) -> str:
    return "\n".join(html_to_blocks(html).lines)


def render_html_text(html: str) -> str:
    """html-text's rendering; it raises on control characters, so those are dropped first."""
    import html_text

    try:
        return html_text.extract_text(_CONTROL.sub("", html), guess_layout=True)
    except Exception:  # html-text/lxml give up on some broken pages; fall back to ours
        return render_blocks(html)


def render_text_nodes(html: str) -> str:
    """One line per text node, as ``BeautifulSoup.get_text("\\n", strip=True)`` scrapes:
    links and inline tags split sentences over lines. Training never uses it, so
    text-mode evaluation on it shows how the model does on a scraper it has not seen."""
    root = parse_html(html)
    if root is None:
        return ""
    etree.strip_elements(root, *SKIP_TAGS, with_tail=False)  # drop scripts etc., keep tails
    return "\n".join(text.strip() for text in root.itertext() if text.strip())


def render_inscriptis(html: str) -> str:
    """inscriptis' layout-aware rendering (indentation, list bullets, table columns)."""
    from inscriptis import get_text

    try:
        return get_text(_CONTROL.sub("", html))
    except Exception:  # inscriptis gives up on some broken pages; fall back to ours
        return render_blocks(html)


def hard_wrap(text: str, width: int) -> str:
    """Every line of ``text`` wrapped at ``width`` columns (long words left whole)."""
    import textwrap

    wrapped = []
    for line in text.split("\n"):
        wrapped += textwrap.wrap(line, width, break_long_words=False,
                                 break_on_hyphens=False) or [""]
    return "\n".join(wrapped)


def render_wrapped(html: str, width: int = 79) -> str:
    """html-text's rendering hard-wrapped at ``width`` columns, the way text browsers
    dump a page: a paragraph becomes several lines that end mid-sentence. Training
    never uses it."""
    return hard_wrap(render_html_text(html), width)


RENDERERS = {"blocks": render_blocks, "html-text": render_html_text,
             "inscriptis": render_inscriptis, "text-nodes": render_text_nodes,
             "wrapped": render_wrapped}
#: Renderers training never uses, scored in evaluation to show how cleaner does on a
#: scraper it has not seen.
UNSEEN_RENDERERS = ("text-nodes", "wrapped")
#: The renderer that turns HTML into the plain text that text-mode evaluation reads.
EVAL_RENDERER = "html-text"
