"""The closed set of line labels and the labelled-page format.

One format serves training data, ``--explain`` output and test fixtures:
``label<TAB>line``, one row per input line, optionally with the probability
of the label as a third column. A user can pre-label a page with the model,
fix a few rows in an editor and retrain on the file.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cleaner.files import write_atomic

BODY = "body"
BLANK = "blank"
NAV = "nav"
#: Every label a line can carry. ``blank`` is assigned by rule, never by the model.
LABELS: tuple[str, ...] = (
    "body", "title", "meta", "currency", "stock", "related",
    "app", "promo", "nav", "comments", "legal", "blank",
)


class LabelledFormatError(ValueError):
    """A labelled page that cannot be read; the message names file and row."""


@dataclass(frozen=True)
class Line:
    """One line of a page with the label the model gave it and its probability."""

    text: str
    label: str
    probability: float = 1.0


def parse_labelled(text: str, source: str = "<string>") -> list[Line]:
    """Read ``label<TAB>line[<TAB>probability]`` rows; unknown labels are an error."""
    rows = text.split("\n")
    if rows and rows[-1] == "":
        rows.pop()
    lines = []
    for number, row in enumerate(rows, 1):
        row = row.rstrip("\r")
        label, tab, rest = row.partition("\t")
        if not tab:
            raise LabelledFormatError(f"{source}:{number}: no tab between label and line")
        if label not in LABELS:
            raise LabelledFormatError(f"{source}:{number}: unknown label {label!r}")
        probability = 1.0
        line_text, tab, prob_text = rest.rpartition("\t")
        if tab and _is_probability(prob_text):
            probability = float(prob_text)
        else:
            line_text = rest
        lines.append(Line(line_text, label, probability))
    return lines


def _is_probability(text: str) -> bool:
    try:
        return 0.0 <= float(text) <= 1.0 and text.strip() == text and text != ""
    except ValueError:
        return False


def read_labelled(path: str | Path) -> list[Line]:
    """Read a ``*.labels.tsv`` file."""
    path = Path(path)
    try:  # utf-8-sig: editors that save a byte-order mark must not break the first label
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise LabelledFormatError(f"{path}: not UTF-8 text (byte {error.start})") from None
    return parse_labelled(text, str(path))


def format_labelled(lines: Iterable[Line], with_probability: bool = False) -> str:
    """Write lines as labelled rows; tabs inside a line become spaces so rows stay parseable."""
    out = []
    for line in lines:
        text = line.text.replace("\t", " ")
        if with_probability:
            out.append(f"{line.label}\t{text}\t{line.probability:.3f}")
        else:
            out.append(f"{line.label}\t{text}")
    return "".join(row + "\n" for row in out)


def write_labelled(path: str | Path, lines: Iterable[Line], with_probability: bool = False,
                   overwrite: bool = False) -> None:
    """Write a ``*.labels.tsv`` file atomically; an existing file is replaced only with
    ``overwrite`` (:class:`FileExistsError` otherwise).

    Rows that :func:`read_labelled` would reject or read differently (a line
    break inside a line, an unknown label, a probability that is not a number
    from 0 to 1) raise :class:`LabelledFormatError` and nothing is written.
    """
    lines = list(lines)
    for number, line in enumerate(lines, 1):
        problem = _unwritable(line, with_probability)
        if problem:
            raise LabelledFormatError(f"{path}: row {number}: {problem}")
    write_atomic(str(path), format_labelled(lines, with_probability).encode("utf-8"), overwrite)


def _unwritable(line: Line, with_probability: bool) -> str | None:
    if not isinstance(line.text, str):
        return f"line is {type(line.text).__name__}, not text"
    if "\n" in line.text or "\r" in line.text:
        return "line break inside the line"
    if line.label not in LABELS:
        return f"unknown label {line.label!r}"
    if with_probability:
        try:
            probability = float(line.probability)
        except (TypeError, ValueError):
            return f"probability {line.probability!r} is not a number"
        if not (math.isfinite(probability) and 0.0 <= probability <= 1.0):
            return f"probability {line.probability!r} is not between 0 and 1"
    return None
