"""The Python API: clean/label with the shipped model, options, batching, labelled format."""

from __future__ import annotations

from pathlib import Path

import pytest

import cleaner
from cleaner import Cleaner, Line, LineModel, ModelError
from cleaner.labels import BLANK, BODY, LABELS
from cleaner.model import EMPTY_PAGE_MARGIN

PAGES = Path(__file__).resolve().parent / "fixtures" / "pages"
LONG = "This sentence is long enough to count as article body text for the tiny model."
TEXT_PAGE = f"Home | News | Sport\n\n{LONG}\n{LONG} Again.\n\nShare\n\n{LONG} Third.\n"
HTML_PAGE = (f"<html><body><div class='menu'><a href='/'>Home</a></div><p>{LONG}</p>"
             f"<p>{LONG} Again.</p><footer>Share</footer></body></html>")


@pytest.fixture
def tiny(tiny_model: LineModel) -> Cleaner:
    return Cleaner(tiny_model)


def test_clean_uses_the_shipped_model_and_returns_the_article() -> None:
    page = (PAGES / "bakery.html").read_text(encoding="utf-8")
    body = cleaner.clean(page)
    assert isinstance(body, str) and body
    assert len(body) < len(page)
    assert cleaner.clean(page.encode("utf-8")) == body


def test_label_gives_one_line_per_input_line_with_a_known_label_and_probability() -> None:
    lines = cleaner.label(TEXT_PAGE)
    assert [line.text for line in lines] == TEXT_PAGE.split("\n")[:-1]
    assert all(isinstance(line, Line) and line.label in LABELS for line in lines)
    assert all(0.0 <= line.probability <= 1.0 for line in lines)
    blank = [not text.strip() for text in TEXT_PAGE.split("\n")[:-1]]
    assert [line.label == BLANK for line in lines] == blank


def test_text_page_keeps_long_lines_and_blank_lines_between_kept_ones(tiny: Cleaner) -> None:
    assert tiny.clean(TEXT_PAGE) == f"{LONG}\n{LONG} Again.\n\n{LONG} Third."


def test_html_page_lines_are_blocks(tiny: Cleaner) -> None:
    lines = tiny.label(HTML_PAGE)
    assert [line.text for line in lines] == ["Home", LONG, f"{LONG} Again.", "Share"]
    assert tiny.clean(HTML_PAGE) == f"{LONG}\n{LONG} Again."


def _between(cleaner: Cleaner, page: str) -> tuple[float, list[bool]]:
    """A threshold between the page's least and likeliest body line at threshold 0, and
    which lines reach it."""
    saved = cleaner.body_threshold, cleaner.html_body_threshold
    cleaner.body_threshold = cleaner.html_body_threshold = 0.0
    p = [line.probability for line in cleaner.label(page) if line.label != BLANK]
    cleaner.body_threshold, cleaner.html_body_threshold = saved
    assert max(p) - min(p) > 0.1, "the tiny model must tell these lines apart"
    threshold = (max(p) + min(p)) / 2
    return threshold, [value >= threshold for value in p]


def test_text_and_html_pages_are_kept_from_their_own_thresholds(tiny: Cleaner) -> None:
    """One batch holding both formats: each page's lines are weighed against its format's
    threshold (a model carries one per format, as the two score differently)."""
    both = [TEXT_PAGE, HTML_PAGE]
    html_lines = ["Home", LONG, f"{LONG} Again.", "Share"]
    text_lines = [line for line in TEXT_PAGE.split("\n") if line.strip()]
    html_threshold, html_kept = _between(tiny, HTML_PAGE)
    tiny.body_threshold, tiny.html_body_threshold = 0.0, html_threshold
    text_out, html_out = tiny.clean_many(both)
    assert text_out == TEXT_PAGE.strip("\n")
    assert html_out == "\n".join(t for t, k in zip(html_lines, html_kept, strict=True) if k)
    text_threshold, text_kept = _between(tiny, TEXT_PAGE)
    tiny.body_threshold, tiny.html_body_threshold = text_threshold, 0.0
    text_out, html_out = tiny.clean_many(both)
    assert html_out == "\n".join(html_lines)
    assert [t for t in text_lines if t in text_out.split("\n")] == [
        t for t, k in zip(text_lines, text_kept, strict=True) if k]


def test_a_page_none_of_whose_lines_reaches_the_threshold_keeps_its_likeliest(
        tiny: Cleaner) -> None:
    """Rather than nothing, such a page keeps the lines within EMPTY_PAGE_MARGIN of its
    best p(body): labelled body, with their p(body) below the threshold."""
    tiny.body_threshold = 0.0
    p = {line.text: line.probability for line in tiny.label(TEXT_PAGE) if line.text}
    best = max(p.values())
    tiny.body_threshold = best + 0.01
    kept = {line.text: line.probability for line in tiny.label(TEXT_PAGE)
            if line.label == BODY}
    assert kept and kept == {t: v for t, v in p.items() if v >= best - EMPTY_PAGE_MARGIN}
    assert all(v < tiny.body_threshold for v in kept.values())
    assert set(tiny.clean(TEXT_PAGE).split("\n")) - {""} == set(kept)
    tiny.empty_page_margin = None  # a caller may want such a page empty
    assert tiny.clean(TEXT_PAGE) == ""
    assert all(line.label != BODY for line in tiny.label(TEXT_PAGE))


def test_bytes_are_decoded(tiny: Cleaner) -> None:
    assert tiny.clean(TEXT_PAGE.encode("utf-16")) == tiny.clean(TEXT_PAGE)
    assert tiny.clean(TEXT_PAGE.encode("utf-8")) == tiny.clean(TEXT_PAGE)


def test_input_format_overrides_detection(tiny_model: LineModel) -> None:
    as_text = Cleaner(tiny_model, input_format="text").label(HTML_PAGE)
    assert len(as_text) == 1 and "<p>" in as_text[0].text


def test_keep_more_labels(tiny_model: LineModel) -> None:
    everything = Cleaner(tiny_model, keep=[label for label in LABELS if label != BLANK])
    assert everything.clean(TEXT_PAGE) == TEXT_PAGE.rstrip("\n")
    # clean_many joins straight from the labels: render's text for every choice of labels.
    pages = [TEXT_PAGE, HTML_PAGE, f"{LONG}\n\nmenu\n\n{LONG}"]
    for keep in ([BODY], ["nav"], [label for label in LABELS if label != BLANK]):
        chosen = Cleaner(tiny_model, keep=keep)
        assert list(chosen.clean_many(pages)) == [
            chosen.render(chosen.page(page), chosen.label(page)) for page in pages]


def test_many_pages_in_batches_equal_one_by_one(tiny: Cleaner) -> None:
    pages = [TEXT_PAGE, HTML_PAGE, "", "short", *[f"{LONG} {i}\nmenu" for i in range(70)]]
    assert list(tiny.clean_many(pages)) == [tiny.clean(page) for page in pages]
    # clean and clean_many join straight from the labels; render joins the Lines.
    assert [tiny.clean(page) for page in pages] == [
        tiny.render(tiny.page(page), tiny.label(page)) for page in pages]
    assert list(tiny.label_many(iter(pages))) == [tiny.label(page) for page in pages]


def test_empty_and_blank_pages(tiny: Cleaner) -> None:
    assert tiny.clean("") == ""
    assert tiny.clean("\n \n\t\n") == ""
    assert all(line.label == BLANK for line in tiny.label(" \n\n"))


def test_model_from_a_path(tiny_model_path: Path) -> None:
    by_string = Cleaner(str(tiny_model_path)).clean(TEXT_PAGE)
    assert by_string == Cleaner(tiny_model_path).clean(TEXT_PAGE)


def test_missing_model_is_a_model_error_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="nowhere.npz: model file not found"):
        Cleaner(tmp_path / "nowhere.npz")


def test_model_from_environment(tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEANER_MODEL", str(tiny_model_path))
    assert Cleaner().clean(TEXT_PAGE) == f"{LONG}\n{LONG} Again.\n\n{LONG} Third."


def test_labelled_format_round_trip(tiny: Cleaner, tmp_path: Path) -> None:
    lines = tiny.label(TEXT_PAGE)
    path = tmp_path / "page.labels.tsv"
    path.write_text(cleaner.format_labelled(lines), encoding="utf-8")
    back = cleaner.read_labelled(path)
    assert [(line.text, line.label) for line in back] == [(line.text, line.label) for line in lines]
    with_p = cleaner.parse_labelled(cleaner.format_labelled(lines, with_probability=True))
    assert [round(line.probability, 3) for line in with_p] == [
        round(line.probability, 3) for line in lines]
    assert {line.label for line in back} >= {BODY, BLANK}


def test_label_each_isolates_the_page_that_fails(tiny: Cleaner,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    pages = [tiny.page(text) for text in ("A first page.\n", "boom\n", "A third page.\n")]
    real = tiny._label_batch

    def failing(batch, reasons=True):
        if any(page.lines == ["boom"] for page in batch):
            raise RuntimeError("model failed")
        return real(batch, reasons)

    monkeypatch.setattr(tiny, "_label_batch", failing)
    first, second, third = tiny.label_each(pages)
    assert [line.text for line in first] == ["A first page."]
    assert isinstance(second, RuntimeError)
    assert [line.text for line in third] == ["A third page."]


@pytest.mark.parametrize("keep", [(BODY,), (BODY, "title", "meta")])
def test_clean_asks_for_reasons_only_when_a_kind_of_chrome_is_kept(
        keep: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    # Body-only cleaning skips the reason model (it walks more trees than the keep
    # stages); the text must be the same as from the labels, reasons or not.
    seeds = sorted((Path(cleaner.__file__).parent / "seeds").glob("*.txt"))
    pages = [p.read_text(encoding="utf-8") for p in [*sorted(PAGES.glob("*.*")), *seeds]
             if p.is_file()]
    shipped = Cleaner(keep=keep)
    expected = [shipped.render(shipped.page(p), shipped.label(p)) for p in pages]
    assert any(expected) and any(e != p for e, p in zip(expected, pages, strict=True))
    calls = []
    reason = shipped.model.reason_estimator
    original = reason.predict_proba
    monkeypatch.setattr(reason, "predict_proba", lambda x: calls.append(len(x)) or original(x))
    assert list(shipped.clean_many(pages)) == expected
    assert [shipped.clean(p) for p in pages] == expected
    assert bool(calls) == (keep != (BODY,))


def test_predict_without_reasons_labels_dropped_rows_drop(tiny_model: LineModel) -> None:
    from cleaner.features import pages_features
    from cleaner.page import Page

    page = Page(TEXT_PAGE.split("\n"), "text")
    features, _ = pages_features([page])
    with_reasons = tiny_model.predict(features)
    without = tiny_model.predict(features, reasons=False)
    body = with_reasons[0] == BODY
    assert body.any() and (~body).any()
    assert list(without[0][body]) == list(with_reasons[0][body])
    assert set(without[0][~body]) == {"drop"}
    assert (without[1][body] == with_reasons[1][body]).all()


def test_html_pages_give_the_model_their_block_elements(tiny: Cleaner,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # The second stage groups blocks by element (features.dom_context): the cleaner must
    # pass each HTML row's elements, and none for text rows, in the rows' order.
    seen = {}
    original = tiny.model.predict

    def predict(features, *args, ancestors=None, **kwargs):
        # The first call is the cleaner's; the model then calls itself for its text pages.
        seen.setdefault("ancestors", ancestors)
        seen.setdefault("html", kwargs.get("html"))
        return original(features, *args, ancestors=ancestors, **kwargs)

    monkeypatch.setattr(tiny.model, "predict", predict)
    html, text = tiny.page(HTML_PAGE), Cleaner(tiny.model, input_format="text").page(TEXT_PAGE)
    tiny.label_many([html, text]).__next__()
    rows = seen["ancestors"]
    text_rows = sum(1 for line in text.lines if line.strip())
    assert rows.shape == (len(html.lines) + text_rows, html.ancestors.shape[1])
    assert (rows[:len(html.lines)] == html.ancestors).all()
    assert (rows[:len(html.lines), 0] >= 0).all() and (rows[len(html.lines):] == -1).all()
    assert seen["html"].tolist() == [True, False]  # which pages the HTML model reads
    # Two paragraphs in one body: the same parent element.
    paragraphs = [i for i, line in enumerate(html.lines) if line.startswith(LONG[:20])]
    assert rows[paragraphs[0], 1] == rows[paragraphs[1], 1]
