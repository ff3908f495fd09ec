"""Bytes to text: scraped files come in any encoding, some lying about it.

Order of trust: a byte-order mark; UTF-16/32 recognised by where its zero
bytes fall (valid UTF-8 otherwise, NULs and all); valid UTF-8, or UTF-8
with a few broken bytes (replaced, the rest kept); the charset
the page declares, read the way browsers read it (``iso-8859-1`` means
windows-1252) and only if the bytes decode with it; charset-normalizer's
guess, preferring windows-1252 when it fits as well as the guess (the
detector otherwise picks cp1250 for Western text and turns "naïve" into
"naďve"); finally cp1252 with replacement, so that decoding never fails.
"""

from __future__ import annotations

import codecs

import regex

_DECLARED_CHARSET = regex.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]{1,40})"""
    rb"""|<\?xml[^>]{0,100}?encoding\s*=\s*["']\s*([A-Za-z0-9_:.\-]{1,40})""",
    regex.IGNORECASE,
)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
#: Declared names that browsers read as another, wider encoding (WHATWG Encoding).
_AS_BROWSERS_READ = {
    "iso8859-1": "cp1252", "ascii": "cp1252", "iso8859-9": "cp1254", "tis-620": "cp874",
    "gb2312": "gb18030", "gbk": "gb18030", "shift_jis": "cp932", "euc_kr": "cp949",
    "big5": "big5hkscs",
}
#: How much of the start of a page the charset sniffers look at.
SNIFF_BYTES = 4096
GUESS_BYTES = 200_000


def declared_charset(data: bytes) -> str | None:
    """The charset a ``<meta>`` tag or XML declaration near the start declares, if known."""
    match = _DECLARED_CHARSET.search(data[:SNIFF_BYTES])
    if not match:
        return None
    name = (match.group(1) or match.group(2)).decode("ascii", "replace")
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def sniff_utf16_32(data: bytes) -> str | None:
    """UTF-16/32 without a BOM, told apart by where the zero bytes fall.

    In these encodings the high byte of each code unit sits in a fixed lane
    and takes few values (0 for ASCII markup, 0x09 for Devanagari...); UTF-8
    text with some stray NULs has them anywhere, next to bytes of every kind.
    """
    sample = data[:SNIFF_BYTES]
    if len(sample) >= 8 and len(data) % 4 == 0:
        lanes = [sample[i::4] for i in range(4)]
        if lanes[3].count(0) == len(lanes[3]) and lanes[2].count(0) >= len(lanes[2]) * 0.9:
            return "utf-32-le"
        if lanes[0].count(0) == len(lanes[0]) and lanes[1].count(0) >= len(lanes[1]) * 0.9:
            return "utf-32-be"
    if len(sample) < 8 or len(data) % 2:
        return None
    sample = sample[: len(sample) // 2 * 2]
    for high, low, encoding in ((1, 0, "utf-16-le"), (0, 1, "utf-16-be")):
        high_lane, low_lane = sample[high::2], sample[low::2]
        zeros = high_lane.count(0)
        if zeros < len(high_lane) * 0.1 or low_lane.count(0) > zeros * 0.05:
            continue
        common = sorted((high_lane.count(value) for value in set(high_lane)), reverse=True)
        if sum(common[:3]) >= len(high_lane) * 0.9:
            return encoding
    return None


def decode_bytes(data: bytes) -> str:
    """Decode page bytes to text without ever raising."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(encoding, errors="replace")
    wide = sniff_utf16_32(data)
    if wide:
        return data.decode(wide, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    mostly_utf8 = _mostly_utf8(data)
    if mostly_utf8 is not None:
        return mostly_utf8
    declared = declared_charset(data)
    if declared and not declared.startswith(("utf-8", "utf-16", "utf-32")):
        for encoding in (_AS_BROWSERS_READ.get(declared, declared), declared):
            try:
                return data.decode(encoding)
            except (UnicodeDecodeError, LookupError):
                pass
    guess = _guess_encoding(data)
    if guess:
        try:
            return data.decode(guess)
        except (UnicodeDecodeError, LookupError):
            pass
    return data.decode("cp1252", errors="replace")


def _mostly_utf8(data: bytes) -> str | None:
    """UTF-8 with a few broken bytes (a truncated character, a pasted cp1252 quote).

    Valid multi-byte UTF-8 sequences almost never occur by chance in legacy
    8-bit text, so when they outnumber the invalid bytes the page is UTF-8
    and only the invalid bytes become U+FFFD.
    """
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - data.count("\ufffd".encode())
    good = len(text) - len(text.encode("ascii", errors="ignore")) - bad
    return text if good > bad else None


def _guess_encoding(data: bytes) -> str | None:
    """charset-normalizer's best guess, but windows-1252 when it fits as well.

    The detector lists one of several encodings that give the same text
    (cp1250 for Western text), and on short text, without language evidence,
    its pick is noise ("Müller" as utf_16_le). windows-1252 is the most
    common legacy encoding of the web and the browsers' default, so it wins
    ties, and, when the detector recognised no language, whenever its text
    looks no messier than the guess's (by the detector's own measure).
    UTF-16/32 were already ruled out by :func:`sniff_utf16_32`.
    """
    sample = data[:GUESS_BYTES]
    try:
        from charset_normalizer import from_bytes
        from charset_normalizer.md import mess_ratio

        matches = [m for m in from_bytes(sample)
                   if not m.encoding.startswith(("utf_16", "utf_32"))]
        if not matches:
            return None
        best = matches[0]
        tied = [m for m in matches
                if m.chaos <= best.chaos + 0.01 and m.coherence >= best.coherence - 0.01]
        if any("cp1252" in m.could_be_from_charset for m in tied):
            return "cp1252"
        as_cp1252 = sample.decode("cp1252", errors="ignore")
        if (best.coherence == 0 and len(as_cp1252) == len(sample)
                and mess_ratio(as_cp1252, 1.0) <= best.chaos):
            return "cp1252"
        return best.encoding
    except Exception:  # a detector failure must not stop decoding; cp1252 follows
        return None
