"""Per-line features of a page, computed for all lines at once with numpy.

Following boilerpipe and jusText, a line is described by shallow,
script-independent properties of its own text (length, share of letters,
digits and punctuation, sentence ends, case), by the same properties of its
neighbours, and by where it sits relative to the densest run of prose on the
page. HTML pages add their structure features; text pages leave them
missing (NaN), which the tree model handles natively. No feature looks at
words of any particular language.
"""

from __future__ import annotations

import functools
import unicodedata

import numpy as np
import regex

from cleaner.html_blocks import STRUCTURE_FEATURES
from cleaner.page import Page

# Character classes, looked up by code point.
OTHER, LOWER, UPPER, CASELESS, DIGIT, PUNCT, SPACE, SYMBOL, MARK = range(9)
N_CLASSES = 9
_BULLETS = frozenset("•·-*–—▪►■●○◦‣⁃>»|")
#: A URL-like token. Written to start at a literal (the dot of ``x.com`` rather than the
#: ``x``) so the engine skips ahead instead of trying every word character: 4x faster,
#: and the same lines match (no match spans a line).
_URL = regex.compile(r"https?://|www\.|(?<=\w)\.(?:com|org|net)\b")
_TIME = regex.compile(r"\b\d{1,2}:\d{2}\b")
# Digits bound the year, not word boundaries: CJK dates run on into letters ("2024年").
_YEAR = regex.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
_PERCENT_OR_SIGNED = regex.compile(r"[+\-−]\d|\d%")
_SPECIAL = {"|": "pipe", "/": "slash", ":": "colon", "©": "copyright", "@": "at", "#": "hash"}

BASE_FEATURES: tuple[str, ...] = (
    "log_chars", "log_tokens", "mean_token_len", "frac_letter", "frac_upper", "frac_digit",
    "frac_punct", "frac_space", "frac_symbol", "frac_numeric_tokens", "frac_upper_tokens",
    "frac_capitalised_tokens", "ends_terminal", "terminals_per_token", "leading_spaces",
    "starts_bullet", "starts_upper", "has_url", "has_time", "has_year", "has_signed_number",
    *(f"count_{name}" for name in _SPECIAL.values()),
    "duplicates", "repeats_earlier", "same_as_previous",
)
_CONTEXT_KEYS = (
    "log_chars", "ends_terminal", "frac_digit", "frac_punct", "frac_capitalised_tokens",
)
_OFFSETS = (-2, -1, 1, 2)
_WINDOWS = (3, 10)
CONTEXT_FEATURES: tuple[str, ...] = tuple(
    f"{key}@{offset:+d}" for key in _CONTEXT_KEYS for offset in _OFFSETS
) + tuple(f"{key}~{w}" for key in _CONTEXT_KEYS for w in _WINDOWS) + (
    "link_density@-1", "link_density@+1", "link_density~3", "relative_depth",
)
PAGE_FEATURES: tuple[str, ...] = (
    "blank_before", "blank_after", "position", "char_position", "in_main_run",
    "lines_to_main_run", "long_text_before", "long_text_after", "page_log_lines",
    "page_log_chars", "page_frac_long", "chars_vs_longest",
)
FEATURE_NAMES: tuple[str, ...] = (
    BASE_FEATURES + CONTEXT_FEATURES + PAGE_FEATURES + STRUCTURE_FEATURES
)
#: Lines of at least this many characters that end a sentence count as prose.
PROSE_CHARS = 60


@functools.cache
def _class_table() -> tuple[np.ndarray, np.ndarray]:
    """Class and sentence-terminal flag for every code point of the basic plane."""
    classes = np.zeros(0x10000, dtype=np.uint8)
    mapping = {"Ll": LOWER, "Lu": UPPER, "Lt": UPPER, "Lo": CASELESS, "Lm": CASELESS,
               "Nd": DIGIT, "Zs": SPACE, "Mn": MARK, "Mc": MARK, "Me": MARK}
    for code in range(0x10000):
        category = unicodedata.category(chr(code))
        classes[code] = mapping.get(category, PUNCT if category[0] == "P" else
                                    SYMBOL if category[0] == "S" else OTHER)
    classes[ord("\t")] = SPACE
    terminal = np.zeros(0x10000, dtype=bool)
    for char in regex.findall(r"\p{Sentence_Terminal}", "".join(map(chr, range(0x10000)))):
        terminal[ord(char)] = True
    return classes, terminal


def _codepoints(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _classify(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    table, terminal_table = _class_table()
    basic = codes < 0x10000
    index = np.where(basic, codes, 0)
    classes = np.where(basic, table[index], np.where(codes >= 0x1F000, SYMBOL, CASELESS))
    terminal = basic & terminal_table[index]
    return classes.astype(np.int64), terminal


def _per_line(line_of: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(line_of, weights=values, minlength=n)


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.maximum(b, 1e-9), np.nan)


def _regex_lines(pattern: regex.Pattern, text: str, starts: np.ndarray, n: int) -> np.ndarray:
    positions = [m.start() for m in pattern.finditer(text)]
    if not positions:
        return np.zeros(n)
    lines = np.searchsorted(starts, np.asarray(positions), side="right") - 1
    return np.minimum(np.bincount(lines, minlength=n), 1).astype(float)


def base_features(lines: list[str]) -> np.ndarray:
    """Features of each line's own text (lines must be non-empty after stripping)."""
    n = len(lines)
    lengths = np.fromiter((len(line) for line in lines), dtype=np.int64, count=n)
    joined = "\n".join(lines)
    codes = _codepoints(joined)
    starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))
    line_of = np.repeat(np.arange(n), lengths + 1)[: len(codes)]
    classes, terminal = _classify(codes)
    classes[codes == 10] = OTHER
    counts = np.bincount(line_of * N_CLASSES + classes, minlength=n * N_CLASSES)
    counts = counts.reshape(n, N_CLASSES).astype(float)
    # Combining marks (Devanagari vowel signs, …) are part of the letters of their script.
    letters = counts[:, LOWER] + counts[:, UPPER] + counts[:, CASELESS] + counts[:, MARK]

    is_word = (classes == LOWER) | (classes == UPPER) | (classes == CASELESS) | (
        classes == DIGIT) | (classes == MARK)
    previous_word = np.concatenate(([False], is_word[:-1]))
    token_start = is_word & ~previous_word
    token_id = np.cumsum(token_start) - 1
    word_positions = np.flatnonzero(is_word)
    n_tokens_total = int(token_start.sum())
    token_line = line_of[token_start]
    if n_tokens_total:
        tid = token_id[word_positions]
        word_classes = classes[word_positions]
        tok_letters = np.bincount(tid, weights=(word_classes != DIGIT) & (word_classes != MARK),
                                  minlength=n_tokens_total)
        tok_upper = np.bincount(tid, weights=word_classes == UPPER, minlength=n_tokens_total)
        tok_lower = np.bincount(tid, weights=word_classes == LOWER, minlength=n_tokens_total)
        first_class = classes[token_start]
        numeric = _per_line(token_line, tok_letters == 0, n)
        all_upper = _per_line(token_line, (tok_upper > 1) & (tok_lower == 0), n)
        capitalised = _per_line(token_line, first_class == UPPER, n)
    else:
        numeric = all_upper = capitalised = np.zeros(n)
    tokens = _per_line(token_line, np.ones(len(token_line)), n)
    word_chars = _per_line(line_of, is_word, n)

    stripped = [line.strip() for line in lines]
    last_chars = "".join(s[-1] for s in stripped)
    last2 = "".join((s[-2] if len(s) > 1 else s[-1]) for s in stripped)
    first_chars = "".join(s[0] for s in stripped)
    last_class, last_terminal = _classify(_codepoints(last_chars))
    _, last2_terminal = _classify(_codepoints(last2))
    first_class, _ = _classify(_codepoints(first_chars))
    ends_terminal = last_terminal | ((last_class == PUNCT) & last2_terminal)
    leading = lengths - np.fromiter((len(line.lstrip()) for line in lines), np.int64, count=n)

    columns = {
        "log_chars": np.log1p(lengths - leading),
        "log_tokens": np.log1p(tokens),
        "mean_token_len": _safe_div(word_chars, tokens),
        "frac_letter": letters / np.maximum(lengths, 1),
        "frac_upper": _safe_div(counts[:, UPPER], counts[:, UPPER] + counts[:, LOWER]),
        "frac_digit": counts[:, DIGIT] / np.maximum(lengths, 1),
        "frac_punct": counts[:, PUNCT] / np.maximum(lengths, 1),
        "frac_space": counts[:, SPACE] / np.maximum(lengths, 1),
        "frac_symbol": counts[:, SYMBOL] / np.maximum(lengths, 1),
        "frac_numeric_tokens": _safe_div(numeric, tokens),
        "frac_upper_tokens": _safe_div(all_upper, tokens),
        "frac_capitalised_tokens": _safe_div(capitalised, tokens),
        "ends_terminal": ends_terminal.astype(float),
        "terminals_per_token": _safe_div(_per_line(line_of, terminal, n), tokens),
        "leading_spaces": np.minimum(leading, 16),
        "starts_bullet": np.fromiter((c in _BULLETS for c in first_chars), bool, count=n),
        "starts_upper": (first_class == UPPER).astype(float),
        "has_url": _regex_lines(_URL, joined, starts, n),
        "has_time": _regex_lines(_TIME, joined, starts, n),
        "has_year": _regex_lines(_YEAR, joined, starts, n),
        "has_signed_number": _regex_lines(_PERCENT_OR_SIGNED, joined, starts, n),
    }
    for char, name in _SPECIAL.items():
        columns[f"count_{name}"] = np.minimum(_per_line(line_of, codes == ord(char), n), 5)
    keys = [s.casefold() for s in stripped]
    seen: dict[str, int] = {}
    repeats_earlier = np.zeros(n)
    for i, key in enumerate(keys):
        repeats_earlier[i] = seen.get(key, 0)
        seen[key] = seen.get(key, 0) + 1
    columns["duplicates"] = np.fromiter((seen[k] - 1 for k in keys), float, count=n)
    columns["repeats_earlier"] = np.minimum(repeats_earlier, 3)
    columns["same_as_previous"] = np.array(
        [False] + [a == b for a, b in zip(keys, keys[1:], strict=False)])
    return np.column_stack([columns[name] for name in BASE_FEATURES]).astype(np.float32)


def _shift(values: np.ndarray, offset: int) -> np.ndarray:
    out = np.full_like(values, np.nan)
    if offset < 0 and len(values) > -offset:
        out[-offset:] = values[:offset]
    elif offset > 0 and len(values) > offset:
        out[:-offset] = values[offset:]
    return out


def _window_mean(values: np.ndarray, radius: int) -> np.ndarray:
    filled = np.nan_to_num(values, nan=0.0)
    valid = ~np.isnan(values)
    kernel = np.ones(2 * radius + 1)
    # "full" then slice: mode="same" returns the kernel's length when the page is shorter.
    centre = slice(radius, radius + len(values))
    total = np.convolve(filled, kernel)[centre]
    count = np.convolve(valid.astype(float), kernel)[centre]
    return _safe_div(total, count)


def _main_run(prose_score: np.ndarray) -> tuple[int, int]:
    """Start and end (inclusive) of the run of lines with the largest prose score."""
    cumulative = np.concatenate(([0.0], np.cumsum(prose_score)))
    lowest_before = np.minimum.accumulate(cumulative[:-1])
    lowest_index = np.zeros(len(prose_score), dtype=np.int64)
    running_min, running_index = np.inf, 0
    for i, value in enumerate(cumulative[:-1]):  # argmin-so-far; n is at most a few thousand
        if value < running_min:
            running_min, running_index = value, i
        lowest_index[i] = running_index
    gains = cumulative[1:] - lowest_before
    end = int(np.argmax(gains))
    return int(lowest_index[end]), end


def page_features(page: Page) -> tuple[np.ndarray, np.ndarray]:
    """Feature matrix for the non-blank lines of a page and their indices in ``page.lines``."""
    kept = np.array([i for i, line in enumerate(page.lines) if line.strip()], dtype=np.int64)
    m = len(kept)
    if m == 0:
        return np.zeros((0, len(FEATURE_NAMES)), dtype=np.float32), kept
    lines = [page.lines[i] for i in kept]
    base = base_features(lines)
    column = {name: base[:, i].astype(float) for i, name in enumerate(BASE_FEATURES)}
    if page.structure is not None:
        structure = page.structure[kept].astype(float)
    else:
        structure = np.full((m, len(STRUCTURE_FEATURES)), np.nan)
    link_density = structure[:, STRUCTURE_FEATURES.index("link_density")]
    depth = structure[:, STRUCTURE_FEATURES.index("depth")]

    context = []
    for key in _CONTEXT_KEYS:
        context += [_shift(column[key], offset) for offset in _OFFSETS]
    for key in _CONTEXT_KEYS:
        context += [_window_mean(column[key], w) for w in _WINDOWS]
    context += [_shift(link_density, -1), _shift(link_density, 1), _window_mean(link_density, 3)]

    chars = np.expm1(column["log_chars"])
    prose = (chars >= PROSE_CHARS) & (column["ends_terminal"] > 0)
    if page.structure is not None:
        prose &= np.nan_to_num(link_density) < 0.5
        prose_depths = depth[prose]
        centre = np.median(prose_depths) if len(prose_depths) else np.median(depth)
        relative_depth = depth - centre
    else:
        relative_depth = np.full(m, np.nan)
    context.append(relative_depth)

    gaps = np.diff(np.concatenate(([-1], kept, [len(page.lines)]))) - 1
    long_chars = np.where(prose, chars, 0.0)
    total_long = max(long_chars.sum(), 1.0)
    run_start, run_end = _main_run(np.where(prose, chars, -40.0))
    index = np.arange(m)
    to_run = np.where(index < run_start, index - run_start,
                      np.where(index > run_end, index - run_end, 0))
    page_columns = [
        np.minimum(gaps[:-1], 5), np.minimum(gaps[1:], 5),
        index / max(m - 1, 1),
        (np.cumsum(chars) - chars) / max(chars.sum(), 1.0),
        ((index >= run_start) & (index <= run_end)).astype(float),
        np.clip(to_run, -50, 50),
        (np.cumsum(long_chars) - long_chars) / total_long,
        (total_long - np.cumsum(long_chars)) / total_long,
        np.full(m, np.log1p(m)),
        np.full(m, np.log1p(chars.sum())),
        np.full(m, prose.mean()),
        chars / max(chars.max(), 1.0),
    ]
    matrix = np.column_stack([base, *context, *page_columns, structure]).astype(np.float32)
    return matrix, kept


#: Features of the first-stage body probabilities around a line (see ``prediction_context``).
PREDICTION_CONTEXT_FEATURES: tuple[str, ...] = (
    "p_body", "p_body@-2", "p_body@-1", "p_body@+1", "p_body@+2", "p_body~3", "p_body~10",
    "p_body_page_mean", "p_body_page_max", "p_body_max_before", "p_body_max_after",
    "p_body_rank", "lines_since_body", "lines_until_body",
    "p_body~30", "lines_since_sure_body", "lines_until_sure_body", "p_body_mass_before",
    "p_body_mass_after",
)
#: First-stage p(body) from which a line counts as sure body (the article's own lines).
SURE_BODY = 0.8


def _gap_to_previous(flags: np.ndarray) -> np.ndarray:
    """For each row, rows since the last flagged row before it (capped, 50 when none)."""
    index = np.arange(len(flags))
    last = np.maximum.accumulate(np.where(flags, index, -1))
    previous = np.concatenate(([-1], last[:-1]))
    return np.where(previous >= 0, np.minimum(index - previous, 50), 50)


def prediction_context(p_body: np.ndarray, lengths: list[int] | np.ndarray) -> np.ndarray:
    """Where body-like lines lie around each line, per page.

    A line between two confident body lines is likely body even when its own
    text is short, and a prose paragraph far below the article, after a run
    of chrome, is likely a related story. The second-stage model reads these
    from the first stage's probabilities: near windows, a wide one, how far the
    line is from the last and next sure body line, and how much of the page's
    body mass lies before and after it (what follows the article's end is
    chrome, however much it reads like prose). ``lengths`` are the numbers of
    rows of consecutive pages in ``p_body``.
    """
    out = np.zeros((len(p_body), len(PREDICTION_CONTEXT_FEATURES)), dtype=np.float32)
    start = 0
    for length in lengths:
        p = p_body[start:start + length].astype(float)
        if length == 0:
            continue
        body = p >= 0.5
        sure = p >= SURE_BODY
        total = max(p.sum(), 1e-9)
        order = np.empty(length)
        order[np.argsort(-p, kind="stable")] = np.arange(length)
        columns = [
            p, _shift(p, -2), _shift(p, -1), _shift(p, 1), _shift(p, 2),
            _window_mean(p, 3), _window_mean(p, 10),
            np.full(length, p.mean()), np.full(length, p.max()),
            np.concatenate(([0.0], np.maximum.accumulate(p)[:-1])),
            np.concatenate((np.maximum.accumulate(p[::-1])[::-1][1:], [0.0])),
            order / max(length - 1, 1),
            _gap_to_previous(body), _gap_to_previous(body[::-1])[::-1],
            _window_mean(p, 30),
            _gap_to_previous(sure), _gap_to_previous(sure[::-1])[::-1],
            (np.cumsum(p) - p) / total, (total - np.cumsum(p)) / total,
        ]
        out[start:start + length] = np.column_stack(columns)
        start += length
    return out
