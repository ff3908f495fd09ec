"""Where a line sits on the page: the article's container, repeated items, landmarks,
the second stage's view of where the article ends, chrome named by the page's markup,
and the split that settings are chosen on."""

from __future__ import annotations

import numpy as np

from cleaner.features import PREDICTION_CONTEXT_FEATURES, prediction_context
from cleaner.html_blocks import STRUCTURE_FEATURES, html_to_blocks
from cleaner.page import Page
from cleaner.training import dataset
from cleaner.training.corpus import is_held_out, is_validation
from cleaner.training.evaluate import format_confusion, is_english, snippet_shares
from cleaner.training.render import render_wrapped

PROSE = ("The council voted on Tuesday to close the old bridge for repairs that are expected "
         "to last well into the spring, officials said. ")

NEWS_PAGE = f"""<html><body>
<nav role="navigation"><ul><li><a href="/">Home</a></li><li><a href="/w">World</a></li></ul></nav>
<div class="story"><h1>Bridge closes</h1>
<p>{PROSE * 2}</p><p>{PROSE}</p><p>{PROSE * 3}</p></div>
<ul class="more">
<li class="teaser"><h3><a href="/a">Other story one</a></h3><p>{PROSE}</p></li>
<li class="teaser"><h3><a href="/b">Other story two</a></h3><p>{PROSE}</p></li>
<li class="teaser"><h3><a href="/c">Other story three</a></h3><p>{PROSE}</p></li>
</ul>
<div id="comments"><div class="c"><p>ann says:</p><p>{PROSE}</p></div>
<div class="c"><p>bob says:</p><p>{PROSE}</p></div></div>
</body></html>"""


def structure_column(lines: list[str], structure: np.ndarray, name: str,
                     start: str) -> float:
    """The named structure feature of the first block starting with ``start``."""
    index = next(i for i, line in enumerate(lines) if line.startswith(start))
    return float(structure[index, STRUCTURE_FEATURES.index(name)])


def test_article_paragraphs_lie_in_the_best_container_teasers_do_not() -> None:
    lines, structure, _ = html_to_blocks(NEWS_PAGE)
    assert structure_column(lines, structure, "in_best_container", "The council") == 1.0
    teaser = next(i for i, line in enumerate(lines) if line == "Other story one")
    assert structure[teaser, STRUCTURE_FEATURES.index("in_best_container")] == 0.0
    assert structure_column(lines, structure, "in_best_container", "Home") == 0.0


def test_repeated_items_are_counted_article_paragraphs_are_not() -> None:
    lines, structure, _ = html_to_blocks(NEWS_PAGE)
    column = STRUCTURE_FEATURES.index("repeat_items")
    teasers = [i for i, line in enumerate(lines) if line.startswith("Other story")]
    assert np.allclose(structure[teasers, column], np.log1p(2))  # three items
    comments = [i for i, line in enumerate(lines) if line.endswith("says:")]
    assert np.allclose(structure[comments, column], np.log1p(1))  # two items
    assert structure_column(lines, structure, "repeat_items", "Bridge closes") == 0.0


def test_parent_share_of_the_pages_prose() -> None:
    lines, structure, _ = html_to_blocks(NEWS_PAGE)
    article = structure_column(lines, structure, "parent_prose_share", "Bridge closes")
    teaser = structure_column(lines, structure, "parent_prose_share", "Other story one")
    assert article > 0.5 > teaser > 0.0


def test_aria_roles_and_microdata_mark_landmarks() -> None:
    html = ('<div role="main"><p>Main text here.</p></div>'
            '<div itemprop="articleBody"><p>Body text here.</p></div>'
            '<div role="complementary"><p>Side text here.</p></div><p>Plain text here.</p>')
    lines, structure, _ = html_to_blocks(html)
    main, chrome = (STRUCTURE_FEATURES.index(n) for n in ("in_role_main", "in_role_chrome"))
    assert structure[:, main].tolist() == [1, 1, 0, 0]
    assert structure[:, chrome].tolist() == [0, 0, 1, 0]


def test_second_stage_sees_where_the_sure_body_ends() -> None:
    p = np.array([0.1, 0.9, 0.95, 0.6, 0.2, 0.7, 0.1])
    context = prediction_context(p, [len(p)])
    column = {name: i for i, name in enumerate(PREDICTION_CONTEXT_FEATURES)}
    assert context[:, column["lines_since_sure_body"]].tolist() == [50, 50, 1, 1, 2, 3, 4]
    assert context[:, column["lines_until_sure_body"]].tolist() == [1, 1, 50, 50, 50, 50, 50]
    after = context[:, column["p_body_mass_after"]]
    assert after[0] > after[3] > after[-1] == 0.0
    before = context[:, column["p_body_mass_before"]]
    assert before[0] == 0.0 and np.isclose(before[-1] + p[-1] / p.sum(), 1.0)


def test_unaligned_lines_take_the_kind_their_markup_names() -> None:
    lines, structure, _ = html_to_blocks(NEWS_PAGE)
    page = Page(lines, "html", structure)
    kinds = dataset.chrome_kinds(page)
    assert kinds["ann says:"] == "comments"
    assert kinds["Other story one"] == "related"
    labels = ["nav"] * len(lines)
    labels[lines.index("Bridge closes")] = "title"
    named = dataset.name_chrome(lines, labels, kinds)
    assert named[lines.index("ann says:")] == "comments"
    assert named[lines.index("Bridge closes")] == "title"  # aligned lines keep their label
    assert named[lines.index("Home")] == "nav"
    # The same text in another rendering (spaces differ) gets the same kind.
    assert dataset.name_chrome(["  ann   says: "], ["nav"], kinds) == ["comments"]


def test_validation_pages_are_training_pages_and_stable() -> None:
    ids = [f"page-{i}" for i in range(2000)]
    validation = [i for i in ids if is_validation("corpus", i)]
    assert not any(is_held_out("corpus", i) for i in validation)
    assert 0.08 < len(validation) / len(ids) < 0.16  # 15% of the 80% that train
    assert validation == [i for i in ids if is_validation("corpus", i)]


def test_wrapped_rendering_breaks_paragraphs_at_79_columns() -> None:
    lines = render_wrapped(f"<p>{PROSE * 3}</p><p>Short.</p>").split("\n")
    assert len(lines) > 3 and max(map(len, lines)) <= 79
    assert lines[-1] == "Short."


def test_snippet_checks_fold_case_and_spaces() -> None:
    from cleaner.training.corpus import GoldPage

    page = GoldPage("wcxb", "1", None, "", extra={"with": ["Bridge  closes", "absent"],
                                                  "without": ["Home", "Sign up"]})
    assert snippet_shares(page, "bridge closes today\nHome") == (1, 2, 1, 2)


def test_english_is_told_by_frequent_words() -> None:
    assert is_english(PROSE)
    assert not is_english("Der Stadtrat stimmte am Dienstag für die Schließung der Brücke.")


def test_confusion_counts_precision_and_recall() -> None:
    pairs = [("c", "body", "body", True), ("c", "body", "nav", True), ("c", "nav", "nav", False),
             ("c", "comments", "body", True)]
    table = format_confusion(pairs).splitlines()
    body = next(row for row in table if row.startswith("body"))
    assert body.split()[1:4] == ["2", "0.500", "0.500"]
    nav = next(row for row in table if row.startswith("nav"))
    assert nav.split()[1:4] == ["1", "0.500", "1.000"]


def test_the_second_stage_sees_how_body_like_a_blocks_neighbours_in_the_tree_are() -> None:
    # The same prose in the article, in a teaser and in a comment; the first stage is
    # sure of the article's (0.95), half believes the teaser's and comment's (0.6, 0.5)
    # and doubts every other line (0.1: headings, headlines, names).
    blocks = html_to_blocks(NEWS_PAGE)
    prose = [i for i, line in enumerate(blocks.lines) if line.startswith("The council")]
    p = np.full(len(blocks.lines), 0.1)
    p[prose[:3]], p[prose[3:6]], p[prose[6:]] = 0.95, 0.6, 0.5
    chars = np.array([len(line) for line in blocks.lines], float)
    context = prediction_context(p, [len(p)], blocks.ancestors, chars)
    level = {n: context[:, PREDICTION_CONTEXT_FEATURES.index(f"dom_p_level{n}")]
             for n in (1, 2, 3)}
    article, teaser = prose[0], prose[3]
    # Parent: the story div (the other paragraphs and the heading) against the teaser's
    # list item (its headline only).
    assert level[1][article] > 0.8 and np.isclose(level[1][teaser], 0.1)
    # Grandparent: the teaser list, doubted as a whole; the article's is the page body.
    assert level[2][teaser] < 0.6
    assert np.isnan(level[3][article])  # the page body has no block element above it
    # The first stage's p(body) of the block itself is not in its neighbours' mean.
    alone = prediction_context(np.where(np.arange(len(p)) == teaser, 1.0, p), [len(p)],
                               blocks.ancestors, chars)
    assert np.isclose(alone[teaser, PREDICTION_CONTEXT_FEATURES.index("dom_p_level1")],
                      level[1][teaser])


def test_text_pages_have_no_element_tree_context() -> None:
    p = np.array([0.2, 0.9, 0.4])
    missing = prediction_context(p, [3])
    flagged = prediction_context(p, [3], np.full((3, 4), -1, np.int32), np.ones(3))
    columns = [i for i, name in enumerate(PREDICTION_CONTEXT_FEATURES) if name.startswith("dom_")]
    assert len(columns) == 3
    assert np.isnan(missing[:, columns]).all() and np.isnan(flagged[:, columns]).all()
    np.testing.assert_array_equal(np.delete(missing, columns, axis=1),
                                  np.delete(flagged, columns, axis=1))


def test_element_tree_context_is_per_page_in_a_batch() -> None:
    blocks = html_to_blocks(NEWS_PAGE)
    n = len(blocks.lines)
    rng = np.random.default_rng(0)
    p = rng.random(2 * n + 3)
    chars = np.array([len(line) for line in blocks.lines] * 2 + [10, 20, 30], float)
    ancestors = np.vstack([blocks.ancestors, blocks.ancestors, np.full((3, 4), -1, np.int32)])
    together = prediction_context(p, [n, n, 3], ancestors, chars)
    alone = np.vstack([prediction_context(p[:n], [n], blocks.ancestors, chars[:n]),
                       prediction_context(p[n:2 * n], [n], blocks.ancestors, chars[n:2 * n]),
                       prediction_context(p[2 * n:], [3])])
    np.testing.assert_allclose(together, alone, rtol=1e-6)
