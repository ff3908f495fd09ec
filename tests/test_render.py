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


SHELL = f"<h1>Title</h1>{ARTICLE}"


def test_react_streamed_segments_are_shown_at_their_boundary() -> None:
    # Next.js pages stream a Suspense boundary's content later as <div hidden id="S:n">.
    page = (f"<html><body>{SHELL}<main><template id='B:0'></template></main><footer>Links"
            "</footer><div hidden id='S:0'><p>The streamed article.</p></div>"
            "<div hidden id='other'><p>Still hidden</p></div></body></html>")
    assert render_blocks(page).split("\n")[2:] == ["The streamed article.", "Links"]


def test_react_fill_calls_pair_segments_with_boundaries() -> None:
    page = (f"<html><body>{SHELL}<template id='B:0'></template><p>Middle</p>"
            "<template id='B:1'></template><div hidden id='S:1'><p>First</p></div>"
            "<div hidden id='S:0'><p>Second</p></div><div hidden id='S:2'><p>Unplaced</p>"
            "</div><script>$RC(\"B:0\",\"S:1\");$RC(\"B:1\",\"S:0\")</script></body></html>")
    assert render_blocks(page).split("\n")[2:] == ["First", "Middle", "Second", "Unplaced"]


def test_a_hidden_body_element_does_not_hide_the_page() -> None:
    page = f"<html style='display:none'><body hidden>{ARTICLE}</body></html>"
    assert render_blocks(page) == ARTICLE[3:-4].strip()
