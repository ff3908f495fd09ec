"""Alignment of rendered lines to gold text: the model can be no better than these labels."""

import numpy as np

from cleaner.training.align import align_lines_to_gold, line_coverage

GOLD = (
    "Storm hits the coast\n"
    "The storm hit the northern coast on Monday, officials said.\n"
    "Damage\n"
    "Hundreds of homes lost power overnight, the utility company reported."
)
PAGE = [
    "Home | News | Sport | Weather",
    "Storm hits the coast",
    "The storm hit the northern coast on Monday, officials said.",
    "Damage",
    "Hundreds of homes lost power overnight, the utility company reported.",
    "",
    "Related: Storm hits the coast",
    "Damage",
    "© 2024 Example News",
]


def test_article_lines_are_body_and_chrome_is_fallback():
    labels = align_lines_to_gold(PAGE, {"body": GOLD})
    assert labels == ["nav", "body", "body", "body", "body", "blank", "nav", "nav", "nav"]


def test_short_subheading_inside_article_is_covered_by_shingles_across_lines():
    coverage = line_coverage(PAGE, GOLD)
    assert coverage[3] == 1.0  # "Damage" between two gold paragraphs


def test_same_short_word_outside_the_article_is_not_covered():
    coverage = line_coverage(PAGE, GOLD)
    assert coverage[7] == 0.0  # the second "Damage", in the footer


def test_repeated_headline_in_a_teaser_loses_to_the_article_copy():
    coverage = line_coverage(PAGE, GOLD)
    assert coverage[1] == 1.0
    assert coverage[6] == 0.0


def test_gold_text_repeated_twice_covers_two_copies():
    lines = ["one two three four five", "one two three four five"]
    assert list(line_coverage(lines, "one two three four five\none two three four five")) == [1, 1]
    assert list(line_coverage(lines, "one two three four five")) == [1, 0]


def test_lines_without_word_tokens_have_no_coverage_and_are_not_body():
    lines = ["alpha beta gamma delta", "• • •", "epsilon zeta eta theta"]
    coverage = line_coverage(lines, "alpha beta gamma delta epsilon zeta eta theta")
    assert np.isnan(coverage[1])
    gold = {"body": "alpha beta gamma delta epsilon zeta eta theta"}
    assert align_lines_to_gold(lines, gold) == ["body", "nav", "body"]


def test_matching_ignores_case_and_punctuation():
    lines = ["THE STORM, HIT THE COAST!"]
    assert align_lines_to_gold(lines, {"body": "the storm hit the coast"}) == ["body"]


def test_line_half_covered_is_body_below_half_is_not():
    gold = "a1 a2 a3 a4 a5 a6"
    assert align_lines_to_gold(["a1 a2 a3 a4 a5 a6 b1 b2 b3 b4 b5 b6"], {"body": gold}) == ["body"]
    assert align_lines_to_gold(["a1 a2 a3 a4 a5 b1 b2 b3 b4 b5 b6"], {"body": gold}) == ["nav"]


def test_other_gold_classes_label_their_lines():
    lines = ["Storm hits the coast today", "Photo by Jane Doe for the paper",
             "Body text goes on and on here"]
    gold = {"body": "Body text goes on and on here", "title": "Storm hits the coast today",
            "meta": "Photo by Jane Doe for the paper"}
    assert align_lines_to_gold(lines, gold) == ["title", "meta", "body"]


def test_works_for_scripts_without_latin_letters():
    lines = ["मुख्य पृष्ठ", "उत्तर कोरिया और रूस ने सड़क पुल का निर्माण शुरू किया है", "विज्ञापन"]
    gold = "उत्तर कोरिया और रूस ने सड़क पुल का निर्माण शुरू किया है"
    assert align_lines_to_gold(lines, {"body": gold}) == ["nav", "body", "nav"]


def test_empty_gold_labels_nothing_as_body():
    assert align_lines_to_gold(["some text here now"], {"body": ""}) == ["nav"]
