"""The learned word cues: hashing, counting, the columns, and the model file."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from cleaner import lexicon
from cleaner.api import Cleaner
from cleaner.features import pages_features
from cleaner.lexicon import (
    LEXICON_CLASSES,
    LEXICON_FEATURES,
    MIN_PAGES,
    WORDS_PER_LINE,
    Lexicon,
    LexiconError,
    Tokens,
    line_tokens,
)
from cleaner.model import LineModel, ModelError
from cleaner.page import Page

COLUMN = {name: i for i, name in enumerate(LEXICON_FEATURES)}


def hashes_of(line: str) -> list[int]:
    return line_tokens([line]).hashes.tolist()


def test_words_are_lower_cased_and_digits_read_as_zero() -> None:
    assert hashes_of("Related ARTICLES") == hashes_of("related articles")
    assert hashes_of("Score: 2") == hashes_of("score 7")
    assert hashes_of("2024") == hashes_of("1999") != hashes_of("199")
    assert hashes_of("related") != hashes_of("relates")
    assert len(set(hashes_of("a b c ab ba abc"))) == 6


def test_each_word_names_its_line_and_only_the_first_words_count() -> None:
    lines = ["Related articles", "", "Comments (12)", "word " * 40, "İstanbul 😀 日本語"]
    tokens = line_tokens(lines)
    rows = tokens.rows.tolist()
    assert rows == [0, 0, 2, 2] + [3] * WORDS_PER_LINE + [4, 4]
    assert tokens.hashes.dtype == np.uint64
    assert line_tokens([]).hashes.size == 0 and line_tokens(["", "--"]).rows.size == 0


def test_tokens_of_a_batch_are_the_tokens_of_each_line() -> None:
    lines = ["Share this", "Read more: stories", "", "plain words here"]
    together = line_tokens(lines)
    for i, line in enumerate(lines):
        assert together.hashes[together.rows == i].tolist() == hashes_of(line)


def test_concat_and_select_renumber_rows() -> None:
    a, b = line_tokens(["one two", "three"]), line_tokens(["four", "five six"])
    both = Tokens.concat([a, b], [2, 2])
    assert both.rows.tolist() == [0, 0, 1, 2, 3, 3]
    kept = both.select(np.array([False, True, False, True]))
    assert kept.rows.tolist() == [0, 1, 1]
    assert kept.hashes.tolist() == hashes_of("three") + hashes_of("five six")


def corpus(n_pages: int, marker_pages: int) -> tuple[Tokens, np.ndarray, np.ndarray]:
    """Pages of body prose and one promo line each; ``marker_pages`` of the promo lines
    hold the word 'zebra', the rest 'okapi' (which also appears in one body line)."""
    lines, labels, pages = [], [], []
    for page in range(n_pages):
        lines += ["The council said the plan was dropped.", "Officials met on Tuesday."]
        labels += ["body", "body"]
        lines.append("Join the zebra club" if page < marker_pages else "okapi")
        labels.append("promo")
        pages += [page] * 3
    lines.append("an okapi in the body")
    labels.append("body")
    pages.append(n_pages)
    return line_tokens(lines), np.array(labels, dtype=object), np.array(pages)


def test_a_word_enters_the_table_only_when_many_pages_hold_it() -> None:
    tokens, labels, pages = corpus(MIN_PAGES + 5, MIN_PAGES)
    lexicon = Lexicon.fit(tokens, labels, pages)
    known = set(lexicon.hashes.tolist())
    assert hashes_of("zebra")[0] in known
    assert hashes_of("okapi")[0] not in known  # on 6 pages only
    row = lexicon.hashes.tolist().index(hashes_of("zebra")[0])
    scores = dict(zip(LEXICON_CLASSES, lexicon.scores[row].tolist(), strict=True))
    assert scores["promo"] > 0.5 and scores["body"] < -0.5
    said = lexicon.hashes.tolist().index(hashes_of("said")[0])
    assert lexicon.scores[said, 0] > 0.0  # body
    fewer = Lexicon.fit(*corpus(MIN_PAGES + 5, MIN_PAGES - 1))
    assert hashes_of("zebra")[0] not in set(fewer.hashes.tolist())


def test_columns_hold_means_of_known_words_and_say_how_many_are_known() -> None:
    tokens, labels, pages = corpus(MIN_PAGES + 5, MIN_PAGES)
    lexicon = Lexicon.fit(tokens, labels, pages)
    lines = ["Join the zebra club", "unheard-of wordings", "", "The council said so."]
    kept = [0, 1, 3]
    columns = lexicon.columns(line_tokens([lines[i] for i in kept]), 3, [2, 1])
    assert columns.shape == (3, len(LEXICON_FEATURES)) and columns.dtype == np.float32
    assert columns[0, COLUMN["words_promo"]] > 0 > columns[0, COLUMN["words_body"]]
    assert np.isnan(columns[1, : len(LEXICON_CLASSES)]).all()
    assert columns[1, COLUMN["words_known"]] == 0.0
    assert columns[0, COLUMN["words_known"]] == 1.0  # join, the, zebra, club
    # Neighbours stay within a page: the third row starts the second page.
    assert columns[1, COLUMN["words_body@-1"]] == columns[0, COLUMN["words_body"]]
    assert np.isnan(columns[1, COLUMN["words_body@+1"]])
    assert np.isnan(columns[2, COLUMN["words_body@-1"]])
    assert columns[0, COLUMN["page_words_known"]] == pytest.approx(4 / 7)
    assert columns[2, COLUMN["page_words_known"]] == 0.75  # "so" is unknown
    empty = Lexicon.empty().columns(line_tokens(lines[:1]), 1, [1])
    assert np.isnan(empty[0, : len(LEXICON_CLASSES)]).all()


@pytest.mark.parametrize("hashes, scores, message", [
    (np.array([3, 2], np.uint64), np.zeros((2, 6), np.float32), "sorted and unique"),
    (np.array([2, 2], np.uint64), np.zeros((2, 6), np.float32), "sorted and unique"),
    (np.array([1, 2], np.int64), np.zeros((2, 6), np.float32), "uint64"),
    (np.array([1, 2], np.uint64), np.zeros((2, 5), np.float32), "shape"),
    (np.array([1, 2], np.uint64), np.zeros((2, 6), np.float64), "float32"),
    (np.array([1, 2], np.uint64), np.full((2, 6), np.nan, np.float32), "finite"),
])
def test_odd_tables_are_refused(hashes: np.ndarray, scores: np.ndarray, message: str) -> None:
    with pytest.raises(LexiconError, match=message):
        Lexicon(hashes, scores)


SENTENCES = ("the council said the plan for the bridge was dropped.",
             "officials met on Tuesday to talk about the new budget.",
             "residents asked the council about repairs to the old road.",
             "the mayor opened a school with room for four hundred pupils.",
             "a storm cut power to two villages in the north overnight.",
             "the museum will show paintings lent by a private collector.")


def page_lines(page: int) -> tuple[list[str], list[str]]:
    """A page of four lines from the same sentences, one of them an ad. The ad's first
    word has the length and case of the body's: only the word itself tells it apart."""
    chosen = [SENTENCES[(page + i) % len(SENTENCES)] for i in range(4)]
    ad = page % 4
    labels = ["promo" if i == ad else "body" for i in range(4)]
    lines = [f"{'Sponsored' if i == ad else 'Yesterday'} {text}" for i, text in enumerate(chosen)]
    return lines, labels


def fitted(with_words: bool) -> LineModel:
    pages = [Page(*page_lines(page)[:1], "text") for page in range(4 * MIN_PAGES)]
    features, kept = pages_features(pages)
    labels = np.array([label for page in range(4 * MIN_PAGES) for label in page_lines(page)[1]],
                      dtype=object)
    lines = [line for page in pages for line in page.lines]
    page_of = np.repeat(np.arange(len(pages)), [len(k) for k in kept])
    return LineModel.fit(features, labels, page_of, keep_iter=30, reason_iter=5,
                         tokens=line_tokens(lines) if with_words else None)


@pytest.fixture(scope="module")
def word_model() -> LineModel:
    """A model whose only way to tell the ad from the body is the word 'advertisement'."""
    return fitted(with_words=True)


def test_a_learned_word_drops_a_line_that_looks_like_body(word_model: LineModel) -> None:
    for page in (81, 82):
        lines, expected = page_lines(page)
        labels = [line.label for line in Cleaner(word_model, input_format="text").label(
            Page(lines, "text"))]
        assert labels == expected


def test_without_words_the_model_cannot_tell_the_ad() -> None:
    """The pages above test the cues for real: trained without them, the ads are missed."""
    model = fitted(with_words=False)
    for page in (81, 82):
        lines, expected = page_lines(page)
        labels = [line.label for line in Cleaner(model, input_format="text").label(
            Page(lines, "text"))]
        assert labels != expected


def test_the_table_survives_the_model_file(word_model: LineModel, tmp_path: Path) -> None:
    path = tmp_path / "words.npz"
    word_model.save(path)
    loaded = LineModel.load(path)
    np.testing.assert_array_equal(loaded.lexicon.hashes, word_model.lexicon.hashes)
    np.testing.assert_array_equal(loaded.lexicon.scores, word_model.lexicon.scores)
    assert len(loaded.lexicon) > 0
    lines, _ = page_lines(7)
    page = Page(lines, "text")
    assert Cleaner(loaded).label(page) == Cleaner(word_model).label(page)


def rewritten(path: Path, member: str, array: np.ndarray | None) -> bytes:
    """The model file with one array replaced (or removed, when ``array`` is None)."""
    out = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename != f"{member}.npy":
                target.writestr(info, source.read(info))
        if array is not None:
            saved = io.BytesIO()
            np.save(saved, array)
            target.writestr(f"{member}.npy", saved.getvalue())
    return out.getvalue()


@pytest.mark.parametrize("member, change, message", [
    ("lexicon.hashes", lambda a: a[::-1].copy(), "sorted and unique"),
    ("lexicon.scores", lambda a: np.where(a == a.max(), np.inf, a).astype(np.float32),
     "finite"),
    ("lexicon.scores", lambda a: a[:-1], "shape"),
    ("lexicon.hashes", None, "no word cues"),
])
def test_a_tampered_table_is_a_model_error(word_model: LineModel, tmp_path: Path,
                                            member: str, change, message: str) -> None:
    path = tmp_path / "words.npz"
    word_model.save(path)
    array = word_model.lexicon.arrays[member.split(".")[1]]
    data = rewritten(path, member, None if change is None else change(array))
    with pytest.raises(ModelError, match=message):
        LineModel.from_bytes(data, "tampered.npz")


def random_lines(seed: int, n: int = 400) -> list[str]:
    """Lines from many scripts and oddities: digits, marks, emoji, lone surrogates,
    letters whose lower case is longer, long words and long lines."""
    rng = np.random.default_rng(seed)
    alphabet = ("abcXYZ ÄÖüßẞİı 0123456789 ٣٤ .,:;!?-—'\"()[] \t日本語한국어 ไทย "
                "\u0301\u0915\u093f😀𝔘\ud800\uffff\u00a0")
    lines = []
    for _ in range(n):
        size = int(rng.choice([0, 1, 5, 30, 120, 400]))
        chars = rng.choice(list(alphabet), size)
        if rng.random() < 0.1:
            chars = ["w"] * (size + 50)  # one long word
        lines.append("".join(chars))
    return lines


def test_the_compiled_words_are_built() -> None:
    """CI and every developer build them (make install); without them the tests below
    would compare the numpy version with itself."""
    assert lexicon._words is not None, (
        "cleaner/_words.c is not built: run `make install` or "
        "`python setup.py build_ext --inplace`")
    assert lexicon.COMPILED is lexicon._words


@pytest.mark.parametrize("seed", range(5))
def test_compiled_words_equal_numpys(seed: int) -> None:
    lines = random_lines(seed) + ["Related Articles", "", "Comments (12)", "word " * 40]
    compiled, numpy = line_tokens(lines), lexicon.numpy_line_tokens(lines)
    assert len(compiled.hashes) > 500
    np.testing.assert_array_equal(compiled.hashes, numpy.hashes)
    np.testing.assert_array_equal(compiled.rows, numpy.rows)
    assert compiled.hashes.dtype == np.uint64 and compiled.rows.dtype == np.int64


def test_compiled_words_refuse_odd_arguments() -> None:
    from cleaner.features import class_table

    classes, lower = class_table()[0], lexicon._lower_table()
    with pytest.raises(TypeError, match="must be str"):
        lexicon._words.hash_words(["a", 3], classes, lower, 200, 32, 16, 3)
    with pytest.raises(ValueError, match="wrong size"):
        lexicon._words.hash_words(["a"], classes[:10], lower, 200, 32, 16, 3)


def test_compiled_look_up_equals_numpys(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    table = np.unique(rng.integers(0, 2**64 - 1, 5000, dtype=np.uint64))
    # Crowd one bucket (same top 16 bits), and include the extremes.
    table = np.unique(np.concatenate((table, (table[:50] | np.uint64(0xFFFF << 48)),
                                      np.array([0, 2**64 - 1], np.uint64))))
    lexicon_ = Lexicon(table, np.zeros((len(table), len(LEXICON_CLASSES)), np.float32))
    needles = np.concatenate((table[::3], rng.integers(0, 2**64 - 1, 3000, dtype=np.uint64),
                              table[-5:]))
    compiled = lexicon_.find(needles)
    monkeypatch.setattr(lexicon, "COMPILED", None)
    numpy = lexicon_.find(needles)
    np.testing.assert_array_equal(compiled, numpy)
    assert (compiled >= 0).sum() == len(table[::3]) + 5
    assert (table[compiled[compiled >= 0]] == needles[compiled >= 0]).all()


def test_compiled_look_up_refuses_odd_buckets() -> None:
    table = np.array([1, 2, 3], np.uint64)
    buckets = np.zeros(65537, np.int64)
    with pytest.raises(ValueError, match="wrong size"):
        lexicon._words.find_words(table, table, buckets[:-1])
    buckets[5:] = 4  # beyond the table, for words whose top 16 bits are 4 or more
    np.testing.assert_array_equal(  # words of the buckets in range are looked up
        np.frombuffer(lexicon._words.find_words(table, table, buckets), np.int64), [-1] * 3)
    with pytest.raises(ValueError, match="out of the table's range"):
        lexicon._words.find_words(np.array([1, 5 << 48], np.uint64), table, buckets)
    buckets[:] = -1  # before the table
    with pytest.raises(ValueError, match="out of the table's range"):
        lexicon._words.find_words(table, table, buckets)


def test_the_lower_case_table_lowers_every_word_character() -> None:
    """Only upper-case classes are looked up when the table is built; every character
    words are made of must still get what str.lower gives it (when that is one char)."""
    from cleaner.features import WORD_CLASS, class_table

    table = lexicon._lower_table()
    word = WORD_CLASS[class_table()[0]]
    for code in np.flatnonzero(word).tolist():
        lower = chr(code).lower()
        assert table[code] == (ord(lower) if len(lower) == 1 else code), hex(code)
