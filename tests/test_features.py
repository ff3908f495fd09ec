"""Line features: their shape, their independence from the script, and context per page.

A page in Hindi, Chinese or Russian with the shape of an English page (a
menu, a title, a dateline, two paragraphs of prose, a share bar) must look
like that English page to the model wherever the feature is about shape
rather than about a script's habits.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import PAGES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleaner.decode import decode_bytes
from cleaner.features import (
    BASE_FEATURES,
    FEATURE_NAMES,
    PREDICTION_CONTEXT_FEATURES,
    PROSE_CHARS,
    page_features,
    pages_features,
    prediction_context,
)
from cleaner.html_blocks import STRUCTURE_FEATURES
from cleaner.page import make_page

COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}
CONTEXT = {name: i for i, name in enumerate(PREDICTION_CONTEXT_FEATURES)}


def features(text: str, input_format: str = "text") -> np.ndarray:
    return page_features(make_page(text, input_format))[0]


def column(text: str, name: str, input_format: str = "text") -> list[float]:
    return features(text, input_format)[:, COLUMN[name]].tolist()


# --------------------------------------------------------------------------- shape


def test_feature_names_are_unique_and_include_structure() -> None:
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)
    assert FEATURE_NAMES[: len(BASE_FEATURES)] == BASE_FEATURES
    assert FEATURE_NAMES[-len(STRUCTURE_FEATURES):] == STRUCTURE_FEATURES


def fixture_texts() -> list[tuple[str, str]]:
    texts = []
    for path in sorted(PAGES.rglob("*")):
        if path.is_file():
            text = decode_bytes(path.read_bytes())
            texts.append((path.name, text))
    return texts


@pytest.mark.parametrize("input_format", ["text", "html"])
@pytest.mark.parametrize(("name", "text"), fixture_texts(), ids=[n for n, _ in fixture_texts()])
def test_one_float32_row_per_non_blank_line_and_no_inf(name: str, text: str,
                                                       input_format: str) -> None:
    page = make_page(text, input_format)
    matrix, kept = page_features(page)
    non_blank = [i for i, line in enumerate(page.lines) if line.strip()]
    assert kept.tolist() == non_blank
    assert matrix.shape == (len(non_blank), len(FEATURE_NAMES))
    assert matrix.dtype == np.float32
    assert not np.isinf(matrix).any()


def test_blank_lines_get_no_row() -> None:
    matrix, kept = page_features(make_page("\n  \nFirst line\n\t\n\nSecond line\n \n", "text"))
    assert kept.tolist() == [2, 5]
    assert matrix.shape == (2, len(FEATURE_NAMES))


@pytest.mark.parametrize("text", ["", "\n\n", "  \n\t\n\u3000"])
def test_page_without_text_has_no_rows(text: str) -> None:
    matrix, kept = page_features(make_page(text, "text"))
    assert matrix.shape == (0, len(FEATURE_NAMES)) and matrix.dtype == np.float32
    assert kept.tolist() == []


def test_text_pages_lack_structure_features_html_pages_have_them() -> None:
    structure = [COLUMN[name] for name in STRUCTURE_FEATURES]
    html = decode_bytes((PAGES / "bakery.html").read_bytes())
    assert np.isnan(features(html, "text")[:, structure]).all()
    assert not np.isnan(features(html, "html")[:, structure]).any()


def test_link_density_of_html_blocks() -> None:
    html = ("<html><body><p><a href='/a'>Home</a></p>"
            "<p>A paragraph of plain prose without any link at all, long enough to read.</p>"
            "</body></html>")
    assert column(html, "link_density", "html") == [1.0, 0.0]
    assert column(html, "link_density@+1", "html")[0] == 0.0
    assert column(html, "link_density@-1", "html")[1] == 1.0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(st.characters(exclude_categories=()), max_size=60), max_size=30))
def test_any_text_gives_finite_or_missing_values(lines: list[str]) -> None:
    """Lone surrogates, controls, astral symbols, marks without a base: never inf."""
    page = make_page("\n".join(lines), "text")
    matrix, kept = page_features(page)
    assert matrix.shape == (sum(1 for line in page.lines if line.strip()), len(FEATURE_NAMES))
    assert not np.isinf(matrix).any()
    own = matrix[:, [COLUMN[name] for name in ("log_chars", "log_tokens", "frac_letter",
                                                "position", "in_main_run", "duplicates")]]
    assert not np.isnan(own).any()


# --------------------------------------------------------------------------- own text


@pytest.mark.parametrize(("line", "terminal"), [
    ("The ferry will run all winter.", 1.0),
    ("Will the ferry run all winter?", 1.0),
    ("It will!", 1.0),
    ('He said: "It will run."', 1.0),
    ("Er sagte: «Sie fährt.»", 1.0),
    ("(The ferry runs daily.)", 1.0),
    ("नौका सेवा सर्दियों में भी जारी रहेगी।", 1.0),
    ("渡轮将在整个冬季继续运营。", 1.0),
    ("他说：「渡轮会继续运营。」", 1.0),
    ("渡轮会继续运营吗？", 1.0),
    ("هل ستستمر العبارة؟", 1.0),
    ("Паром будет ходить всю зиму.", 1.0),
    ("Home | World | Sport", 0.0),
    ("Read more:", 0.0),
    ("First, the ferry,", 0.0),
    ("12 March 2024", 0.0),
])
def test_ends_terminal(line: str, terminal: float) -> None:
    assert column(line, "ends_terminal") == [terminal]


def test_counts_of_special_characters_are_capped() -> None:
    assert column("a | b | c", "count_pipe") == [2.0]
    assert column(" | ".join("abcdefgh"), "count_pipe") == [5.0]
    assert column("© 2024 Times", "count_copyright") == [1.0]


def test_dates_times_urls_and_signed_numbers() -> None:
    text = "12 March 2024, 09:41\nSee https://example.org now\nSensex +1.2% today\nNothing here"
    assert column(text, "has_year") == [1.0, 0.0, 0.0, 0.0]
    assert column(text, "has_time") == [1.0, 0.0, 0.0, 0.0]
    assert column(text, "has_url") == [0.0, 1.0, 0.0, 0.0]
    assert column(text, "has_signed_number") == [0.0, 0.0, 1.0, 0.0]


def test_duplicates_and_repeats() -> None:
    text = "Share\nThe story.\nShare\nSHARE"
    assert column(text, "duplicates") == [2.0, 0.0, 2.0, 2.0]
    assert column(text, "repeats_earlier") == [0.0, 0.0, 1.0, 2.0]
    assert column(text, "same_as_previous") == [0.0, 0.0, 0.0, 1.0]


def test_leading_spaces_and_bullets() -> None:
    text = "    indented\n• bullet item\nplain"
    assert column(text, "leading_spaces") == [4.0, 0.0, 0.0]
    assert column(text, "starts_bullet") == [0.0, 1.0, 0.0]


def test_blank_lines_around_a_line_are_counted_and_capped() -> None:
    text = "\n\nA\n\n\nB\n" + "\n" * 9 + "C"
    assert column(text, "blank_before") == [2.0, 2.0, 5.0]
    assert column(text, "blank_after") == [2.0, 5.0, 0.0]


def test_numeric_and_capitalised_tokens() -> None:
    assert column("Up 12 in 2024", "frac_numeric_tokens") == [0.5]
    assert column("NASA and ESA agree", "frac_upper_tokens") == [0.5]
    assert column("Old Bakery reopens", "frac_capitalised_tokens") == [pytest.approx(2 / 3)]


# --------------------------------------------------------------------------- scripts

SCRIPTS = {
    "english": [
        "Home | World | Business | Sport",
        "Harbour town votes to keep its ferry",
        "12 March 2024, 09:41",
        "Residents of the small harbour town voted on Tuesday to keep the island ferry "
        "running through the winter.",
        "The council had argued that the ferry lost money every winter and that a smaller "
        "boat would be enough.",
        "Share | Facebook | Twitter",
    ],
    "hindi": [
        "होम | दुनिया | व्यापार | खेल",
        "बंदरगाह शहर ने नौका सेवा जारी रखने का फ़ैसला किया",
        "12 मार्च 2024, 09:41",
        "छोटे बंदरगाह शहर के निवासियों ने मंगलवार को सर्दियों में द्वीप की नौका सेवा जारी "
        "रखने के लिए मतदान किया।",
        "परिषद का तर्क था कि नौका हर सर्दी में पैसे गंवाती है और एक छोटी नाव काफ़ी होगी।",
        "साझा करें | फ़ेसबुक | ट्विटर",
    ],
    "chinese": [
        "首页 | 国际 | 财经 | 体育",
        "港口小镇投票决定保留渡轮",
        "2024年3月12日 09:41",
        "这个海港小镇的居民周二投票决定，在整个冬季继续保留通往岛屿的渡轮服务，"
        "结束了一场让镇议会分裂了将近两年的争论，许多渔民和教师都表示欢迎。",
        "镇议会此前认为，渡轮每年冬天都在亏损，换一艘较小的船就足够了；但反对者说，"
        "小船无法在每年十一月到次年三月的大风大浪中安全航行。",
        "分享 | 微博 | 微信",
    ],
    "russian": [
        "Главная | Мир | Бизнес | Спорт",
        "Портовый город проголосовал за паром",
        "12 марта 2024, 09:41",
        "Жители небольшого портового города во вторник проголосовали за то, чтобы паром "
        "на остров ходил всю зиму.",
        "Совет утверждал, что паром каждую зиму приносит убытки и что небольшой лодки было "
        "бы достаточно.",
        "Поделиться | ВКонтакте | Telegram",
    ],
}
NAV, TITLE, DATELINE, PROSE_1, PROSE_2, SHARE = range(6)
PROSE = [PROSE_1, PROSE_2]
#: Features about the shape of lines and pages, which must not depend on the script.
SHAPE_FEATURES = [
    "ends_terminal", "count_pipe", "has_time", "has_url", "starts_bullet",
    "duplicates", "position", "in_main_run", "lines_to_main_run", "page_log_lines",
    "page_frac_long", "blank_before", "blank_after",
    *(f"ends_terminal@{offset:+d}" for offset in (-2, -1, 1, 2)), "ends_terminal~3",
]


def script_features(script: str) -> np.ndarray:
    return features("\n".join(SCRIPTS[script]))


def test_translated_pages_have_prose_lines_long_enough() -> None:
    for lines in SCRIPTS.values():
        assert all(len(lines[i]) >= PROSE_CHARS for i in PROSE)


@pytest.mark.parametrize("script", list(SCRIPTS))
def test_shape_features_are_the_same_in_every_script(script: str) -> None:
    english, other = script_features("english"), script_features(script)
    for name in SHAPE_FEATURES:
        np.testing.assert_array_equal(other[:, COLUMN[name]], english[:, COLUMN[name]], name)


@pytest.mark.parametrize("script", list(SCRIPTS))
def test_prose_reads_as_prose_in_every_script(script: str) -> None:
    matrix = script_features(script)
    for row in PROSE:
        assert matrix[row, COLUMN["ends_terminal"]] == 1.0
        assert matrix[row, COLUMN["in_main_run"]] == 1.0
        assert matrix[row, COLUMN["log_tokens"]] > math.log1p(1)
        assert matrix[row, COLUMN["frac_digit"]] == 0.0
        assert matrix[row, COLUMN["frac_punct"]] < 0.1
    for row in (NAV, SHARE):
        assert matrix[row, COLUMN["ends_terminal"]] == 0.0
        assert matrix[row, COLUMN["in_main_run"]] == 0.0
        assert matrix[row, COLUMN["count_pipe"]] >= 2
    assert matrix[DATELINE, COLUMN["frac_digit"]] > 0.3


@pytest.mark.parametrize("script", list(SCRIPTS))
def test_year_of_the_dateline_in_every_script(script: str) -> None:
    assert script_features(script)[:, COLUMN["has_year"]].tolist() == [0, 0, 1, 0, 0, 0]


@pytest.mark.parametrize("script", list(SCRIPTS))
def test_every_line_has_tokens(script: str) -> None:
    assert (script_features(script)[:, COLUMN["log_tokens"]] > 0).all()


@pytest.mark.parametrize("script", list(SCRIPTS))
def test_prose_is_mostly_letters_in_every_script(script: str) -> None:
    matrix = script_features(script)
    for row in PROSE:
        assert matrix[row, COLUMN["frac_letter"]] > 0.6
    assert matrix[DATELINE, COLUMN["frac_letter"]] < 0.6


# --------------------------------------------------------------------------- neighbours


def test_window_features_of_a_one_line_page() -> None:
    matrix = features("The only line of the page.")
    for key in ("log_chars", "ends_terminal", "frac_digit", "frac_punct",
                "frac_capitalised_tokens"):
        for offset in (-2, -1, 1, 2):
            assert math.isnan(matrix[0, COLUMN[f"{key}@{offset:+d}"]])
        for window in (3, 10):
            assert matrix[0, COLUMN[f"{key}~{window}"]] == pytest.approx(matrix[0, COLUMN[key]])
    assert matrix[0, COLUMN["position"]] == 0.0
    assert matrix[0, COLUMN["in_main_run"]] == 1.0  # the main run is never empty
    assert matrix[0, COLUMN["lines_to_main_run"]] == 0.0
    assert matrix[0, COLUMN["chars_vs_longest"]] == 1.0


def test_window_features_of_a_two_line_page() -> None:
    matrix = features("Menu\nThe second line ends a sentence.")
    log_chars, ends = COLUMN["log_chars"], COLUMN["ends_terminal"]
    assert matrix[0, COLUMN["log_chars@+1"]] == matrix[1, log_chars]
    assert matrix[1, COLUMN["log_chars@-1"]] == matrix[0, log_chars]
    assert math.isnan(matrix[0, COLUMN["log_chars@-1"]])
    assert math.isnan(matrix[1, COLUMN["log_chars@+1"]])
    for row in (0, 1):
        assert math.isnan(matrix[row, COLUMN["log_chars@-2"]])
        assert math.isnan(matrix[row, COLUMN["log_chars@+2"]])
        assert matrix[row, COLUMN["ends_terminal~3"]] == 0.5
        assert matrix[row, COLUMN["ends_terminal~10"]] == 0.5
        assert matrix[row, COLUMN["log_chars~3"]] == pytest.approx(matrix[:, log_chars].mean())
    assert matrix[:, ends].tolist() == [0.0, 1.0]
    assert matrix[:, COLUMN["position"]].tolist() == [0.0, 1.0]


def test_window_mean_ignores_missing_neighbours() -> None:
    """Lines without tokens have no frac_capitalised_tokens; the window skips them."""
    matrix = features("Old Town\n---\nnew town")
    values = matrix[:, COLUMN["frac_capitalised_tokens"]]
    assert math.isnan(values[1])
    assert matrix[1, COLUMN["frac_capitalised_tokens~3"]] == pytest.approx(0.5)


def test_neighbours_skip_blank_lines() -> None:
    """Context is over non-blank lines: the line after a gap is the next neighbour."""
    matrix = features("Menu\n\n\nThe second line ends a sentence.")
    assert matrix[0, COLUMN["ends_terminal@+1"]] == 1.0


# --------------------------------------------------------------------------- prediction context


def context(p_body: list[float], lengths: list[int]) -> np.ndarray:
    return prediction_context(np.array(p_body), lengths)


def col(matrix: np.ndarray, name: str) -> list[float]:
    return matrix[:, CONTEXT[name]].tolist()


def test_prediction_context_shape_and_type() -> None:
    matrix = context([0.1, 0.9, 0.5], [3])
    assert matrix.shape == (3, len(PREDICTION_CONTEXT_FEATURES)) == (3, 22)
    assert matrix.dtype == np.float32


def test_prediction_context_of_no_rows() -> None:
    assert context([], []).shape == (0, len(PREDICTION_CONTEXT_FEATURES))


def test_pages_in_one_call_equal_pages_one_by_one() -> None:
    rng = np.random.default_rng(7)
    lengths = [1, 5, 2, 12, 3]
    p_body = rng.random(sum(lengths))
    together = prediction_context(p_body, lengths)
    starts = np.cumsum([0, *lengths[:-1]])
    alone = np.vstack([prediction_context(p_body[s:s + n], [n])
                       for s, n in zip(starts, lengths, strict=True)])
    np.testing.assert_array_equal(together, alone)


def test_neighbours_stop_at_page_boundaries() -> None:
    matrix = context([0.9, 0.8, 0.1, 0.2, 0.3], [2, 3])
    assert np.isnan(col(matrix, "p_body@-1")[2])  # first row of page 2
    assert np.isnan(col(matrix, "p_body@-2")[3])
    assert np.isnan(col(matrix, "p_body@+1")[1])  # last row of page 1
    assert np.isnan(col(matrix, "p_body@+2")[0])
    assert col(matrix, "p_body@-1")[3] == pytest.approx(0.1)
    assert col(matrix, "p_body@+2")[2] == pytest.approx(0.3)


def test_page_statistics_are_per_page() -> None:
    matrix = context([0.9, 0.7, 0.1, 0.2, 0.3], [2, 3])
    assert col(matrix, "p_body_page_mean") == pytest.approx([0.8, 0.8, 0.2, 0.2, 0.2])
    assert col(matrix, "p_body_page_max") == pytest.approx([0.9, 0.9, 0.3, 0.3, 0.3])
    assert col(matrix, "p_body~3") == pytest.approx([0.8, 0.8, 0.2, 0.2, 0.2])
    assert col(matrix, "p_body~10") == pytest.approx([0.8, 0.8, 0.2, 0.2, 0.2])
    assert col(matrix, "p_body_max_before") == pytest.approx([0.0, 0.9, 0.0, 0.1, 0.2])
    assert col(matrix, "p_body_max_after") == pytest.approx([0.7, 0.0, 0.3, 0.3, 0.0])


def test_window_of_radius_three() -> None:
    matrix = context([1.0, 0.0, 0.0, 0.0, 0.0, 0.0], [6])
    assert col(matrix, "p_body~3") == pytest.approx([1 / 4, 1 / 5, 1 / 6, 1 / 6, 0.0, 0.0])


def test_rank_within_the_page() -> None:
    matrix = context([0.2, 0.9, 0.5, 0.7, 0.1], [3, 2])
    assert col(matrix, "p_body_rank") == pytest.approx([1.0, 0.0, 0.5, 0.0, 1.0])


def test_lines_since_and_until_body() -> None:
    matrix = context([0.9, 0.1, 0.2, 0.8, 0.3], [5])
    assert col(matrix, "lines_since_body") == [50, 1, 2, 3, 1]
    assert col(matrix, "lines_until_body") == [3, 2, 1, 50, 50]


def test_body_means_at_least_one_half() -> None:
    matrix = context([0.5, 0.49, 0.49], [3])
    assert col(matrix, "lines_since_body") == [50, 1, 2]


def test_lines_since_body_do_not_count_across_pages() -> None:
    matrix = context([0.9, 0.1, 0.1, 0.9], [2, 2])
    assert col(matrix, "lines_since_body") == [50, 1, 50, 50]
    assert col(matrix, "lines_until_body") == [50, 50, 1, 50]


def test_lines_since_body_are_capped_at_fifty() -> None:
    matrix = context([1.0] + [0.0] * 79, [80])
    since = col(matrix, "lines_since_body")
    assert since[1:4] == [1, 2, 3]
    assert max(since) == 50 and since[60] == 50


def test_empty_pages_in_the_lengths_are_skipped() -> None:
    p_body = [0.9, 0.2, 0.4, 0.6, 0.1]
    np.testing.assert_array_equal(context(p_body, [2, 0, 3, 0]), context(p_body, [2, 3]))


def test_one_row_page() -> None:
    matrix = context([0.7], [1])
    assert col(matrix, "p_body") == pytest.approx([0.7])
    assert col(matrix, "p_body_rank") == [0.0]
    assert col(matrix, "p_body_max_before") == [0.0]
    assert col(matrix, "p_body_max_after") == [0.0]
    assert col(matrix, "lines_since_body") == [50]
    assert all(np.isnan(col(matrix, name)[0]) for name in (
        "p_body@-2", "p_body@-1", "p_body@+1", "p_body@+2"))


# --------------------------------------------------------------------------- faster, same output
# Patterns rewritten for speed must keep the features bit for bit: checked against the
# patterns they replace, on text built from the characters that matter to them.

_TRICKY = st.lists(st.sampled_from(
    list("ab.wh:/\n \t\xa0\u2003\u2028\u3000\x85\x1c\x1f_0é\u0301\u093f")
    + ["com", "org", "net", "www.", "http://"]), max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(_TRICKY)
def test_url_flags_equal_the_original_pattern(text: str) -> None:
    from cleaner.features import _URL

    _assert_same_line_flags(_URL, r"https?://|www\.|\w\.(?:com|org|net)\b", text)


def _assert_same_line_flags(pattern, original: str, text: str) -> None:
    """A rewritten pattern flags the same lines of ``text`` as the ``original`` one."""
    import regex

    from cleaner.features import _regex_lines

    lines = text.split("\n")
    starts = np.concatenate(([0], np.cumsum([len(line) + 1 for line in lines])[:-1]))
    np.testing.assert_array_equal(
        _regex_lines(pattern, text, starts, len(lines)),
        _regex_lines(regex.compile(original), text, starts, len(lines)))


@settings(max_examples=300, deadline=None)
@given(_TRICKY)
def test_block_whitespace_equals_the_regex_modules(text: str) -> None:
    import regex

    from cleaner.html_blocks import _SPACE

    assert _SPACE.sub(" ", text) == regex.compile(r"\s+").sub(" ", text)


def test_cached_hints_are_shared_and_immutable() -> None:
    from lxml import etree

    from cleaner.html_blocks import HINTS, _hint_vector

    first = _hint_vector(etree.fromstring('<div class="site-nav main-menu"/>'))
    again = _hint_vector(etree.fromstring('<p class="site-nav main-menu"/>'))
    assert first is again and isinstance(first, tuple)
    # nav and menu count once for their group; main names content
    assert [list(HINTS)[i] for i in first] == ["hint_nav", "hint_content"]
    assert _hint_vector(etree.fromstring('<div class="xyz"/>')) == ()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["nav", "navbar", "mainnav", "sidebar-left", "col-md-8", "ad",
                                 "x", "readmore", "post_content", "Share", "comments2", "-",
                                 "widget123", "promo-banner", " "]), max_size=6).map(" ".join))
def test_hints_by_word_equal_the_fragment_scan(names: str) -> None:
    """The per-word cache gives the groups the old scan gave: a word of a group, or a
    fragment of more than three letters inside a word."""
    from cleaner.html_blocks import _HINT_LOOKUP, _NAME_SPLIT, _hints_of_names

    expected = set()
    for word in _NAME_SPLIT.split(names.lower()):
        if word in _HINT_LOOKUP:
            expected.add(_HINT_LOOKUP[word])
        elif len(word) > 3:
            expected |= {i for fragment, i in _HINT_LOOKUP.items()
                         if len(fragment) > 3 and fragment in word}
    assert _hints_of_names(names) == tuple(sorted(expected))


@settings(max_examples=500, deadline=None)
@given(st.one_of(_TRICKY, st.text(max_size=60)))
def test_collapsed_spaces_equal_the_pattern_and_strip(text: str) -> None:
    import regex

    from cleaner.html_blocks import collapse_spaces

    assert collapse_spaces(text) == regex.compile(r"\s+").sub(" ", text).strip()


@settings(max_examples=300, deadline=None)
@given(st.one_of(_TRICKY, st.text(alphabet=st.sampled_from(
    list("<p>a b</p>\x00\x01\x0b\x0c\x1f\x7f\x85\xa0\u3000\n\t é日\ud800")), max_size=40)))
def test_html_parses_as_with_control_characters_removed_from_the_text(html: str) -> None:
    """Control characters deleted from the UTF-8 bytes: the same tree as deleted from the
    text, and a page of white space and control characters is still no page."""
    from lxml import etree

    from cleaner.html_blocks import _CONTROL, _parse_with_libxml2, parse_html

    cleaned = _CONTROL.sub("", html)
    root = parse_html(html)
    if not cleaned.strip():
        assert root is None
        return
    expected, _ = _parse_with_libxml2(cleaned.encode("utf-8", "replace"))
    assert (root is None) == (expected is None)
    if root is not None:
        assert etree.tostring(root) == etree.tostring(expected)


def test_control_characters_are_the_same_class_as_before() -> None:
    import regex

    from cleaner.html_blocks import _CONTROL, _CONTROL_BYTES

    everything = "".join(map(chr, range(0x3000)))
    assert _CONTROL.sub("", everything) == regex.compile(
        r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]").sub("", everything)
    assert _CONTROL.sub("", everything).encode() == everything.encode().translate(
        None, _CONTROL_BYTES)


@settings(max_examples=300, deadline=None)
@given(_TRICKY.map(lambda text: text.replace("a", "5%").replace("b", "-1")))
def test_signed_number_flags_equal_the_original_pattern(text: str) -> None:
    from cleaner.features import _PERCENT_OR_SIGNED

    _assert_same_line_flags(_PERCENT_OR_SIGNED, r"[+\-−]\d|\d%", text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(-5, 5), min_size=1, max_size=30))
def test_main_run_equals_the_plain_loop(scores: list[int]) -> None:
    """The run of largest prose score starts where the running minimum was first reached."""
    from cleaner.features import _main_run

    cumulative = np.concatenate(([0.0], np.cumsum(scores)))
    best, start, end = -np.inf, 0, 0
    low, low_index = np.inf, 0
    for i in range(len(scores)):
        if cumulative[i] < low:
            low, low_index = cumulative[i], i
        if cumulative[i + 1] - low > best:
            best, start, end = cumulative[i + 1] - low, low_index, i
    assert _main_run(np.array(scores, dtype=float)) == (start, end)


@pytest.mark.parametrize("chunk_chars", [1 << 17, 40])
def test_pages_in_one_batch_get_the_rows_they_get_alone(chunk_chars: int,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing leaks between the pages of a batch: windows, neighbours, repeated lines,
    the main run and page totals all stop at the page's edges (also when the batch's
    base features are computed a few pages at a time)."""
    import cleaner.features

    monkeypatch.setattr(cleaner.features, "CHUNK_CHARS", chunk_chars)
    texts = [text for _, text in fixture_texts()]
    repeated = "Share this story\nA long paragraph of prose that ends a sentence here.\n" * 3
    pages = [make_page(text, fmt) for text in texts for fmt in ("text", "html")]
    pages[2:2] = [make_page("", "text"), make_page(repeated, "text"), make_page("One", "text"),
                  make_page(repeated, "text"), make_page("\n \n", "text")]
    together, kept = pages_features(pages)
    alone = [page_features(page) for page in pages]
    np.testing.assert_array_equal(together, np.vstack([rows for rows, _ in alone]))
    for (_, expected), got in zip(alone, kept, strict=True):
        np.testing.assert_array_equal(got, expected)
    assert together[:, COLUMN["duplicates"]].max() == 2  # within a page, not across


def test_character_classes_alike_with_and_without_code_points_beyond_the_basic_plane() -> None:
    """The basic-plane shortcut of classify_codes gives what the general path gives."""
    from cleaner.features import _codepoints, classify_codes

    text = "Aa1 ,é\u0301\u093f日€©\n\u2028\U0001F600\U00020000"
    classes, terminal = classify_codes(_codepoints(text))
    one_by_one = [classify_codes(_codepoints(char)) for char in text]
    np.testing.assert_array_equal(classes, [c[0][0] for c in one_by_one])
    np.testing.assert_array_equal(terminal, [t[1][0] for t in one_by_one])
    basic, _ = classify_codes(_codepoints(text[:-2]))  # all basic: the shortcut
    np.testing.assert_array_equal(basic, classes[:-2])
