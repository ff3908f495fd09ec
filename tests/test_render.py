"""The renderers that turn corpus HTML into the plain text scrapers save."""

from __future__ import annotations

from cleaner.training.render import render_blocks, render_html_text, render_text_nodes

PAGE = ("<html><head><title>Title</title><style>p {}</style></head><body>"
        "<nav><a href='/'>Home</a> <a href='/w'>World</a></nav>"
        "<p>The river <a href='/r'>rose</a> by two metres.</p><script>var x = 1;</script>"
        "<p>Volunteers\x00 filled sandbags.</p></body></html>")


def test_blocks_are_one_line_per_block() -> None:
    assert render_blocks(PAGE).split("\n") == [
        "Home World", "The river rose by two metres.", "Volunteers filled sandbags."]


def test_html_text_keeps_inline_text_together_and_survives_control_characters() -> None:
    lines = [line for line in render_html_text(PAGE).split("\n") if line]
    assert "The river rose by two metres." in lines
    assert "Volunteers filled sandbags." in lines
    assert not any("var x" in line or "p {}" in line for line in lines)


def test_text_nodes_are_one_line_per_node_without_scripts_or_head() -> None:
    assert render_text_nodes(PAGE).split("\n") == [
        "Home", "World", "The river", "rose", "by two metres.", "Volunteers filled sandbags."]


def test_renderers_of_an_empty_page_give_empty_text() -> None:
    assert render_blocks("") == render_text_nodes("") == ""
