"""The evaluation's command line: what it says before a long run."""

from __future__ import annotations

import logging
import sys
import types

import pytest

from cleaner.training import evaluate


class _Stop(Exception):
    """Raised in place of the hour-long run: what matters is said before it."""


def _stopped_run(*args: object, **kwargs: object) -> dict:
    raise _Stop


@pytest.mark.parametrize("installed", [False, True])
def test_a_missing_readability_lxml_is_said_before_the_run(
        installed: bool, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setattr(evaluate, "readability_installed", lambda: installed)
    monkeypatch.setattr(evaluate, "evaluate_pages", _stopped_run)
    with pytest.raises(_Stop):
        evaluate.main(["--data", "unused", "--skip-loo"])
    said = "readability-lxml is not installed" in capsys.readouterr().err
    assert said is not installed


def test_readability_installed_answers_for_this_environment() -> None:
    try:
        import readability  # noqa: F401
    except ImportError:
        expected = False
    else:
        expected = True
    assert evaluate.readability_installed() is expected


def test_the_card_names_the_command_that_made_the_report() -> None:
    line = evaluate.command_line("cleaner eval", ["--data", "../my data", "--skip-loo"])
    assert line.startswith("$ cleaner eval --data '../my data' --skip-loo  # 20")
    assert "make eval" not in line


def test_the_report_gives_each_difference_from_trafilatura_with_its_interval() -> None:
    from cleaner.training.metric import Score

    score = Score(0.9, 0.9, 0.9, 40)
    result = {"scores": {"dragnet": {"cleaner-text": score}},
              "differences": {
                  "trafilatura": {"dragnet": {"cleaner-text": (0.0123, -0.004, 0.031),
                                              "cleaner-html": (-0.05, -0.08, -0.02)}},
                  "readability": {}},
              "snippets": {}, "snippet_differences": {}, "lines": {"html": [], "text": []}}
    report = "\n".join(evaluate.format_report(result, "held-out"))
    row = next(line for line in report.splitlines()
               if line.startswith("dragnet") and "[" in line)
    assert row.split()[1:] == ["+0.012", "[-0.004,", "+0.031]", "-0.050", "[-0.080,", "-0.020]"]
    assert "F1 minus trafilatura's" in report and "paired bootstrap" in report
    # Without readability-lxml there is nothing to compare with, and no table says so.
    assert "readability-lxml's" not in report
    result["differences"]["readability"] = result["differences"]["trafilatura"]
    report = "\n".join(evaluate.format_report(result, "held-out"))
    assert "F1 minus readability-lxml's" in report
    assert sum(line.startswith("dragnet") and "[" in line for line in report.splitlines()) == 2


def test_the_snippet_checks_give_each_mode_against_trafilatura_with_intervals() -> None:
    import numpy as np

    # (with kept, with total, without left out, without total) per page, 40 pages.
    cleaner = np.tile([2.0, 2.0, 3.0, 3.0], (40, 1))
    trafilatura = np.tile([1.0, 2.0, 3.0, 3.0], (40, 1))
    snippets = {"cleaner-text": cleaner, "trafilatura": trafilatura}
    differences = evaluate.snippet_differences(snippets)
    assert set(differences) == {"cleaner-text"}
    (with_diff, *with_interval), (without_diff, *without_interval) = differences["cleaner-text"]
    assert with_diff == 0.5 and with_interval == [0.5, 0.5]
    assert without_diff == 0.0 and without_interval == [0.0, 0.0]
    table = evaluate.format_snippets(snippets, differences)
    assert table.splitlines()[1].split() == [
        "cleaner-text", "1.000", "1.000", "+0.500", "[+0.500,", "+0.500]", "+0.000",
        "[+0.000,", "+0.000]"]
    assert table.splitlines()[2].split() == ["trafilatura", "0.500", "1.000"]
    assert "(80 with-snippets, 120 without-snippets" in table


def test_a_readability_failure_counts_as_empty_output_without_its_log(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    class FailingDocument:
        """Fails as readability-lxml does on some pages: it logs, then raises."""

        def __init__(self, html: str) -> None:
            pass

        def summary(self, html_partial: bool = False) -> str:
            try:
                raise ValueError("All strings must be XML compatible")
            except ValueError:
                logging.getLogger("readability.readability").exception("error getting summary: ")
                raise

    monkeypatch.setitem(sys.modules, "readability", types.SimpleNamespace(Document=FailingDocument))
    assert evaluate._readability("<p>text</p>") == ""
    assert not [record for record in caplog.records if record.name.startswith("readability")]
    assert logging.getLogger("readability").level == logging.NOTSET
