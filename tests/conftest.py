"""Shared fixtures: a tiny model trained in a fraction of a second.

CLI and input-safety tests check behaviour (what is read, written, reported),
not accuracy, so they use a model trained by rule on the fixture pages
instead of the shipped one: lines of at least 40 characters are body, others
nav. The tests stay independent of whatever model ``make train`` ships.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import regex

from cleaner.cli import main
from cleaner.decode import decode_bytes
from cleaner.features import page_features
from cleaner.labels import LABELS
from cleaner.model import LineModel
from cleaner.page import make_page

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PAGES = FIXTURES / "pages"
BODY_MIN_CHARS = 40


def rule_label(line: str) -> str:
    """The rule the tiny model learns: long lines are body."""
    return "body" if len(line.strip()) >= BODY_MIN_CHARS else "nav"


def train_tiny_model() -> LineModel:
    """Fit a few boosting rounds on the fixture pages: a text model on all of them as text,
    holding an HTML model fitted on the HTML ones as HTML, as ``make train`` ships."""
    models = {}
    for input_format in ("text", "html"):
        rows, labels = [], []
        for path in sorted(PAGES.rglob("*")):
            if not path.is_file() or (input_format == "html"
                                      and not path.suffix.startswith(".htm")):
                continue
            page = make_page(decode_bytes(path.read_bytes()), input_format)
            features, kept = page_features(page)
            rows.append(features)
            labels += [rule_label(page.lines[i]) for i in kept]
        # Repeat the pages so that the trees' minimum leaf size still allows a split (the
        # HTML pages are fewer).
        times = 4 if input_format == "text" else 12
        features = np.vstack(rows * times)
        pages = np.repeat(np.arange(len(rows) * times), [len(r) for r in rows] * times)
        models[input_format] = LineModel.fit(features, np.array(labels * times), pages,
                                             keep_iter=10, reason_iter=10)
    return models["text"].with_html(models["html"])


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a saved tiny model, trained once per test session."""
    path = tmp_path_factory.mktemp("model") / "tiny.npz"
    train_tiny_model().save(path)
    return path


@pytest.fixture(scope="session")
def tiny_model(tiny_model_path: Path) -> LineModel:
    """The tiny model, loaded through the same safe loader users get."""
    return LineModel.load(tiny_model_path)


# --------------------------------------------------------------------------- running the CLI

REPO = Path(__file__).resolve().parent.parent
#: Every label the model can give: with ``--keep`` this keeps every non-blank
#: line, so the output is exactly the page's lines whatever the model says.
KEEP_ALL = ",".join(label for label in LABELS if label != "blank")


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    @property
    def messages(self) -> list[str]:
        """stderr lines except the closing summary."""
        return [line for line in self.stderr.splitlines() if not _is_summary(line)]

    @property
    def summary(self) -> str:
        return next(line for line in self.stderr.splitlines() if _is_summary(line))


def _is_summary(line: str) -> bool:
    return regex.match(r"cleaner: (interrupted: )?[\d,]+ pages done, ", line) is not None


@pytest.fixture
def cli(tiny_model_path: Path, capsys: pytest.CaptureFixture) -> Callable[..., CliResult]:
    """Run ``cleaner clean ARGS --model tiny`` in this process; returns code, stdout, stderr."""
    def run(*args: object) -> CliResult:
        capsys.readouterr()
        code = main(["clean", *map(str, args), "--model", str(tiny_model_path)])
        out, err = capsys.readouterr()
        return CliResult(code, out, err)
    return run


def subprocess_env() -> dict[str, str]:
    """The environment for running ``python -m cleaner.cli`` from a source checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.pop("CLEANER_MODEL", None)
    return env


def cli_command(*args: object, model: Path) -> list[str]:
    return [sys.executable, "-m", "cleaner.cli", "clean", *map(str, args), "--model", str(model)]


def tree(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` (hidden ones too) -> its bytes."""
    return {str(path.relative_to(directory)): path.read_bytes()
            for path in sorted(directory.rglob("*")) if path.is_file() or path.is_symlink()}
