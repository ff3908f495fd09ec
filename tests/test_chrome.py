"""Synthetic chrome for training renderings: page lines kept, chrome labelled, deterministic."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import numpy as np

from cleaner.labels import BLANK, BODY, LABELS
from cleaner.training import dataset
from cleaner.training.chrome import (
    Story,
    add_chrome,
    comment_thread,
    headline_of,
    related_block,
    story_of,
)
from cleaner.training.corpus import GoldPage

LINES = ["Home | News | Sport", "A headline", "", "First paragraph of the story.",
         "Second paragraph of the story.", "", "Footer links"]
LABELS_OF_LINES = ["nav", "title", BLANK, BODY, BODY, BLANK, "nav"]
STORIES = [Story("Other story", ("Its first paragraph, long enough to count as prose.",
                                 "Its second paragraph, also long enough to be prose.")),
           Story("Third story", ("Only one paragraph in this one, but it is long enough.",))]
CHROME_LABELS = {"related", "promo", "app", "comments", "legal", "currency", "stock", BLANK}


def test_page_lines_keep_their_order_and_labels() -> None:
    for seed in range(50):
        lines, labels = add_chrome(LINES, LABELS_OF_LINES, STORIES, random.Random(seed))
        assert len(lines) == len(labels)
        own = [i for i, line in enumerate(lines) if line in LINES and labels[i] != BLANK]
        assert [lines[i] for i in own] == [line for line in LINES if line]
        assert [labels[i] for i in own] == [label for label in LABELS_OF_LINES
                                            if label != BLANK]


def test_inserted_lines_are_chrome_after_the_body_and_tickers_before_the_page() -> None:
    kinds = set()
    for seed in range(200):
        lines, labels = add_chrome(LINES, LABELS_OF_LINES, STORIES, random.Random(seed))
        first = lines.index(LINES[0])
        last_body = lines.index(LINES[4])
        before, body_part, after = labels[:first], labels[first:last_body + 1], \
            labels[last_body + 1:lines.index(LINES[6])]
        assert set(before) <= {"currency", "stock", BLANK}
        assert body_part == LABELS_OF_LINES[:5]
        assert set(after) <= CHROME_LABELS
        for line, label in zip(lines, labels, strict=True):
            assert label in LABELS
            assert (label == BLANK) == (not line.strip())
        kinds |= set(before) | set(after)
    assert kinds == CHROME_LABELS  # every kind of block turns up


def test_related_blocks_carry_the_other_stories_text() -> None:
    texts = []
    for seed in range(30):
        lines, labels = add_chrome(LINES, LABELS_OF_LINES, STORIES, random.Random(seed))
        texts += [line for line, label in zip(lines, labels, strict=True) if label == "related"]
    joined = "\n".join(texts)
    assert "Other story" in joined and "Its first paragraph" in joined


def test_same_random_stream_same_page() -> None:
    first = add_chrome(LINES, LABELS_OF_LINES, STORIES, random.Random(7))
    assert add_chrome(LINES, LABELS_OF_LINES, STORIES, random.Random(7)) == first


def test_page_without_body_is_unchanged() -> None:
    labels = ["nav", "title", BLANK, "nav", "nav", BLANK, "nav"]
    assert add_chrome(LINES, labels, STORIES, random.Random(1)) == (LINES, labels)


def test_headline_is_the_title_or_a_short_first_line() -> None:
    assert headline_of("  A  title ", "body") == "A title"
    assert headline_of("", "x\nA short line of words\nMore text here.") == "A short line of words"
    assert story_of("T", "too short") is None
    assert story_of("T", "x\n" + "a long paragraph " * 4).paragraphs == (
        ("a long paragraph " * 4).strip(),)


def _gold_page(folder: Path, page_id: str) -> GoldPage:
    body = f"Story {page_id} begins with a sentence that is long enough to be body text.\n" \
           f"It goes on with a second sentence of page {page_id}, also long enough."
    paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n"))
    html = f"<html><body><nav><a href='/'>Home</a> <a href='/n'>News</a></nav>" \
           f"<h1>Title {page_id}</h1>{paragraphs}<footer>Contact us</footer></body></html>"
    path = folder / f"{page_id}.html.gz"
    path.write_bytes(gzip.compress(html.encode()))
    return GoldPage("test", page_id, path, body, f"Title {page_id}")


def test_corpus_rows_add_a_chrome_rendering_to_some_pages(tmp_path: Path) -> None:
    pages = [_gold_page(tmp_path, str(i)) for i in range(12)]
    rows = dataset.corpus_rows(pages, processes=1)
    renderings = rows.pages % dataset.RENDERINGS
    with_chrome = set(rows.groups[renderings == dataset.RENDERINGS - 1])
    assert 0 < len(with_chrome) < len(pages)
    assert set(rows.groups) == set(range(len(pages)))
    chrome_labels = set(rows.labels[renderings == dataset.RENDERINGS - 1])
    assert chrome_labels & {"related", "promo", "app", "comments", "legal"}
    plain = rows.labels[renderings < dataset.RENDERINGS - 1]
    assert not set(plain) & {"related", "promo", "app", "legal", "currency", "stock"}
    again = dataset.corpus_rows(pages, processes=1)
    assert np.array_equal(rows.features, again.features, equal_nan=True)
    assert list(rows.labels) == list(again.labels)


def test_related_stories_never_show_the_page_itself(tmp_path: Path) -> None:
    pages = [_gold_page(tmp_path, str(i)) for i in range(8)]
    for page, stories in zip(pages, dataset.related_stories(pages), strict=True):
        assert 1 <= len(stories) <= dataset.MAX_RELATED
        assert all(story.headline != page.title for story in stories)


def test_comment_threads_repeat_who_when_and_what() -> None:
    threads = [comment_thread(STORIES, random.Random(seed)) for seed in range(40)]
    for lines in threads:
        comments = [line for line in lines if line.startswith(("Its ", "Only one"))]
        assert len(comments) >= 2  # another page's prose, once per comment
    assert any(any(line.endswith(" says:") for line in lines) for lines in threads)


def test_some_related_blocks_give_each_story_one_line() -> None:
    one_line = 0
    for seed in range(200):
        lines = related_block(STORIES, random.Random(seed))
        one_line += any(line.startswith(("Other story Its first", "OTHER: Other story"))
                        for line in lines)
    assert 0 < one_line < 200
