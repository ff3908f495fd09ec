"""One reader: the API and the CLI turn the same bytes into the same page, or the same error."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import pytest
from conftest import FIXTURES, PAGES

import cleaner
from cleaner import Cleaner, InputError, Limits, LineModel, read_page
from cleaner.files import output_name

BAD = FIXTURES / "bad"


def test_clean_on_gzip_bytes_returns_the_body() -> None:
    page = (PAGES / "bakery.html").read_bytes()
    body = cleaner.clean(gzip.compress(page))
    assert "The bakery on Mill Street opened its doors again" in body
    assert body == cleaner.clean(page.decode("utf-8"))


def test_clean_on_png_bytes_raises_input_error_with_the_reason() -> None:
    with pytest.raises(InputError, match=r"^binary file \(PNG image\), not a text or HTML page$"):
        cleaner.clean((BAD / "image.png").read_bytes())


def test_random_bytes_are_refused_not_returned_as_mojibake(tiny_model: LineModel) -> None:
    data = random.Random(0).randbytes(2_000_000)
    with pytest.raises(InputError, match=r"^binary file \(\d+% control characters\)"):
        Cleaner(tiny_model).clean(data)


def test_limits_apply_to_api_bytes(tiny_model: LineModel) -> None:
    small = Cleaner(tiny_model, limits=Limits(max_page_lines=3))
    with pytest.raises(InputError, match=r"^page has 5 lines, over the limit of 3 "):
        small.clean(b"a\nb\nc\nd\ne\n")


def test_a_str_is_never_refused(tiny_model: LineModel) -> None:
    tiny = Cleaner(tiny_model, limits=Limits(max_page_lines=1))
    for text in ("", " \n\t", "\x00\x01\x02" * 100, "a\nb\nc\n"):
        assert isinstance(tiny.clean(text), str)
    assert read_page("").lines == []


def test_input_error_is_a_value_error_exported_at_the_top() -> None:
    assert issubclass(cleaner.InputError, ValueError)
    assert "InputError" in cleaner.__all__


@pytest.mark.parametrize("name", sorted(path.name for path in BAD.iterdir()))
def test_api_and_cli_agree_on_every_bad_fixture(name: str, cli, tiny_model: LineModel,
                                                tmp_path: Path) -> None:
    """Same body, or InputError with exactly the reason the CLI prints."""
    source = tmp_path / "in" / name
    source.parent.mkdir()
    source.write_bytes((BAD / name).read_bytes())
    result = cli(source, "-o", tmp_path / "out")
    try:
        body = Cleaner(tiny_model).clean(source.read_bytes())
    except InputError as error:
        assert result.code == 1
        assert result.messages == [f"cleaner: {source}: {error}"]
        return
    assert (result.code, result.messages) == (0, [])
    output = (tmp_path / "out" / output_name(name)).read_text(encoding="utf-8")
    assert output == (body + "\n" if body else "")
