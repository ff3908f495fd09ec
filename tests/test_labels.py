"""The labelled-page format: ``label<TAB>line[<TAB>probability]``, one row per line.

The same rows are training data, ``--explain`` output and fixtures, so what
is written must read back the same, and a file a person edited wrongly must
be refused with the file and row named.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.labels import (
    BLANK,
    BODY,
    LABELS,
    LabelledFormatError,
    Line,
    format_labelled,
    parse_labelled,
    read_labelled,
    write_labelled,
)

PAGE = [
    Line("Home | World | Sport", "nav", 0.91),
    Line("Harbour town votes to keep its ferry", "title", 0.66),
    Line("", BLANK),
    Line("Residents voted on Tuesday to keep the ferry running.", BODY, 0.97),
    Line("© 2024 Harbour Times", "legal", 0.5),
]


# --------------------------------------------------------------------------- the label set


def test_labels_are_the_closed_set_of_the_guide() -> None:
    assert LABELS == ("body", "title", "meta", "currency", "stock", "related", "app", "promo",
                      "nav", "comments", "legal", "blank")
    assert LABELS[0] == BODY and BLANK in LABELS


# --------------------------------------------------------------------------- parsing


def test_parse_rows() -> None:
    assert parse_labelled("nav\tHome | World\nbody\tThe ferry runs.\n") == [
        Line("Home | World", "nav"), Line("The ferry runs.", BODY)]


def test_parse_without_final_newline() -> None:
    assert parse_labelled("nav\tHome\nbody\tText") == parse_labelled("nav\tHome\nbody\tText\n")


def test_parse_crlf_rows() -> None:
    assert parse_labelled("nav\tHome\r\nbody\tText\r\n") == [Line("Home", "nav"),
                                                             Line("Text", BODY)]


def test_empty_text_is_no_lines() -> None:
    assert parse_labelled("") == []


def test_default_probability_is_one() -> None:
    assert parse_labelled("body\tText\n")[0].probability == 1.0


def test_blank_line_row_has_empty_text() -> None:
    assert parse_labelled("body\tA\nblank\t\nbody\tB\n") == [
        Line("A", BODY), Line("", BLANK), Line("B", BODY)]


def test_line_text_keeps_its_spaces() -> None:
    assert parse_labelled("body\t  indented text  \n")[0].text == "  indented text  "


def test_line_text_may_contain_tabs() -> None:
    assert parse_labelled("body\tcell one\tcell two\n")[0] == Line("cell one\tcell two", BODY)


def test_line_text_may_contain_other_line_separators() -> None:
    """Only ``\\n`` ends a row: the Unicode separators str.splitlines knows stay in the text."""
    text = "a\u2028b\x85c\x0bd\x0ce"
    assert parse_labelled(f"body\t{text}\n") == [Line(text, BODY)]


def test_line_text_may_look_like_a_label() -> None:
    assert parse_labelled("nav\tbody\n")[0] == Line("body", "nav")


@pytest.mark.parametrize(("column", "probability"), [
    ("0.5", 0.5), ("0", 0.0), ("1", 1.0), ("1.000", 1.0), ("0.125", 0.125), (".25", 0.25),
    ("1e-3", 0.001),
])
def test_probability_column(column: str, probability: float) -> None:
    assert parse_labelled(f"meta\t12 March 2024\t{column}\n") == [
        Line("12 March 2024", "meta", probability)]


def test_probability_column_of_a_blank_line() -> None:
    assert parse_labelled("blank\t\t1.000\n") == [Line("", BLANK, 1.0)]


def test_probability_is_the_last_column_when_the_text_has_tabs() -> None:
    assert parse_labelled("body\tcell one\tcell two\t0.25\n") == [
        Line("cell one\tcell two", BODY, 0.25)]


@pytest.mark.parametrize("column", ["1.5", "-0.1", "nan", "inf", "high", " 0.5", "0.5 ", "50%"])
def test_last_column_that_is_no_probability_belongs_to_the_text(column: str) -> None:
    assert parse_labelled(f"body\tText\t{column}\n") == [Line(f"Text\t{column}", BODY)]


def test_line_that_is_only_a_number_is_text() -> None:
    """Without a second tab there is no probability column, whatever the text looks like."""
    assert parse_labelled("stock\t0.75\n") == [Line("0.75", "stock")]


def test_probability_row_ending_in_cr() -> None:
    assert parse_labelled("nav\tHome\t0.250\r\n") == [Line("Home", "nav", 0.25)]


# --------------------------------------------------------------------------- errors


def test_unknown_label_names_source_row_and_label() -> None:
    with pytest.raises(LabelledFormatError) as caught:
        parse_labelled("body\tA\nadvert\tBuy now\n", "page.labels.tsv")
    assert str(caught.value) == "page.labels.tsv:2: unknown label 'advert'"


@pytest.mark.parametrize("label", ["Body", "BODY", " body", "body ", "drop", ""])
def test_labels_are_exact(label: str) -> None:
    with pytest.raises(LabelledFormatError, match=r"^<string>:1: unknown label "):
        parse_labelled(f"{label}\tText\n")


def test_row_without_tab() -> None:
    with pytest.raises(LabelledFormatError) as caught:
        parse_labelled("body\tA\nbody B\n", "page.labels.tsv")
    assert str(caught.value) == "page.labels.tsv:2: no tab between label and line"


def test_empty_row_is_an_error_not_a_blank_line() -> None:
    """A blank line of the page is ``blank<TAB>``; an empty row is a damaged file."""
    with pytest.raises(LabelledFormatError, match=r"^<string>:2: no tab between label and line$"):
        parse_labelled("body\tA\n\nbody\tB\n")


def test_extra_empty_row_at_the_end_is_an_error() -> None:
    with pytest.raises(LabelledFormatError, match=r"^<string>:2: no tab"):
        parse_labelled("body\tA\n\n")


def test_error_is_a_value_error() -> None:
    assert issubclass(LabelledFormatError, ValueError)


# --------------------------------------------------------------------------- formatting


def test_format_rows() -> None:
    assert format_labelled(PAGE) == (
        "nav\tHome | World | Sport\n"
        "title\tHarbour town votes to keep its ferry\n"
        "blank\t\n"
        "body\tResidents voted on Tuesday to keep the ferry running.\n"
        "legal\t© 2024 Harbour Times\n")


def test_format_with_probability_has_three_decimals() -> None:
    assert format_labelled(PAGE[:3], with_probability=True) == (
        "nav\tHome | World | Sport\t0.910\n"
        "title\tHarbour town votes to keep its ferry\t0.660\n"
        "blank\t\t1.000\n")


def test_format_no_lines() -> None:
    assert format_labelled([]) == ""
    assert format_labelled([], with_probability=True) == ""


def test_format_accepts_any_iterable() -> None:
    assert format_labelled(line for line in PAGE) == format_labelled(PAGE)


def test_tabs_in_a_line_become_spaces() -> None:
    assert format_labelled([Line("Price\t0.50", "currency")]) == "currency\tPrice 0.50\n"


def test_tab_and_number_in_a_line_do_not_become_a_probability() -> None:
    """Without the tab replacement this row would read back as text "Price", p=0.5."""
    lines = [Line("Price\t0.5", "currency", 0.9)]
    assert parse_labelled(format_labelled(lines)) == [Line("Price 0.5", "currency")]
    assert parse_labelled(format_labelled(lines, with_probability=True)) == [
        Line("Price 0.5", "currency", 0.9)]


# --------------------------------------------------------------------------- round trips


def test_round_trip_without_probability() -> None:
    assert parse_labelled(format_labelled(PAGE)) == [Line(line.text, line.label) for line in PAGE]


def test_round_trip_with_probability() -> None:
    assert parse_labelled(format_labelled(PAGE, with_probability=True)) == PAGE


def test_probability_is_rounded_to_three_decimals() -> None:
    back = parse_labelled(format_labelled([Line("x", "nav", 0.12345)], with_probability=True))
    assert back == [Line("x", "nav", 0.123)]


#: Line text as a page can hold it: no line breaks (split_lines removes them).
line_text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\n\r"),
                    max_size=80)
lines = st.lists(st.builds(Line, line_text, st.sampled_from(LABELS),
                           st.integers(0, 1000).map(lambda n: n / 1000)), max_size=20)


@settings(max_examples=200, deadline=None)
@given(lines, st.booleans())
def test_any_lines_round_trip(page: list[Line], with_probability: bool) -> None:
    back = parse_labelled(format_labelled(page, with_probability))
    assert [line.label for line in back] == [line.label for line in page]
    assert [line.text for line in back] == [line.text.replace("\t", " ") for line in page]
    if with_probability:
        assert [line.probability for line in back] == [line.probability for line in page]
    else:
        assert all(line.probability == 1.0 for line in back)


# --------------------------------------------------------------------------- files


def test_read_file(tmp_path: Path) -> None:
    path = tmp_path / "page.labels.tsv"
    path.write_text(format_labelled(PAGE, with_probability=True), encoding="utf-8")
    assert read_labelled(path) == PAGE
    assert read_labelled(str(path)) == PAGE


def test_read_file_is_utf8(tmp_path: Path) -> None:
    path = tmp_path / "page.labels.tsv"
    path.write_bytes("body\tमंडी में प्याज़ के दाम गिरे।\nnav\t首页\n".encode())
    assert [line.text for line in read_labelled(path)] == ["मंडी में प्याज़ के दाम गिरे।", "首页"]


def test_read_file_with_crlf_rows(tmp_path: Path) -> None:
    path = tmp_path / "page.labels.tsv"
    path.write_bytes(b"nav\tHome\r\nbody\tText\t0.750\r\n")
    assert read_labelled(path) == [Line("Home", "nav"), Line("Text", BODY, 0.75)]


def test_file_error_names_the_file_and_row(tmp_path: Path) -> None:
    path = tmp_path / "page.labels.tsv"
    path.write_text("body\tA\nbody\tB\nbodyy\tC\n", encoding="utf-8")
    with pytest.raises(LabelledFormatError) as caught:
        read_labelled(path)
    assert str(caught.value) == f"{path}:3: unknown label 'bodyy'"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_labelled(tmp_path / "none.labels.tsv")


# --------------------------------------------------------------------------- regressions


def test_read_file_saved_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "page.labels.tsv"
    path.write_bytes(b"\xef\xbb\xbfbody\tText\n")
    assert read_labelled(path) == [Line("Text", BODY)]


def test_file_not_in_utf8_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "page.labels.tsv"
    path.write_bytes("body\tcafé\n".encode("cp1252"))
    with pytest.raises(LabelledFormatError, match=str(path)):
        read_labelled(path)


# --------------------------------------------------------------------------- writing files


def test_write_labelled_round_trips(tmp_path: Path) -> None:
    lines = [Line("Headline", "title", 0.9), Line("", "blank", 1.0), Line("Body text", BODY, 0.8)]
    path = tmp_path / "page.labels.tsv"
    write_labelled(path, lines)
    assert path.read_text(encoding="utf-8") == "title\tHeadline\nblank\t\nbody\tBody text\n"
    assert [(line.text, line.label) for line in read_labelled(path)] == [
        (line.text, line.label) for line in lines]
    assert [p.name for p in tmp_path.iterdir()] == ["page.labels.tsv"]


def test_write_labelled_never_replaces_without_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "page.labels.tsv"
    path.write_text("body\tmine\n", encoding="utf-8")
    with pytest.raises(FileExistsError):
        write_labelled(path, [Line("theirs", BODY)])
    assert path.read_text(encoding="utf-8") == "body\tmine\n"
    write_labelled(path, [Line("theirs", BODY)], overwrite=True)
    assert path.read_text(encoding="utf-8") == "body\ttheirs\n"
