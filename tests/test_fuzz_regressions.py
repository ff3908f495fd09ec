"""Inputs the fuzzer (``make fuzz``) found, and the hostile fixtures, keep meeting its contract."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES
from fuzz_reader import FOUND, check_input

INPUTS = sorted(FOUND.glob("*.bin")) + sorted((FIXTURES / "bad").iterdir())


def test_there_are_inputs() -> None:
    assert len(INPUTS) >= 20


@pytest.mark.parametrize("path", INPUTS, ids=lambda path: path.name)
def test_reader_contract(path: Path) -> None:
    check_input(path.read_bytes())


def test_the_contract_catches_a_page_that_is_not_sound(monkeypatch: pytest.MonkeyPatch) -> None:
    from cleaner import reader
    from cleaner.page import Page

    monkeypatch.setattr(reader, "read_page", lambda data, limits, fmt=None: Page(["a\nb"], "text"))
    with pytest.raises(AssertionError):
        check_input(b"a page")
