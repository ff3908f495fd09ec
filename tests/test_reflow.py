"""Text pages split by a scraper are classified by paragraph, and every piece keeps its line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from cleaner import Cleaner, LineModel
from cleaner.labels import BLANK, BODY, read_labelled
from cleaner.page import Page, page_from_html, page_from_text, split_lines
from cleaner.reflow import joins, reflow, wrap_width

SEEDS = Path(__file__).resolve().parent / "fixtures" / "seeds"
PARAGRAPH = ("The council voted on Tuesday to close the old harbour bridge to lorries after "
             "engineers found cracks in two of its supports, and said repairs would take at "
             "least a year while a temporary crossing is built further up the river.")


def wrapped(paragraphs: list[str], width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in paragraphs:
        lines += textwrap.wrap(paragraph, width, break_long_words=False) or [""]
    return lines


def test_wrap_width_is_found_whatever_the_column() -> None:
    for width in (60, 72, 79, 100):
        # the longest line seen: at most the column, and a word's end short of it
        found = wrap_width(wrapped([PARAGRAPH, "", PARAGRAPH, "", PARAGRAPH], width))
        assert found is not None and width - 3 <= found <= width


def test_unwrapped_text_and_menus_have_no_wrap_width() -> None:
    assert wrap_width([PARAGRAPH, "", PARAGRAPH, "Home", "News", "Sport"]) is None
    assert wrap_width(["Home", "News", "Sport", "Contact us", "About"]) is None


def test_wrapped_paragraphs_join_and_paragraph_ends_do_not() -> None:
    lines = wrapped([PARAGRAPH, "Short closing line.", PARAGRAPH], 72)
    joined = joins(lines)
    starts = [i for i, line in enumerate(lines) if not joined[i]]
    assert [lines[i] for i in starts][:2] == [lines[0], "Short closing line."]
    assert len(starts) == 3  # three paragraphs, no blank lines between them


def test_sentence_broken_at_a_link_joins_but_menu_items_do_not() -> None:
    lines = ["Home", "News", "Sport", "", "The minister said the", "report",
             "was wrong, and", "asked for", "a new one.", "", "Contact", "Share"]
    joined = joins(lines)
    assert [lines[i] for i in np.flatnonzero(joined)] == ["report", "was wrong, and",
                                                          "asked for", "a new one."]


def test_a_link_in_upper_case_between_two_broken_joints_joins_both_sides() -> None:
    # One line per text node: "Reuters" is a link's text inside the sentence.
    lines = ["Home", "", "The company told", "Reuters", ", in a statement, that the",
             "plan", "was dropped.", "", "Share"]
    joined, owner = reflow(Page(lines, "text"))
    assert joined.lines == ["Home", "", "The company told Reuters , in a statement, that "
                            "the plan was dropped.", "", "Share"]
    assert owner.tolist() == [0, 1, 2, 2, 2, 2, 2, 3, 4]


def test_short_pieces_are_not_bridged_where_broken_lines_are_rare() -> None:
    # Broken joints on 3 of 40 lines (enough to join them, under 10% for a bridge):
    # the upper-case piece stays a line of its own.
    story = [f"Paragraph {i} of the story ends here." for i in range(37)]
    lines = ["The company told", "Reuters", ", in a statement, that the", "plan",
             "was dropped.", *story]
    joined = joins(lines)
    assert not joined[1] and joined[2] and joined[3] and joined[4]


def test_reflow_maps_every_line_to_its_paragraph() -> None:
    lines = ["Home", "", "The minister said the", "report", "was wrong", "and", "resigned.",
             "Share"]
    joined, owner = reflow(Page(lines, "text"))
    assert joined.lines == ["Home", "", "The minister said the report was wrong and resigned.",
                            "Share"]
    assert owner.tolist() == [0, 1, 2, 2, 2, 2, 2, 3]


def test_a_stray_lower_case_line_is_not_a_page_of_text_nodes() -> None:
    lines = ["Home", "about us", "", "Paragraph with a", "link in it.",
             *[f"Paragraph {i} of the story{', which goes on' * (i % 9)}." for i in range(60)]]
    assert not joins(lines).any()


def test_html_pages_and_unsplit_text_are_left_alone() -> None:
    html = page_from_html(f"<p>{PARAGRAPH}</p><p>and a second block in lower case</p>")
    assert reflow(html)[0] is html
    text = page_from_text(f"{PARAGRAPH}\n\nAnother paragraph.\n")
    assert reflow(text)[0] is text


def test_pieces_of_a_paragraph_share_its_label(tiny_model: LineModel) -> None:
    lines = Cleaner(tiny_model).label("\n".join(wrapped(["Home | News", PARAGRAPH], 60)))
    assert [line.label for line in lines][1:] == [BODY] * (len(lines) - 1)
    assert len({line.probability for line in lines[1:]}) == 1


def test_a_seed_page_wrapped_like_a_text_browser_keeps_its_body_and_drops_its_chrome() -> None:
    """Seed pages dumped as lynx/w3m would (hard-wrapped at 72 columns): every body line is
    in the shipped model's output, and no ticker, related story or app prompt is."""
    cleaner = Cleaner()
    for path in sorted(SEEDS.glob("*.labels.tsv")):
        seed = read_labelled(path)
        dumped = wrapped([line.text for line in seed], 72)
        # without spaces: a word broken at its hyphen comes out as "one-" and "year"
        output = "".join(cleaner.clean("\n".join(dumped)).split())
        for line in seed:
            text = "".join(line.text.split())
            if line.label == BODY:
                assert text in output, (path.name, text)
            elif line.label in ("currency", "stock", "related", "app"):
                assert text not in output, (path.name, text)
        labelled = cleaner.label("\n".join(dumped))  # one label per line of the dump
        assert [line.text for line in labelled] == split_lines("\n".join(dumped))
        assert all((line.label == BLANK) == (not line.text.strip()) for line in labelled)
