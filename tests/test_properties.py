"""Properties of the API on any input: a str never raises (bytes give a body or an InputError);
it removes lines but never invents them.

Hypothesis generates arbitrary text (lone surrogates, controls, every line
break Unicode has) and tag soup; the model is the tiny test model, since
these properties must hold whatever a model says.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleaner.api import Cleaner
from cleaner.labels import LABELS
from cleaner.model import LineModel
from cleaner.page import make_page, split_lines
from cleaner.reader import InputError

#: Any code point, lone surrogates included: a Python str can hold them.
any_char = st.characters(exclude_categories=())
any_text = st.text(any_char, max_size=400)
line = st.one_of(st.text(any_char, max_size=120), st.sampled_from(["", " ", "\t \t", "\x00"]),
                 st.text(st.sampled_from("abc .,!?ÄßЖमं中\u200b"), min_size=40, max_size=160))
text_page = st.builds(lambda lines, newline: newline.join(lines),
                      st.lists(line, max_size=40), st.sampled_from(["\n", "\r\n", "\r"]))
MARKUP = ["<p>", "</p>", "<div class='nav menu'>", "</div>", "<a href='/x'>", "</a>", "<br>",
          "<br/>", "<li>", "<ul>", "</ul>", "<table><tr><td>", "</td>", "<h1>", "</h1>",
          "<script>", "</script>", "<style>", "<!--", "-->", "<![CDATA[", "]]>", "<title>",
          "<svg><text>", "</svg>", "<!DOCTYPE html>", "<?xml version='1.0'?>", "&amp;", "&#0;",
          "&#x110000;", "&nbsp;", "&bogus;", "<html>", "<body>", "</body>", "<p class=\"",
          "<", ">", "\"", "'", "=", "<!ENTITY x \"y\">", "<noscript>", "<template>", "<pre>"]
html_page = st.lists(st.one_of(st.sampled_from(MARKUP), st.text(any_char, max_size=60),
                               st.text(st.sampled_from("abc .,ßЖमं"), min_size=40, max_size=120)),
                     max_size=60).map("".join)
common = settings(max_examples=150, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow])
KEEP_ALL = [label for label in LABELS if label != "blank"]


@pytest.fixture(scope="module")
def auto(tiny_model: LineModel) -> Cleaner:
    return Cleaner(tiny_model)


@pytest.fixture(scope="module")
def as_text(tiny_model: LineModel) -> Cleaner:
    return Cleaner(tiny_model, input_format="text")


@pytest.fixture(scope="module")
def as_html(tiny_model: LineModel) -> Cleaner:
    return Cleaner(tiny_model, input_format="html")


@pytest.fixture(scope="module")
def text_keep_all(tiny_model: LineModel) -> Cleaner:
    return Cleaner(tiny_model, input_format="text", keep=KEEP_ALL)


def is_subsequence(items: list[str], of: list[str], same=lambda a, b: a == b) -> bool:
    remaining = iter(of)
    return all(any(same(item, candidate) for candidate in remaining) for item in items)


def output_lines(body: str) -> list[str]:
    return body.split("\n") if body else []


def same_line(output: str, original: str) -> bool:
    """An output line is the input line itself; a blank gap may stand for any blank line."""
    return output == original or (output == "" and not original.strip())


@common
@given(page=st.one_of(any_text, text_page, html_page))
def test_never_raises_and_returns_str(auto: Cleaner, page: str) -> None:
    assert isinstance(auto.clean(page), str)
    assert all(line.label in LABELS for line in auto.label(page))


@common
@given(page=st.binary(max_size=2000))
def test_bytes_give_a_body_or_an_input_error_with_a_reason(auto: Cleaner, page: bytes) -> None:
    try:
        assert isinstance(auto.clean(page), str)
    except InputError as error:
        assert str(error)


@common
@given(page=st.one_of(text_page, any_text))
def test_text_output_lines_are_input_lines_in_order(as_text: Cleaner, text_keep_all: Cleaner,
                                                    page: str) -> None:
    lines = split_lines(page)
    for cleaner in (as_text, text_keep_all):
        body = output_lines(cleaner.clean(page))
        assert is_subsequence(body, lines, same_line), (body, lines)


@common
@given(page=st.one_of(html_page, any_text))
def test_html_output_lines_are_text_of_the_page(as_html: Cleaner, page: str) -> None:
    blocks = make_page(page, "html").lines
    body = output_lines(as_html.clean(page))
    assert is_subsequence(body, blocks), (body, blocks)


@common
@given(page=st.one_of(text_page, any_text))
def test_text_label_gives_one_line_per_input_line(as_text: Cleaner, page: str) -> None:
    assert [line.text for line in as_text.label(page)] == split_lines(page)


@common
@given(page=st.one_of(html_page, any_text))
def test_html_label_gives_one_line_per_block(as_html: Cleaner, page: str) -> None:
    assert [line.text for line in as_html.label(page)] == make_page(page, "html").lines


@common
@given(pages=st.lists(st.one_of(text_page, html_page), max_size=6))
def test_many_pages_at_once_match_one_by_one(auto: Cleaner, pages: list[str]) -> None:
    assert list(auto.clean_many(pages)) == [auto.clean(page) for page in pages]
    assert [auto.clean(page) for page in pages] == [
        auto.render(auto.page(page), auto.label(page)) for page in pages]
    assert list(auto.label_many(pages)) == [auto.label(page) for page in pages]
