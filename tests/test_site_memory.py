"""Site template across a batch: which lines recur, copies counted once, and the API."""

from __future__ import annotations

import numpy as np
import pytest

from cleaner import Cleaner, Line, LineModel, site_memory
from cleaner.labels import BLANK, BODY, NAV
from cleaner.site_memory import REPEAT_GATE, fold, template_lines

UNSURE = REPEAT_GATE - 0.1
SURE = REPEAT_GATE + 0.1
PROMO = "Want more stories like this? Sign up for our newsletter."


def page(article: str, extra: str = PROMO, extra_p: float = UNSURE) -> list[Line]:
    return [Line(f"{article}: the first paragraph of the story, long and sure.", BODY, SURE),
            Line("", BLANK), Line(extra, BODY, extra_p), Line("Home", "nav", 0.9)]


def test_fold_ignores_spacing_and_case() -> None:
    assert fold("  Want  MORE\tstories ") == "want more stories"


def test_an_unsure_body_line_on_another_article_of_the_site_is_template() -> None:
    flags = template_lines([page("A"), page("B"), page("C")], ["x.com"] * 3, ["text"] * 3)
    assert flags == [[False, False, True, False]] * 3


def test_sure_lines_other_sites_and_pages_without_a_site_are_left_alone() -> None:
    sure = template_lines([page("A", extra_p=SURE), page("B", extra_p=SURE)],
                          ["x.com", "x.com"], ["text", "text"])
    assert not any(any(flags) for flags in sure)
    apart = template_lines([page("A"), page("B"), page("C")], ["x.com", "y.com", None],
                           ["text"] * 3)
    assert not any(any(flags) for flags in apart)


def test_html_pages_are_left_alone() -> None:
    flags = template_lines([page("A"), page("B")], ["x.com", "x.com"], ["html", "html"])
    assert not any(any(f) for f in flags)


def test_copies_of_one_article_count_once() -> None:
    # The same story twice (say an AMP copy with other chrome): its own unsure lines
    # recur only on itself and stay; the promo that a second story shares goes.
    copy_a = page("A", extra="An unsure closing line of story A.")
    copy_b = page("A", extra="An unsure closing line of story A.")
    flags = template_lines([copy_a, copy_b], ["x.com", "x.com"], ["text", "text"])
    assert not any(any(f) for f in flags)
    flags = template_lines([page("A"), page("A"), page("B")], ["x.com"] * 3, ["text"] * 3)
    assert [f[2] for f in flags] == [True, True, True]


def test_template_lines_wants_one_site_and_kind_per_page() -> None:
    with pytest.raises(ValueError, match="one site and one kind per page"):
        template_lines([page("A")], [], ["text"])


STORIES = [
    "The harbour board voted on Tuesday to rebuild the northern breakwater before winter.",
    "A bakery on Mill Street has been baking the town's bread for a hundred and ten years.",
    "The county library will open on Sundays from March, after a vote by the council.",
]
SHARED = "Our reporting is paid for by readers like you, and every story we publish is free."


def text_pages() -> list[str]:
    return [f"Home | News | Sport\n\n{story}\n\n{story} It went on at length.\n\n{SHARED}\n"
            for story in STORIES]


def test_clean_batch_is_clean_many_when_no_page_shares_a_site(tiny_model: LineModel) -> None:
    cleaner = Cleaner(tiny_model)
    pages = text_pages()
    assert cleaner.clean_batch(pages, [None, None, None]) == list(cleaner.clean_many(pages))
    assert cleaner.clean_batch(pages, ["a", "b", "c"]) == list(cleaner.clean_many(pages))


def test_clean_batch_drops_a_kept_line_that_every_article_of_the_site_repeats(
        tiny_model: LineModel, monkeypatch: pytest.MonkeyPatch) -> None:
    # The gate above 1 lets the test not depend on how sure a model is of the line.
    monkeypatch.setattr(site_memory, "REPEAT_GATE", 1.01)
    cleaner = Cleaner(tiny_model, input_format="text")
    pages = text_pages()
    alone = list(cleaner.clean_many(pages))
    assert all(SHARED in text for text in alone), "the model should keep the shared line"
    together = cleaner.clean_batch(pages, ["x.com"] * 3)
    for story, text in zip(STORIES, together, strict=True):
        assert SHARED not in text and story in text
    labelled = cleaner.label_batch(pages, ["x.com"] * 3)
    shared = [line for lines in labelled for line in lines if line.text == SHARED]
    assert [line.label for line in shared] == [NAV] * 3


def test_clean_batch_wants_one_site_per_page(tiny_model: LineModel) -> None:
    with pytest.raises(ValueError, match="one site per page"):
        Cleaner(tiny_model).clean_batch(text_pages(), ["x.com"])


def _trace_of_page_a() -> site_memory.Trace:
    return site_memory.trace(page("A"), "x.com")


def test_a_trace_is_the_same_in_another_process() -> None:
    """The command line's workers survey and drop by these hashes: Python's own str hash
    differs from process to process, these must not."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        hashes, article = pool.apply(_trace_of_page_a)
    here = _trace_of_page_a()
    assert hashes.tolist() == here[0].tolist() and article == here[1]
    assert len(hashes) == 3  # the blank line takes no part


def test_recurring_counts_distinct_articles_per_line() -> None:
    line = np.array([5, 7, 9], dtype=np.uint64)
    assert site_memory.recurring([]).tolist() == []
    assert site_memory.recurring([(np.zeros(0, np.uint64), 1)]).tolist() == []
    assert site_memory.recurring([(line, 1), (line[:2], 1)]).tolist() == []  # one article
    assert site_memory.recurring([(line, 1), (line[1:], 2), (line[2:], 2)]).tolist() == [7, 9]


def test_spreads_of_parts_merge_into_the_spread_of_the_whole() -> None:
    """A survey in many tasks: a line that recurs only across two tasks' pages is found
    once their spreads merge, and the merge gives what one survey of every page gives."""
    rng = np.random.default_rng(0)
    traces = [(np.unique(rng.integers(0, 40, size=8).astype(np.uint64)), int(article))
              for article in rng.integers(0, 6, size=30)]
    whole = site_memory.spread(traces)
    parts = [site_memory.spread(traces[start:start + 7]) for start in range(0, 30, 7)]
    merged = site_memory.merge_spreads(parts)
    for column, expected in zip(merged, whole, strict=True):
        assert column.tolist() == expected.tolist()
    assert site_memory.recurring_in(merged).tolist() == site_memory.recurring(traces).tolist()

    line = np.array([3], dtype=np.uint64)
    first, second = site_memory.spread([(line, 1)]), site_memory.spread([(line, 2)])
    assert site_memory.recurring_in(first).tolist() == []
    assert site_memory.recurring_in(site_memory.merge_spreads([first, second])).tolist() == [3]
    assert site_memory.merge_spreads([])[0].tolist() == []
