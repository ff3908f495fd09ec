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


ARTICLE = "<p>" + "A paragraph that a reader sees on the page, long enough to be one. " * 2 + "</p>"


def test_blocks_leave_out_what_the_browser_hides() -> None:
    page = (f"<html><body>{ARTICLE}<div style='color: red; DISPLAY:none'><p>Menu</p></div>"
            "<p hidden>Dialog</p><span style='visibility: hidden'>Tooltip</span>"
            "<p style='display: block'>Shown</p><p>Tail <b hidden>cut</b>kept</p></body></html>")
    assert render_blocks(page).split("\n") == [ARTICLE[3:-4].strip(), "Shown", "Tail kept"]


def test_blocks_keep_hidden_text_when_no_paragraph_is_visible() -> None:
    # Scripts reveal such pages; dropping the hidden text would drop the article.
    page = f"<html><body><p>Menu</p><div style='display:none'>{ARTICLE}</div></body></html>"
    assert render_blocks(page).split("\n") == ["Menu", ARTICLE[3:-4].strip()]


def test_blocks_read_noscript_when_no_paragraph_is_visible() -> None:
    # Discourse forums serve their whole thread inside <noscript> to readers without scripts.
    page = (f"<html><body><div id='app'>Loading</div><noscript><div>{ARTICLE}</div>"
            "</noscript></body></html>")
    assert render_blocks(page).split("\n") == ["Loading", ARTICLE[3:-4].strip()]


def test_blocks_leave_out_noscript_beside_a_visible_paragraph() -> None:
    page = (f"<html><body>{ARTICLE}<noscript><p>Please enable JavaScript</p></noscript>"
            "</body></html>")
    assert render_blocks(page) == ARTICLE[3:-4].strip()


def test_a_hidden_body_element_does_not_hide_the_page() -> None:
    page = f"<html style='display:none'><body hidden>{ARTICLE}</body></html>"
    assert render_blocks(page) == ARTICLE[3:-4].strip()
