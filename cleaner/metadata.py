"""Page metadata for record output: title, author, date, url, language.

trafilatura's metadata extraction is the well-kept tool for this (meta tags,
JSON-LD, bylines, date heuristics) and already a dependency. It does not read
the language, which the page usually declares on ``<html lang>`` or in a
``content-language`` meta tag; that is read here. Plain-text pages carry no
metadata, so they get none.
"""

from __future__ import annotations

import regex

FIELDS = ("title", "author", "date", "url", "language")
_LANGUAGE = regex.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")


def page_metadata(html: str) -> dict[str, str]:
    """The metadata fields the page has (missing ones are left out); never raises."""
    try:
        from trafilatura.metadata import extract_metadata
        from trafilatura.utils import load_html

        tree = load_html(html)
        if tree is None:
            return {}
        language = _declared_language(tree)
        found = extract_metadata(tree)
    except Exception:  # metadata is a bonus: a page it fails on is still cleaned
        return {}
    result = {name: getattr(found, name, None) for name in FIELDS[:4]}
    result["language"] = language
    return {name: value.strip() for name, value in result.items()
            if isinstance(value, str) and value.strip()}


def _declared_language(tree) -> str | None:
    candidates = [tree.get("lang"), tree.get("{http://www.w3.org/XML/1998/namespace}lang")]
    for meta in tree.iterfind(".//meta"):
        key = (meta.get("http-equiv") or meta.get("name") or meta.get("property") or "").lower()
        if key in ("content-language", "language", "og:locale", "dc.language"):
            candidates.append(meta.get("content"))
    for value in candidates:
        value = (value or "").split(",")[0].strip()
        if _LANGUAGE.match(value):
            return value.replace("_", "-")
    return None
