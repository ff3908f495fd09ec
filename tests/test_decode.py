"""Bytes to text: each rule of decode_bytes on the kind of page that needs it."""

from __future__ import annotations

import codecs

import pytest

from cleaner.decode import declared_charset, decode_bytes, sniff_utf16_32

FRENCH = "Le café “Chez Léa” a rouvert – les prix restent à 2 € pour un crème."
GERMAN = "Die Bäckerei in der Müllerstraße öffnet wieder, große Freude für alle."
HINDI = "मंडी में टमाटर के दाम गिरे, किसान परेशान"
RUSSIAN = "Жители небольшого города проголосовали за сохранение парома на зиму. " * 3
JAPANESE = "港町の住民は冬の間もフェリーを運行し続けることに投票した。" * 3
CHINESE = "港口小镇居民投票决定冬季继续运营渡轮。" * 3


def test_utf8_passes_through() -> None:
    assert decode_bytes((FRENCH + HINDI).encode()) == FRENCH + HINDI


@pytest.mark.parametrize("bom,encoding", [
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"), (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
])
def test_byte_order_mark_decides_and_is_removed(bom: bytes, encoding: str) -> None:
    assert decode_bytes(bom + (GERMAN + HINDI).encode(encoding)) == GERMAN + HINDI


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
@pytest.mark.parametrize("text", [GERMAN, HINDI, "<html><body><p>" + HINDI + "</p></body></html>"])
def test_utf16_and_utf32_without_bom(encoding: str, text: str) -> None:
    assert sniff_utf16_32(text.encode(encoding)) == encoding
    assert decode_bytes(text.encode(encoding)) == text


def test_stray_nul_bytes_do_not_make_utf8_look_like_utf16() -> None:
    text = "hello\x00world this is\x00 text\nh\x00e\x00l\x00l\x00o\x00 w\x00orld, more text\n"
    assert sniff_utf16_32(text.encode()) is None
    assert decode_bytes(text.encode()) == text


def test_all_zero_bytes_stay_zero_characters() -> None:
    assert set(decode_bytes(b"\0" * 4096)) == {"\0"}


def test_utf8_with_a_few_broken_bytes_keeps_its_utf8() -> None:
    data = "Grüße aus Köln – ".encode() + b"broken \xff and cut \xe2\x80 here"
    assert decode_bytes(data) == "Grüße aus Köln – broken \ufffd and cut \ufffd here"


@pytest.mark.parametrize("text", [FRENCH, "naïve café", "Müller", GERMAN, "El niño comió piñas."])
def test_undeclared_windows_1252(text: str) -> None:
    """The detector's first pick for these is cp1250 or worse; windows-1252 must win."""
    assert decode_bytes(text.encode("cp1252")) == text


@pytest.mark.parametrize("text,encoding", [
    (RUSSIAN, "cp1251"), (RUSSIAN, "koi8-r"), (JAPANESE, "shift_jis"), (CHINESE, "gbk"),
    ("Mieszkańcy małego miasta zagłosowali za utrzymaniem promu przez zimę. " * 2, "cp1250"),
    ("Οι κάτοικοι της μικρής πόλης ψήφισαν υπέρ του πλοίου. " * 2, "cp1253"),
])
def test_undeclared_other_legacy_encodings_are_still_detected(text: str, encoding: str) -> None:
    assert decode_bytes(text.encode(encoding)) == text


def test_declared_charset_is_used() -> None:
    page = f'<html><head><meta charset="windows-1251"></head><p>{RUSSIAN[:20]}</p>'
    assert decode_bytes(page.encode("cp1251")) == page


def test_declared_latin1_is_read_as_windows_1252_like_browsers() -> None:
    page = '<meta charset="iso-8859-1"><p>“quoted” – 2 €</p>'
    assert decode_bytes(page.encode("cp1252")) == page


def test_declared_latin1_with_bytes_windows_1252_leaves_undefined() -> None:
    page = b'<meta charset="iso-8859-1"><p>x</p>' + b"\x81\xe9"
    assert decode_bytes(page) == '<meta charset="iso-8859-1"><p>x</p>\x81é'


def test_wrong_declaration_utf8_but_windows_1252() -> None:
    page = f'<meta charset="utf-8"><p>{FRENCH}</p>'
    assert decode_bytes(page.encode("cp1252")) == page


def test_wrong_declaration_latin1_but_utf8() -> None:
    page = f'<meta charset="iso-8859-1"><p>{GERMAN}</p>'
    assert decode_bytes(page.encode()) == page


def test_xml_declaration_counts_as_a_declaration() -> None:
    page = f'<?xml version="1.0" encoding="windows-1251"?><p>{RUSSIAN[:30]}</p>'
    assert declared_charset(page.encode("cp1251")) == "cp1251"
    assert decode_bytes(page.encode("cp1251")) == page


def test_unknown_declared_charset_is_ignored() -> None:
    assert declared_charset(b'<meta charset="x-no-such-thing">') is None


def test_random_bytes_decode_without_raising() -> None:
    import random

    for seed in range(20):
        data = random.Random(seed).randbytes(1000 + seed)
        assert isinstance(decode_bytes(data), str)
