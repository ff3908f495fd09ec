"""Render HTML to text blocks, one per line, each with structure features.

A block is the text between two block-level boundaries (paragraph, list
item, heading, cell, ``<br>``...), the way scrapers that write one block per
line see a page. Each block also records what plain text loses: the tags
around it, how much of it is link text, and what the class and id names of
its ancestors hint at. The walk is iterative (``iterwalk``), so deeply
nested pages cannot exhaust the Python stack.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

import numpy as np
import regex
from lxml import etree

BLOCK_TAGS = frozenset(
    "address article aside blockquote body center dd details dialog div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre "
    "section summary table tbody td tfoot th thead tr ul caption legend menu".split()
)
SKIP_TAGS = frozenset(
    "script style noscript template svg math iframe object embed head select "
    "textarea canvas video audio map title link meta".split()
)
#: Ancestor tags whose presence is a feature (counted along the path).
PATH_TAGS = ("a", "nav", "header", "footer", "aside", "form", "li", "table",
             "figure", "article", "main", "p", "button", "label")
#: Groups of class/id name fragments; each group's hits along the path are a feature.
HINTS: dict[str, tuple[str, ...]] = {
    "hint_nav": ("nav", "menu", "breadcrumb", "toolbar", "pagination", "pager", "header",
                 "footer", "masthead", "topbar", "sitemap", "skip"),
    "hint_side": ("sidebar", "side", "widget", "rail", "aside", "column", "col"),
    "hint_comment": ("comment", "disqus", "reply", "respond", "discussion", "forum"),
    "hint_related": ("related", "recommend", "popular", "trending", "more", "read", "teaser",
                     "outbrain", "taboola", "also", "next", "prev"),
    "hint_share": ("share", "social", "facebook", "twitter", "whatsapp", "print", "email",
                   "follow"),
    "hint_ad": ("ad", "ads", "advert", "advertisement", "sponsor", "promo", "banner",
                "newsletter", "subscribe", "signup", "cookie", "consent", "paywall"),
    "hint_meta": ("byline", "author", "date", "time", "meta", "caption", "credit", "tag",
                  "tags", "dateline", "published", "updated", "source"),
    "hint_legal": ("copyright", "legal", "disclaimer", "terms", "privacy", "license"),
    "hint_content": ("article", "content", "story", "body", "entry", "post", "text", "main",
                     "blog", "detail", "prose", "single"),
}
#: Block elements recorded per block for the model's grouping of blocks by element: its
#: own and its three nearest block-level ancestors (``features.DOM_LEVELS``).
ANCESTOR_LEVELS = 4
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
#: Features of where a block sits in the page's layout, computed once the walk is done
#: (see ``_layout_columns``).
LAYOUT_FEATURES: tuple[str, ...] = (
    "in_role_main", "in_role_chrome", "in_best_container", "best_container_share",
    "parent_prose_share", "repeat_items",
)
STRUCTURE_FEATURES: tuple[str, ...] = (
    ("link_density", "links", "depth", "heading_level", "block_is_p", "block_is_li",
     "block_is_td", "block_is_div")
    + tuple(f"in_{tag}" for tag in PATH_TAGS)
    + tuple(HINTS)
    + LAYOUT_FEATURES
)
#: ARIA roles and microdata that mark the article, and those that mark page chrome.
MAIN_ROLES = frozenset({"main", "article", "articlebody", "text"})
CHROME_ROLES = frozenset({"navigation", "banner", "complementary", "contentinfo", "search",
                          "dialog", "menu", "menubar", "toolbar", "comment"})

_NAME_SPLIT = regex.compile(r"[^a-z0-9]+|(?<=[a-z])(?=[0-9])")
#: Runs of Unicode White_Space, exactly the `regex` module's \s, in the standard library's
#: engine: three times faster on the many short block texts of a page.
_SPACE = re.compile("[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")
#: A plain character class: the standard engine scans a page for it three times faster.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
#: White space (as str.strip() sees it) and control characters: a page of these is empty.
_BLANK_OR_CONTROL = "".join(
    char for char in map(chr, range(0x3001)) if char.isspace() or _CONTROL.match(char))
#: Separators that str.split() treats as whitespace but Unicode (and _SPACE) does not.
_SPLIT_ONLY = ("\x1c", "\x1d", "\x1e", "\x1f")


def collapse_spaces(text: str) -> str:
    """Runs of Unicode White_Space as one space, none at the ends: str.split() does it
    three times faster than the pattern whenever the text has no \\x1c-\\x1f."""
    if "\x1c" in text or "\x1d" in text or "\x1e" in text or "\x1f" in text:  # _SPLIT_ONLY
        return _SPACE.sub(" ", text).strip()
    return " ".join(text.split())


_HINT_LOOKUP = {word: index for index, words in enumerate(HINTS.values()) for word in words}


def _hint_vector(element: etree._Element) -> tuple[int, ...]:
    """Hint groups named by the class and id names of one element (each group once)."""
    names = (element.get("class") or "") + " " + (element.get("id") or "")
    if not names.strip():
        return ()
    return _hints_of_names(names)


@functools.lru_cache(maxsize=8192)
def _hints_of_names(names: str) -> tuple[int, ...]:
    """Hints of one class/id string; cached, since a page repeats a few class names on
    thousands of elements."""
    hits: set[int] = set()
    for word in _NAME_SPLIT.split(names.lower()):
        hits.update(_hints_of_word(word))
    return tuple(sorted(hits))


#: Fragments that count inside a longer word too (longer than three letters).
_LONG_FRAGMENTS = tuple((word, index) for word, index in _HINT_LOOKUP.items() if len(word) > 3)


@functools.lru_cache(maxsize=16384)
def _hints_of_word(word: str) -> tuple[int, ...]:
    """Hint groups of one name word: the word itself, else the long fragments inside it.
    Cached: class strings differ from page to page, their words much less."""
    index = _HINT_LOOKUP.get(word)
    if index is not None:
        return (index,)
    if len(word) > 3:
        return tuple(index for fragment, index in _LONG_FRAGMENTS if fragment in word)
    return ()


#: Nesting kept when a page is deeper than libxml2 parses (see cleaner.deep_html).
FLATTEN_DEPTH = 256


def parse_html(html: str) -> etree._Element | None:
    """Parse forgivingly; None when nothing parseable is left.

    libxml2 silently drops everything after a text node over 10 MB (unless
    ``huge_tree``) or past 2048 levels of nesting; the page size is bounded
    by the caller, and too-deep pages are flattened and parsed again, so no
    text is lost either way.
    """
    if not html.strip(_BLANK_OR_CONTROL):
        return None
    # The control characters are single bytes in UTF-8: deleting them from the bytes gives
    # the bytes of the text without them, ten times faster than the pattern on the text.
    root, too_deep = _parse_with_libxml2(
        html.encode("utf-8", "replace").translate(None, _CONTROL_BYTES))
    for max_depth in (FLATTEN_DEPTH, 0):
        if not too_deep:
            break
        from cleaner.deep_html import flatten_deep_html

        flat = flatten_deep_html(_CONTROL.sub("", html), max_depth)
        root, too_deep = _parse_with_libxml2(flat.encode("utf-8", "replace"))
    return root


def _parse_with_libxml2(data: bytes) -> tuple[etree._Element | None, bool]:
    """The parsed root of UTF-8 bytes, and whether libxml2 stopped at one of its limits."""
    parser = etree.HTMLParser(
        encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True,
        recover=True, huge_tree=True, collect_ids=False,
    )
    try:
        root = etree.fromstring(data, parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None, False
    return root, any(error.type_name == "ERR_RESOURCE_LIMIT" for error in parser.error_log)


#: React's streaming server rendering: a Suspense boundary (``<template id="B:0">``) is
#: filled by a segment sent later in the page (``<div hidden id="S:0">``), which a script
#: (``$RC("B:0","S:0")``) moves into place in the browser.
_REACT_FILL = re.compile(r'\$RC\("(B:[^"]+)","(S:[^"]+)"\)')
_STREAMED_SEGMENT = re.compile(r"""id=["']?S:""")


def place_streamed_segments(root: etree._Element, html: str) -> None:
    """Show React's streamed segments where the browser shows them: at their boundary
    (as the page's ``$RC`` calls pair them, else by their number: scrapers often strip
    the scripts), or where they are. Pages built this way (Next.js) hide their whole
    article in such segments, and the reader leaves hidden text out."""
    segments = [element for element in root.iter("div")
                if element.get("hidden") is not None and element.get("id", "").startswith("S:")]
    if not segments:
        return
    boundaries = {element.get("id"): element for element in root.iter("template")
                  if element.get("id", "").startswith("B:")}
    boundary_of = {segment: boundary for boundary, segment in _REACT_FILL.findall(html)}
    for segment in segments:
        name = segment.get("id")
        del segment.attrib["hidden"]
        boundary = boundaries.pop(boundary_of.get(name, "B:" + name[2:]), None)
        if boundary is None or boundary.getparent() is None or segment in boundary.iterancestors():
            continue
        _detach(segment)
        segment.tail = boundary.tail
        boundary.getparent().replace(boundary, segment)


def _detach(element: etree._Element) -> None:
    """Remove an element from its parent, leaving the text that followed it in place."""
    parent = element.getparent()
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


class _BlockCollector:
    """Accumulates text chunks into blocks while the walk reports context."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.rows: list[list[float]] = []
        self.places: list[_Place] = []
        self.chunks: list[str] = []
        self.link_chars = 0
        self.links = 0
        self.context: tuple[list, _Place] | None = None

    def add(self, text: str | None, in_link: bool, context_fn) -> None:
        if not text:
            return
        if self.context is None:
            if not text.strip():
                return
            self.context = context_fn()
        self.chunks.append(text)
        if in_link:
            self.link_chars += len(text.strip())

    def flush(self) -> None:
        if self.context is None:  # no text since the last boundary (chunks are empty)
            self.links = 0
            return
        text = collapse_spaces("".join(self.chunks))
        if text:
            row = self.context[0].copy()
            row[0] = min(1.0, self.link_chars / len(text))
            row[1] = self.links
            self.lines.append(text)
            self.rows.append(row)
            self.places.append(self.context[1])
        self.chunks = []
        self.link_chars = 0
        self.links = 0
        self.context = None


#: Start tags that, damaged, swallow a whole page: an unclosed <title> turns the rest
#: into title text, and a broken <html ... /> tag ends the document at once.
_SWALLOWING_TAGS = regex.compile(r"<(?:title|html)\b[^>]*>", regex.IGNORECASE)
_TITLE_TEXT = regex.compile(r"<title\b[^>]*>([^<]*)", regex.IGNORECASE)


_HIDDEN_STYLE = regex.compile(r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)\b",
                             regex.IGNORECASE)


def is_hidden(element: etree._Element) -> bool:
    """Whether a browser hides the element: a ``hidden`` attribute or an inline style
    of ``display: none`` / ``visibility: hidden`` (menus, dialogs, templates)."""
    if element.get("hidden") is not None:
        return True
    style = element.get("style")
    return bool(style) and _HIDDEN_STYLE.search(style) is not None


class Blocks(NamedTuple):
    """A page's text blocks in document order, a structure-feature row each, and each
    block's place in the element tree: the numbers of its own block element and of its
    nearest block-level ancestors (``ANCESTOR_LEVELS`` columns, nearest first, -1 past
    the root), which the model groups blocks by (``features.dom_context``)."""

    lines: list[str]
    structure: np.ndarray
    ancestors: np.ndarray


def _no_blocks() -> Blocks:
    return Blocks([], np.zeros((0, len(STRUCTURE_FEATURES)), dtype=np.float32),
                  np.zeros((0, ANCESTOR_LEVELS), dtype=np.int32))


def html_to_blocks(html: str) -> Blocks:
    """Text blocks of a page, in document order, with a structure-feature row each.

    Text the page hides is not page text, nor is what it shows only without scripts
    (``<noscript>``), unless no paragraph is visible: then scripts reveal the hidden
    text, or the page is one (a Discourse forum, say) that serves its whole text to
    readers without scripts inside ``<noscript>``, and all of it is kept. A page that
    yields no block at all is parsed once more without its first <html> and <title>
    start tags, which recovers pages whose damaged head swallowed the document (seen
    in real scrape dumps).
    """
    blocks = _blocks(html)
    if not blocks.lines:
        repaired = _SWALLOWING_TAGS.sub("", html[:100_000], count=2) + html[100_000:]
        if repaired != html:
            repaired_blocks = _blocks(repaired)
            # A healthy page with nothing but a title stays a page without text.
            title = _TITLE_TEXT.search(html[:100_000])
            title_text = _SPACE.sub(" ", title.group(1)).strip() if title else None
            if any(line != title_text for line in repaired_blocks.lines):
                return repaired_blocks
    return blocks


def _blocks(html: str, reveal: bool = False) -> Blocks:
    root = parse_html(html)
    collector = _BlockCollector()
    if root is None:
        return _no_blocks()
    if _STREAMED_SEGMENT.search(html):
        place_streamed_segments(root, html)
    n_path = len(PATH_TAGS)
    path_counts = [0] * n_path  # Python ints: updated at every element, read per block
    hint_counts = [0] * len(HINTS)
    # Per open element: tag, hints, role, index in PATH_TAGS, whether it is a block.
    stack: list[tuple[str, tuple[int, ...], int, int | None, bool]] = []
    block_tags: list[str] = []
    # Block-level ancestors of the current position: element number and tag.class name.
    block_ids: list[int] = []
    block_names: list[str] = []
    roles = [0, 0]  # main-content and chrome landmarks along the path
    n_layout = len(LAYOUT_FEATURES)
    block_ids_seen: list[str] = []

    def context() -> tuple[list, _Place]:
        """The row of the block that starts here, up to the layout columns (Python
        numbers; rounded to float32 once per page, as a float32 row would round them)."""
        block = block_tags[-1] if block_tags else ""
        row = [0.0, 0, len(stack),
               next((HEADINGS[t] for t in reversed(block_tags) if t in HEADINGS), 0),
               block == "p", block == "li", block in ("td", "th"), block == "div",
               *path_counts, *hint_counts, *roles]
        return row, (tuple(block_ids), "/".join(block_names[-3:]))

    skip_tags = SKIP_TAGS - {"noscript"} if reveal else SKIP_TAGS
    saw_hidden = False
    flush, add = collector.flush, collector.add
    walker = etree.iterwalk(root, events=("start", "end"))
    for event, element in walker:
        if event == "end":
            _, hints, role, path, block = stack.pop()
            for hint in hints:
                hint_counts[hint] -= 1
            if role:
                roles[role - 1] -= 1
            if path is not None:
                path_counts[path] -= 1
            if block:
                flush()
                block_tags.pop()
                block_ids.pop()
                block_names.pop()
            tail = element.tail
            if tail:
                add(tail, path_counts[0] > 0, context)
            continue
        tag = element.tag
        tag = tag.lower() if isinstance(tag, str) else ""
        # Nearly half the elements have no attribute: no hint, role or hiding to read.
        attributes = bool(element.attrib)
        hidden = (attributes and not reveal and tag not in ("html", "body")
                  and is_hidden(element))
        if tag in skip_tags or hidden:
            saw_hidden |= hidden or tag == "noscript"
            walker.skip_subtree()
            stack.append(_SKIPPED_ENTRY)
            continue
        hints, role = (_hint_vector(element), _role(element)) if attributes else ((), 0)
        path = PATH_INDEX.get(tag)
        block = tag in BLOCK_TAGS
        stack.append((tag, hints, role, path, block))
        if role:
            roles[role - 1] += 1
        for hint in hints:
            hint_counts[hint] += 1
        if path is not None:
            path_counts[path] += 1
        if block or tag == "br":
            flush()
        if block:
            block_tags.append(tag)
            block_ids.append(len(block_ids_seen))
            block_ids_seen.append(tag)
            block_names.append(f"{tag}.{element.get('class') or ''}")
        if tag == "a":
            collector.links += 1
        text = element.text
        if text:
            add(text, path_counts[0] > 0, context)  # [0]: inside <a>
    flush()
    if saw_hidden and not any(len(line) >= _PARAGRAPH_CHARS for line in collector.lines):
        return _blocks(html, reveal=True)
    if not collector.rows:
        return _no_blocks()
    structure = np.zeros((len(collector.rows), len(STRUCTURE_FEATURES)), dtype=np.float32)
    structure[:, :-n_layout + 2] = collector.rows
    chains = _Chains.of(collector.places)
    ancestors = chains.nearest(ANCESTOR_LEVELS)
    structure[:, -n_layout + 2:] = _layout_columns(collector.lines, structure[:, 0],
                                                   collector.places, chains, ancestors)
    return Blocks(collector.lines, structure, ancestors)


class _Chains(NamedTuple):
    """The block elements of every block's chain, flattened once for numpy: how many
    each block has (``depth``) and their numbers, block after block, outermost first
    (``flat``)."""

    depth: np.ndarray
    flat: np.ndarray

    @classmethod
    def of(cls, places: list[_Place]) -> _Chains:
        depth = np.fromiter((len(chain) for chain, _ in places), np.int64, count=len(places))
        flat = np.fromiter((i for chain, _ in places for i in chain), np.int64,
                           count=int(depth.sum()))
        return cls(depth, flat)

    def nearest(self, levels: int) -> np.ndarray:
        """Each block's own element and its ``levels - 1`` nearest block ancestors,
        nearest first, -1 past the root."""
        own = np.cumsum(self.depth) - 1  # each chain ends with the block's own element
        ids = np.full((len(self.depth), levels), -1, dtype=np.int32)
        for level in range(levels):
            reached = self.depth > level
            ids[reached, level] = self.flat[own[reached] - level]
        return ids


#: Where a block sits: its block-level ancestors (element numbers, outermost first, its own
#: element last) and the tag.class names of its three nearest, as a signature.
_Place = tuple[tuple[int, ...], str]
#: Blocks at least this long with little link text count as prose (as in ``features``).
_PROSE_CHARS = 60


def _role(element: etree._Element) -> int:
    """1 for a landmark of the main content (role main/article, itemprop articleBody),
    2 for one of page chrome (role navigation, complementary, contentinfo...), else 0."""
    value = (element.get("role") or element.get("itemprop") or "").strip().lower()
    if not value:
        return 0
    return 1 if value in MAIN_ROLES else 2 if value in CHROME_ROLES else 0


def _layout_columns(lines: list[str], link_density: np.ndarray, places: list[_Place],
                    chains: _Chains, ancestors: np.ndarray) -> np.ndarray:
    """Readability's question, asked of the block tree: which container holds the article?

    As readability scores candidates, each prose block (long, few links) gives its
    length to its parent element and half of it to its grandparent; the best-scoring
    element is the article's container (a tight one: the page's root is neither, so
    prose in teasers below the article does not pull the container up to it). A block
    learns whether it lies inside it, how much of the page's prose its container holds
    and its parent holds, and in how many repeated items of the same shape (teasers,
    comments: the same tag.class path under different parents) it recurs.
    """
    n = len(lines)
    chars = np.fromiter((len(line) for line in lines), np.float64, count=n)
    prose = (chars >= _PROSE_CHARS) & (link_density < 0.5)
    prose_chars = np.where(prose, chars, 0.0)
    flat = chains.flat
    block_of = np.repeat(np.arange(n), chains.depth)
    out = np.zeros((n, 4), dtype=np.float32)
    if len(flat) == 0:
        return out
    size = int(flat.max()) + 1
    element_prose = np.bincount(flat, weights=prose_chars[block_of], minlength=size)

    parents, grandparents = ancestors[:, 1].astype(np.int64), ancestors[:, 2].astype(np.int64)
    score = (np.bincount(np.maximum(parents, 0), weights=prose_chars * (parents >= 0),
                         minlength=size)
             + np.bincount(np.maximum(grandparents, 0),
                           weights=prose_chars * (grandparents >= 0) / 2, minlength=size))
    best = int(np.argmax(score))
    total_prose = max(prose_chars.sum(), 1.0)
    inside = np.zeros(n, dtype=bool)
    inside[block_of[flat == best]] = True
    items: dict[str, set[int]] = {}
    for (_, signature), parent in zip(places, parents.tolist(), strict=True):
        items.setdefault(signature, set()).add(parent)
    repeats = np.fromiter((len(items[signature]) - 1 for _, signature in places), np.float64,
                          count=n)
    out[:, 0] = inside
    out[:, 1] = element_prose[best] / total_prose
    out[:, 2] = np.where(parents >= 0, element_prose[np.maximum(parents, 0)] / total_prose, 1.0)
    out[:, 3] = np.log1p(repeats)
    return out


#: Stack entry of a skipped subtree, hidden or of a SKIP_TAGS tag: it changes no count.
_SKIPPED_ENTRY = ("#skipped", (), 0, None, False)
#: A page that shows no block this long hides its text for scripts to reveal.
_PARAGRAPH_CHARS = 100


PATH_INDEX = {tag: index for index, tag in enumerate(PATH_TAGS)}
