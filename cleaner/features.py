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

from cleaner.html_blocks import ANCESTOR_LEVELS, STRUCTURE_FEATURES
from cleaner.page import Page

# Character classes, looked up by code point.
OTHER, LOWER, UPPER, CASELESS, DIGIT, PUNCT, SPACE, SYMBOL, MARK = range(9)
N_CLASSES = 9
#: Classes whose characters make up words (tokens).
WORD_CLASS = np.isin(np.arange(N_CLASSES), [LOWER, UPPER, CASELESS, DIGIT, MARK])
_BULLETS = frozenset("•·-*–—▪►■●○◦‣⁃>»|")
#: A URL-like token. Written to start at a literal (the dot of ``x.com`` rather than the
#: ``x``) so the engine skips ahead instead of trying every word character: 4x faster,
#: and the same lines match (no match spans a line).
_URL = regex.compile(r"https?://|www\.|(?<=\w)\.(?:com|org|net)\b")
_TIME = regex.compile(r"\b\d{1,2}:\d{2}\b")
# Digits bound the year, not word boundaries: CJK dates run on into letters ("2024年").
_YEAR = regex.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
#: ``\d%`` written as ``(?<=\d)%``: the engine looks for the literal, and the same lines match.
_PERCENT_OR_SIGNED = regex.compile(r"[+\-−]\d|(?<=\d)%")
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
def class_table() -> tuple[np.ndarray, np.ndarray]:
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


def classify_codes(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    table, terminal_table = class_table()
    if not len(codes) or int(codes.max()) < 0x10000:  # the basic plane only: one lookup
        return table[codes].astype(np.int64), terminal_table[codes]
    basic = codes < 0x10000
    index = np.where(basic, codes, 0)
    classes = np.where(basic, table[index], np.where(codes >= 0x1F000, SYMBOL, CASELESS))
    terminal = basic & terminal_table[index]
    return classes.astype(np.int64), terminal


def _lines_of(line_of: np.ndarray, n: int) -> np.ndarray:
    """How many of the items (tokens) belong to each of ``n`` lines."""
    return np.bincount(line_of, minlength=n).astype(float)


def _count_per_line(flags: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """How many characters of each line are flagged (``starts``: where each non-empty line
    begins); a segment sum, several times faster than a weighted bincount."""
    return np.add.reduceat(flags, starts, dtype=np.int64).astype(float)


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.maximum(b, 1e-9), np.nan)


def _regex_lines(pattern: regex.Pattern, text: str, starts: np.ndarray, n: int) -> np.ndarray:
    positions = [m.start() for m in pattern.finditer(text)]
    if not positions:
        return np.zeros(n)
    lines = np.searchsorted(starts, np.asarray(positions), side="right") - 1
    return np.minimum(np.bincount(lines, minlength=n), 1).astype(float)


def base_features(lines: list[str], page_lengths: list[int] | None = None) -> np.ndarray:
    """Features of each line's own text (lines must be non-empty after stripping).

    ``page_lengths`` splits the lines into consecutive pages (default: one page);
    only the repetition columns look across lines, and only within a page.
    """
    n = len(lines)
    lengths = np.fromiter((len(line) for line in lines), dtype=np.int64, count=n)
    joined = "\n".join(lines)
    codes = _codepoints(joined)
    starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))
    line_of = np.repeat(np.arange(n), lengths + 1)[: len(codes)]
    classes, terminal = classify_codes(codes)
    classes[codes == 10] = OTHER
    counts = np.bincount(line_of * N_CLASSES + classes, minlength=n * N_CLASSES)
    counts = counts.reshape(n, N_CLASSES).astype(float)
    # Combining marks (Devanagari vowel signs, …) are part of the letters of their script.
    letters = counts[:, LOWER] + counts[:, UPPER] + counts[:, CASELESS] + counts[:, MARK]

    is_word = WORD_CLASS[classes]
    previous_word = np.concatenate(([False], is_word[:-1]))
    token_start = is_word & ~previous_word
    word_positions = np.flatnonzero(is_word)
    n_tokens_total = int(token_start.sum())
    token_line = line_of[token_start]
    if n_tokens_total:
        word_classes = classes[word_positions]
        # A token is a run of word characters: its counts are segment sums over them.
        token_first = np.flatnonzero(token_start[word_positions])

        def per_token(flags: np.ndarray) -> np.ndarray:
            return np.add.reduceat(flags, token_first, dtype=np.int64)

        tok_letters = per_token((word_classes != DIGIT) & (word_classes != MARK))
        tok_upper = per_token(word_classes == UPPER)
        tok_lower = per_token(word_classes == LOWER)
        first_class = classes[token_start]
        numeric = _lines_of(token_line[tok_letters == 0], n)
        all_upper = _lines_of(token_line[(tok_upper > 1) & (tok_lower == 0)], n)
        capitalised = _lines_of(token_line[first_class == UPPER], n)
    else:
        numeric = all_upper = capitalised = np.zeros(n)
    tokens = _lines_of(token_line, n)
    word_chars = _count_per_line(is_word, starts)

    stripped = [line.strip() for line in lines]
    last_chars = "".join(s[-1] for s in stripped)
    last2 = "".join((s[-2] if len(s) > 1 else s[-1]) for s in stripped)
    first_chars = "".join(s[0] for s in stripped)
    last_class, last_terminal = classify_codes(_codepoints(last_chars))
    _, last2_terminal = classify_codes(_codepoints(last2))
    first_class, _ = classify_codes(_codepoints(first_chars))
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
        "terminals_per_token": _safe_div(_count_per_line(terminal, starts), tokens),
        "leading_spaces": np.minimum(leading, 16),
        "starts_bullet": np.fromiter((c in _BULLETS for c in first_chars), bool, count=n),
        "starts_upper": (first_class == UPPER).astype(float),
        "has_url": _regex_lines(_URL, joined, starts, n),
        "has_time": _regex_lines(_TIME, joined, starts, n),
        "has_year": _regex_lines(_YEAR, joined, starts, n),
        "has_signed_number": _regex_lines(_PERCENT_OR_SIGNED, joined, starts, n),
    }
    for char, name in _SPECIAL.items():
        columns[f"count_{name}"] = np.minimum(_count_per_line(codes == ord(char), starts), 5)
    keys = [s.casefold() for s in stripped]
    repeats_earlier = np.zeros(n)
    duplicates = np.zeros(n)
    same_as_previous = np.zeros(n, dtype=bool)
    start = 0
    for length in [n] if page_lengths is None else page_lengths:
        page_keys = keys[start:start + length]
        seen: dict[str, int] = {}
        for i, key in enumerate(page_keys, start):
            repeats_earlier[i] = seen.get(key, 0)
            seen[key] = seen.get(key, 0) + 1
        duplicates[start:start + length] = [seen[k] - 1 for k in page_keys]
        same_as_previous[start + 1:start + length] = [
            a == b for a, b in zip(page_keys, page_keys[1:], strict=False)]
        start += length
    columns["duplicates"] = duplicates
    columns["repeats_earlier"] = np.minimum(repeats_earlier, 3)
    columns["same_as_previous"] = same_as_previous
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
    before = cumulative[:-1]
    lowest_before = np.minimum.accumulate(before)
    # Where the minimum so far is first reached: a new strict minimum (the first row always).
    new_low = before < np.concatenate(([np.inf], lowest_before[:-1]))
    lowest_index = np.maximum.accumulate(np.where(new_low, np.arange(len(before)), 0))
    gains = cumulative[1:] - lowest_before
    end = int(np.argmax(gains))
    return int(lowest_index[end]), end


def page_features(page: Page) -> tuple[np.ndarray, np.ndarray]:
    """Feature matrix for the non-blank lines of a page and their indices in ``page.lines``."""
    matrix, kept = pages_features([page])
    return matrix, kept[0]


#: Characters per base_features call: enough pages to share the numpy calls, few enough
#: that the per-character arrays (a dozen of them, up to 8 bytes a character) stay small.
CHUNK_CHARS = 1 << 17


def _base_features_in_chunks(page_lines: list[list[str]]) -> np.ndarray:
    """base_features of consecutive pages, a few pages per call (rows are per page, so
    the split changes no value), so that a batch of long pages never needs much memory."""
    parts, chunk, sizes, chars = [], [], [], 0
    for lines in page_lines:
        chunk += lines
        sizes.append(len(lines))
        chars += sum(map(len, lines))
        if chars >= CHUNK_CHARS:
            parts.append(base_features(chunk, sizes))
            chunk, sizes, chars = [], [], 0
    if chunk or not parts:
        parts.append(base_features(chunk, sizes))
    return np.vstack(parts)


class _Batch:
    """Where each row of several pages' stacked rows sits: its page and place in it."""

    def __init__(self, lengths: list[int]) -> None:
        self.lengths = lengths
        sizes = np.asarray(lengths, dtype=np.int64)
        self.starts = np.cumsum(sizes) - sizes
        self.page = np.repeat(np.arange(len(lengths)), sizes)
        self.position = np.arange(int(sizes.sum())) - self.starts[self.page]
        self.page_size = sizes[self.page]
        self._shifts: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._windows: dict[int, tuple[np.ndarray, int]] = {}

    def shift(self, values: np.ndarray, offset: int) -> np.ndarray:
        """The value ``offset`` rows away in the same page, NaN past its ends."""
        if offset not in self._shifts:  # the same few offsets serve every column
            inside = (self.position + offset >= 0) & (self.position + offset < self.page_size)
            source = np.arange(len(self.position)) + offset
            np.minimum(source, max(len(source) - 1, 0), out=source)
            np.maximum(source, 0, out=source)
            self._shifts[offset] = inside, source
        inside, source = self._shifts[offset]
        return np.where(inside, values[source], np.nan)

    def window_mean(self, values: np.ndarray, radius: int) -> np.ndarray:
        """Mean of the non-missing values within ``radius`` rows, in the same page.

        One convolution for all pages, with ``radius`` zeros between them. The values
        here (lengths' logarithms, shares, flags, all float32 numbers and never
        negative) sum exactly in float64 over a window, so the sums are those of each
        page's own convolution whatever order the additions take.
        """
        if radius not in self._windows:  # the same few radii serve every column
            self._windows[radius] = (np.arange(len(self.page)) + radius * (self.page + 1),
                                     len(self.page) + radius * (len(self.lengths) + 1))
        where, size = self._windows[radius]
        missing = np.isnan(values)
        filled, valid = np.zeros(size), np.zeros(size)
        filled[where] = np.where(missing, 0.0, values)
        valid[where] = ~missing
        kernel = np.ones(2 * radius + 1)
        # "full" convolution: row q's window is centred at q + radius.
        total = np.convolve(filled, kernel)[where + radius]
        count = np.convolve(valid, kernel)[where + radius]
        return _safe_div(total, count)


def pages_features(pages: list[Page]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Feature rows of the non-blank lines of several pages, stacked page after page,
    and each page's indices of those lines in ``page.lines``.

    Every row is the one its page alone gives: the pages share only the numpy calls,
    which is what makes a batch of pages cheaper than the pages one by one.
    """
    kept = [np.array([i for i, line in enumerate(page.lines) if line.strip()], dtype=np.int64)
            for page in pages]
    lengths = [len(k) for k in kept]
    m = sum(lengths)
    if m == 0:
        return np.zeros((0, len(FEATURE_NAMES)), dtype=np.float32), kept
    batch = _Batch(lengths)
    base = _base_features_in_chunks([[page.lines[i] for i in k] for page, k in
                                     zip(pages, kept, strict=True)])
    column = {name: base[:, i].astype(float) for i, name in enumerate(BASE_FEATURES)}
    structure = np.vstack([
        page.structure[k].astype(float) if page.structure is not None
        else np.full((len(k), len(STRUCTURE_FEATURES)), np.nan)
        for page, k in zip(pages, kept, strict=True)])
    link_density = structure[:, STRUCTURE_FEATURES.index("link_density")]
    depth = structure[:, STRUCTURE_FEATURES.index("depth")]

    context = []
    for key in _CONTEXT_KEYS:
        context += [batch.shift(column[key], offset) for offset in _OFFSETS]
    for key in _CONTEXT_KEYS:
        context += [batch.window_mean(column[key], w) for w in _WINDOWS]
    context += [batch.shift(link_density, -1), batch.shift(link_density, 1),
                batch.window_mean(link_density, 3)]

    chars = np.expm1(column["log_chars"])
    prose = (chars >= PROSE_CHARS) & (column["ends_terminal"] > 0)
    has_structure = np.repeat([page.structure is not None for page in pages], lengths)
    prose &= ~has_structure | (np.nan_to_num(link_density) < 0.5)
    long_chars = np.where(prose, chars, 0.0)
    prose_score = np.where(prose, chars, -40.0)
    relative_depth = np.full(m, np.nan)
    chars_before, long_before = np.empty(m), np.empty(m)
    in_run, to_run = np.empty(m), np.empty(m)
    page_chars, page_long, longest = np.empty(m), np.empty(m), np.empty(m)
    gaps_before, gaps_after = np.empty(m), np.empty(m)
    # Sums and running sums of fractional numbers stay per page: their rounding depends
    # on the order of the additions.
    for page, k, start, length in zip(pages, kept, batch.starts.tolist(), lengths, strict=True):
        if length == 0:
            continue
        rows = slice(start, start + length)
        if page.structure is not None:
            page_depth = depth[rows]
            prose_depths = page_depth[prose[rows]]
            centre = np.median(prose_depths) if len(prose_depths) else np.median(page_depth)
            relative_depth[rows] = page_depth - centre
        gaps = np.diff(np.concatenate(([-1], k, [len(page.lines)]))) - 1
        gaps_before[rows], gaps_after[rows] = gaps[:-1], gaps[1:]
        chars_before[rows] = np.cumsum(chars[rows])
        long_before[rows] = np.cumsum(long_chars[rows])
        page_chars[rows] = chars[rows].sum()
        page_long[rows] = long_chars[rows].sum()
        longest[rows] = max(chars[rows].max(), 1.0)
        run_start, run_end = _main_run(prose_score[rows])
        index = np.arange(length)
        in_run[rows] = (index >= run_start) & (index <= run_end)
        to_run[rows] = np.where(index < run_start, index - run_start,
                                np.where(index > run_end, index - run_end, 0))
    context.append(relative_depth)

    total_long = np.maximum(page_long, 1.0)
    page_rows = np.asarray(lengths, dtype=np.int64)[batch.page]
    page_prose = np.bincount(batch.page, weights=prose, minlength=len(pages))[batch.page]
    page_columns = [
        np.minimum(gaps_before, 5), np.minimum(gaps_after, 5),
        batch.position / np.maximum(page_rows - 1, 1),
        (chars_before - chars) / np.maximum(page_chars, 1.0),
        in_run,
        np.clip(to_run, -50, 50),
        (long_before - long_chars) / total_long,
        (total_long - long_before) / total_long,
        np.log1p(page_rows.astype(float)),
        np.log1p(page_chars),
        page_prose / page_rows,
        chars / longest,
    ]
    matrix = np.column_stack([base, *context, *page_columns, structure]).astype(np.float32)
    return matrix, kept


#: Ancestor levels (1: the block's parent block element, 2: its grandparent...) whose
#: blocks the element-tree context averages over.
DOM_LEVELS = (1, 2, 3)
#: Features of the first-stage p(body) over the HTML element tree (see ``dom_context``);
#: missing (NaN) on text pages.
DOM_CONTEXT_FEATURES: tuple[str, ...] = (
    *(f"dom_p_level{level}" for level in DOM_LEVELS),
)
#: Features of the first-stage body probabilities around a line (see ``prediction_context``).
PREDICTION_CONTEXT_FEATURES: tuple[str, ...] = (
    "p_body", "p_body@-2", "p_body@-1", "p_body@+1", "p_body@+2", "p_body~3", "p_body~10",
    "p_body_page_mean", "p_body_page_max", "p_body_max_before", "p_body_max_after",
    "p_body_rank", "lines_since_body", "lines_until_body",
    "p_body~30", "lines_since_sure_body", "lines_until_sure_body", "p_body_mass_before",
    "p_body_mass_after", *DOM_CONTEXT_FEATURES,
)
#: First-stage p(body) from which a line counts as sure body (the article's own lines).
SURE_BODY = 0.8


def _gap_to_previous(flags: np.ndarray) -> np.ndarray:
    """For each row, rows since the last flagged row before it (capped, 50 when none)."""
    index = np.arange(len(flags))
    last = np.maximum.accumulate(np.where(flags, index, -1))
    previous = np.concatenate(([-1], last[:-1]))
    return np.where(previous >= 0, np.minimum(index - previous, 50), 50)


def pages_ancestors(pages: list[Page], kept: list[np.ndarray]) -> np.ndarray:
    """The block elements of the rows ``pages_features`` gives (``kept``: each page's
    rows), stacked; -1 on pages without them (text)."""
    parts = [page.ancestors[k] if page.ancestors is not None
             else np.full((len(k), ANCESTOR_LEVELS), -1, dtype=np.int32)
             for page, k in zip(pages, kept, strict=True)]
    if not parts:
        return np.zeros((0, ANCESTOR_LEVELS), dtype=np.int32)
    return np.vstack(parts).astype(np.int32, copy=False)


def dom_context(p_body: np.ndarray, lengths: list[int] | np.ndarray,
                ancestors: np.ndarray | None, chars: np.ndarray) -> np.ndarray:
    """How body-like the first stage finds a block's neighbours in the element tree.

    The sequence windows of ``prediction_context`` see the lines before and
    after; the element tree sees which blocks belong together. A teaser's
    summary reads like prose, but the blocks beside it under the same list
    are headlines, bylines and other teasers, which the first stage doubts;
    an article paragraph sits among paragraphs it is sure of. Per block: the
    mean p(body), weighted by length, of the other blocks under its parent,
    grandparent and great-grandparent block element (NaN where there are
    none, and on rows without element numbers: text pages).
    """
    n = len(p_body)
    out = np.full((n, len(DOM_CONTEXT_FEATURES)), np.nan, dtype=np.float32)
    if ancestors is None or n == 0 or not (ancestors[:, 0] >= 0).any():
        return out
    lengths = np.asarray(lengths, dtype=np.int64)
    page = np.repeat(np.arange(len(lengths)), lengths)
    # Element numbers are per page; shift each page's past the one before.
    highest = np.zeros(len(lengths), dtype=np.int64)
    np.maximum.at(highest, page, ancestors.max(axis=1).astype(np.int64))
    offsets = np.concatenate(([0], np.cumsum(highest + 1)[:-1]))
    ids = np.where(ancestors >= 0, ancestors + offsets[page][:, None], -1)
    valid = ids >= 0
    row_of = np.broadcast_to(np.arange(n)[:, None], ids.shape)[valid]
    flat = ids[valid]
    size = int(flat.max()) + 1
    p = np.asarray(p_body, dtype=float)
    mass = p * chars
    element_mass = np.bincount(flat, weights=mass[row_of], minlength=size)
    element_chars = np.bincount(flat, weights=chars[row_of], minlength=size)
    html = ids[:, 0] >= 0
    columns = []
    for level in DOM_LEVELS:  # the other blocks under the ancestor: mean p(body) by length
        element = np.maximum(ids[:, level], 0)
        has = ids[:, level] >= 0
        others = element_chars[element] - chars
        columns.append(np.where(has & (others > 0),
                                _safe_div(element_mass[element] - mass, others), np.nan))
    out[html] = np.column_stack(columns)[html]
    return out


def prediction_context(p_body: np.ndarray, lengths: list[int] | np.ndarray,
                       ancestors: np.ndarray | None = None,
                       chars: np.ndarray | None = None) -> np.ndarray:
    """Where body-like lines lie around each line, per page.

    A line between two confident body lines is likely body even when its own
    text is short, and a prose paragraph far below the article, after a run
    of chrome, is likely a related story. The second-stage model reads these
    from the first stage's probabilities: near windows, a wide one, how far the
    line is from the last and next sure body line, and how much of the page's
    body mass lies before and after it (what follows the article's end is
    chrome, however much it reads like prose). ``lengths`` are the numbers of
    rows of consecutive pages in ``p_body``. On HTML pages, ``ancestors`` (the
    rows' block elements) and ``chars`` (their lengths) add the element-tree
    view of ``dom_context``; without them those columns are missing.
    """
    out = np.zeros((len(p_body), len(PREDICTION_CONTEXT_FEATURES)), dtype=np.float32)
    n_dom = len(DOM_CONTEXT_FEATURES)
    out[:, -n_dom:] = dom_context(
        p_body, lengths, ancestors,
        np.ones(len(p_body)) if chars is None else np.asarray(chars, dtype=float))
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
        out[start:start + length, :-n_dom] = np.column_stack(columns)
        start += length
    return out
