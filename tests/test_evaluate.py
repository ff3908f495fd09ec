"""The evaluation's command line: what it says before a long run."""

from __future__ import annotations

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
              "differences": {"dragnet": {"cleaner-text": (0.0123, -0.004, 0.031),
                                          "cleaner-html": (-0.05, -0.08, -0.02)}},
              "snippets": {}, "lines": {"html": [], "text": []}}
    report = "\n".join(evaluate.format_report(result, "held-out"))
    row = next(line for line in report.splitlines()
               if line.startswith("dragnet") and "[" in line)
    assert row.split()[1:] == ["+0.012", "[-0.004,", "+0.031]", "-0.050", "[-0.080,", "-0.020]"]
    assert "paired bootstrap" in report
