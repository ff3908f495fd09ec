"""The threshold sweep on the validation split: every threshold scored, chrome counted from
the gold, the held-out pages never read."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from cleaner.api import Cleaner
from cleaner.decode import decode_bytes
from cleaner.model import LineModel
from cleaner.training import evaluate, thresholds
from cleaner.training.corpus import is_held_out, is_validation, read_all
from cleaner.training.render import EVAL_RENDERER, RENDERERS

BODY = ("The harbour authority said on Monday that the new quay will open in the spring, "
        "after two years of building work and a long dispute over its cost.")
COMMENT = "Great news for the town, about time somebody fixed that old quay wall honestly."


def _corpus(folder: Path, held_out_body: str = BODY) -> tuple[int, int]:
    """Validation pages with a reader comment the gold names, and held-out pages; returns
    how many of each."""
    (folder / "html").mkdir(parents=True)
    ids = [f"p{i}" for i in range(400)]
    validation = [i for i in ids if is_validation("tiny", i)][:3]
    held = [i for i in ids if is_held_out("tiny", i)][:2]
    with open(folder / "gold.jsonl", "w", encoding="utf-8") as gold:
        for page_id in validation + held:
            body = BODY if page_id in validation else held_out_body
            html = (f"<html><body><nav><a href='/'>Home</a> <a href='/n'>News</a></nav>"
                    f"<h1>Quay opens</h1><p>{body}</p><p>{body}</p>"
                    f"<section class='comments'><p>{COMMENT}</p></section>"
                    "<footer>All rights reserved</footer></body></html>")
            (folder / "html" / f"{page_id}.html.gz").write_bytes(gzip.compress(html.encode()))
            gold.write(json.dumps({"id": page_id, "body": f"{body}\n\n{body}",
                                   "segments": {"comments": [COMMENT]}}) + "\n")
    return len(validation), len(held)


def test_every_threshold_is_scored_on_the_validation_pages_only(tiny_model_path: Path,
                                                                 tmp_path: Path) -> None:
    n_validation, n_held = _corpus(tmp_path / "data" / "tiny",
                                   held_out_body="Held out pages must never be read here.")
    assert n_validation == 3 and n_held == 2
    result = thresholds.sweep(tmp_path / "data", tiny_model_path, (0.0, 0.5, 1.0), processes=1)
    for mode in ("text", "html"):
        scores = result["scores"][mode]
        assert set(scores) == {"all", "tiny"}
        assert [s.pages for s in scores["all"]] == [3, 3, 3]
        everything = scores["all"][0]
        # p(body) >= 0 keeps every line, so all the body and some chrome
        assert everything.recall == pytest.approx(1.0) and everything.precision < 1.0
        shares = result["dropped"][mode]["comments"]
        assert [lines for _, lines in shares] == [3, 3, 3]  # one gold comment line per page
        assert shares[0][0] == 0.0
        assert result["dropped"][mode]["related (l3s-gn1)"][0][1] == 0  # not that corpus


def test_each_threshold_keeps_what_the_cleaner_keeps(tiny_model_path: Path,
                                                     tmp_path: Path) -> None:
    """The sweep reads thresholds off one run at 0; that must be what a Cleaner set to
    each threshold writes, a page no line of which reaches it included (at 1.0)."""
    _corpus(tmp_path / "data" / "tiny")
    evaluate.init_worker(str(tiny_model_path))
    model = LineModel.load(tiny_model_path)
    pages = [page for page in read_all(tmp_path / "data") if page.validation]
    for page in pages:
        runs = thresholds.sweep_page(page, (0.0, 0.5, 1.0))
        html = decode_bytes(page.html_bytes())
        sources = {"text": RENDERERS[EVAL_RENDERER](html), "html": html}
        for mode, source in sources.items():
            cleaner = Cleaner(model, input_format=mode)
            for threshold, (output, _) in zip((0.0, 0.5, 1.0), runs[mode], strict=True):
                cleaner.body_threshold = cleaner.html_body_threshold = threshold
                assert output == cleaner.clean(source)
    assert pages


def test_the_report_names_the_best_pooled_threshold(tiny_model_path: Path,
                                                    tmp_path: Path) -> None:
    _corpus(tmp_path / "data" / "tiny")
    result = thresholds.sweep(tmp_path / "data", tiny_model_path, (0.0, 1.0), processes=1)
    report = thresholds.format_sweep(result)
    best = {mode: (0.0, 1.0)[int(result["scores"][mode]["all"][1].f1
                                 > result["scores"][mode]["all"][0].f1)]
            for mode in ("text", "html")}
    assert f"text mode: shingle F1 at each body threshold (best pooled: {best['text']})" in report
    assert f"html mode: shingle F1 at each body threshold (best pooled: {best['html']})" in report
    assert "comments dropped" in report and "related (l3s-gn1) dropped" not in report


@pytest.mark.parametrize("value", ["0.4,x", "1.5", "-0.1,0.2", ""])
def test_bad_threshold_lists_are_refused(value: str, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        thresholds.main(["--data", "d", "--model", "m", "--thresholds", value])
    assert "--thresholds" in capsys.readouterr().err


def test_a_folder_without_validation_pages_is_an_error(tiny_model_path: Path,
                                                       tmp_path: Path) -> None:
    (tmp_path / "data" / "tiny" / "html").mkdir(parents=True)
    (tmp_path / "data" / "tiny" / "gold.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(SystemExit, match="no validation pages"):
        thresholds.sweep(tmp_path / "data", tiny_model_path, (0.5,), processes=1)


def test_a_model_that_saw_the_validation_pages_is_flagged(tiny_model_path: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture) -> None:
    _corpus(tmp_path / "data" / "tiny")
    assert thresholds.main(["--data", str(tmp_path / "data"), "--model", str(tiny_model_path),
                            "--thresholds", "0.5", "--processes", "1"]) == 0
    captured = capsys.readouterr()
    assert "was not trained --without-validation" in captured.err
    assert "text mode: shingle F1 at each body threshold (best pooled: 0.5)" in captured.out
