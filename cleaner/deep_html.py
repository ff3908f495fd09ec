"""Flatten HTML nested deeper than libxml2 will parse, keeping all of its text.

libxml2 stops at a fixed nesting depth (2048 with ``huge_tree``) and
silently drops the rest of the page. Browsers instead stop nesting and keep
going. This module does the same to the markup before libxml2 sees it:
tags deeper than ``max_depth`` are dropped, block tags among them become
``<br>`` so block boundaries survive, and elements whose content is not
page text (``script``, ``svg``...) are dropped whole when they are that
deep. Text is never touched. It is a fallback for pathological pages only;
the tokenizer is deliberately simple and linear in the length of the input.
"""

from __future__ import annotations

import regex

from cleaner.html_blocks import BLOCK_TAGS, SKIP_TAGS

VOID_TAGS = frozenset(
    "area base br col embed hr img input keygen link meta param source track wbr".split()
)
RAW_TEXT_TAGS = ("script", "style", "textarea", "title", "xmp", "iframe", "noembed",
                 "noframes", "noscript", "plaintext")
# Possessive quantifiers and "no '<' inside a tag" keep every match linear:
# a tag that never closes ends at the next '<' and is left as text.
_TOKEN = regex.compile(
    r"<!--.*?(?:-->|\Z)"
    r"|<(?P<raw>" + "|".join(RAW_TEXT_TAGS) + r")\b[^<>]*+>.*?(?:</(?P=raw)\s*>|\Z)"
    r"|<(?P<end>/?)(?P<name>[A-Za-z][^\s/<>]*+)(?P<rest>[^<>]*+)>"
    r"|<[!?][^<>]*+>",
    regex.DOTALL | regex.IGNORECASE,
)


def flatten_deep_html(html: str, max_depth: int) -> str:
    """The page with no element nested deeper than ``max_depth``, text unchanged."""
    out: list[str] = []
    stack: list[tuple[str, bool]] = []  # (tag, emitted)
    open_count: dict[str, int] = {}
    skipping: str | None = None  # a too-deep non-text element being dropped whole
    skip_nesting = 0
    position = 0
    for match in _TOKEN.finditer(html):
        if skipping is None:
            out.append(html[position:match.start()])
        position = match.end()
        raw, name = match.group("raw"), match.group("name")
        if raw is not None or name is None:  # comment, doctype, script-like element
            if skipping is None and (raw is None or len(stack) < max_depth):
                out.append(match.group())
            continue
        name = name.lower()
        is_end = bool(match.group("end"))
        if skipping is not None:
            if name == skipping:
                skip_nesting += -1 if is_end else 1
                if skip_nesting == 0:
                    skipping = None
            continue
        if is_end:
            if open_count.get(name, 0) == 0:
                continue  # a stray end tag; parsers ignore it too
            while stack:
                tag, emitted = stack.pop()
                open_count[tag] -= 1
                out.append(f"</{tag}>" if emitted else "<br>" if tag in BLOCK_TAGS else "")
                if tag == name:
                    break
            continue
        deep = len(stack) >= max_depth
        if deep and name in SKIP_TAGS and name not in VOID_TAGS:
            skipping, skip_nesting = name, 1
            continue
        if not deep:
            out.append(match.group())
        elif name in BLOCK_TAGS or name == "br":
            out.append("<br>")
        if name not in VOID_TAGS:  # "<div/>" opens a div in HTML, as here
            stack.append((name, not deep))
            open_count[name] = open_count.get(name, 0) + 1
    if skipping is None:
        out.append(html[position:])
    return "".join(out)
