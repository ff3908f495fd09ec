"""The Python API: label the lines of a page and keep its body.

``clean(page)`` uses the shipped model, loaded once on first use.
``Cleaner`` holds a model and options; ``label_many``/``clean_many`` put
the lines of many pages through one model call, which is what makes large
runs fast. ``clean_batch`` also drops what recurs across the pages of a site
(``cleaner.site_memory``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from cleaner.features import pages_ancestors, pages_features
from cleaner.labels import BLANK, BODY, Line
from cleaner.lexicon import line_tokens
from cleaner.model import EMPTY_PAGE_MARGIN, LineModel
from cleaner.page import InputFormat, Page
from cleaner.reader import Limits, read_page
from cleaner.reflow import reflow
from cleaner.site_memory import drop_template

PageInput = str | bytes
#: How many pages' lines go through the model in one call in ``*_many``.
BATCH_PAGES = 32


class Cleaner:
    """A loaded model plus the options that decide what is kept."""

    def __init__(self, model: LineModel | str | Path | None = None,
                 keep: Iterable[str] = (BODY,), input_format: InputFormat | None = None,
                 limits: Limits | None = None) -> None:
        self.model = model if isinstance(model, LineModel) else LineModel.load(model)
        self.keep = frozenset(keep)
        self.input_format = input_format
        self.limits = limits or Limits()
        self.body_threshold = self.model.body_threshold
        self.html_body_threshold = self.model.html_body_threshold
        #: A page no line of which reaches its threshold keeps the lines within this much
        #: of its best p(body); None lets such a page come out empty.
        self.empty_page_margin: float | None = EMPTY_PAGE_MARGIN

    def page(self, page: PageInput | Page) -> Page:
        """Turn input into a :class:`Page` the way the CLI reads a file.

        Bytes are gunzipped, decoded and checked, and raise
        :class:`~cleaner.reader.InputError` with the reason when they are no
        page (binary data, empty, over a limit); a ``str`` is never refused.
        """
        if isinstance(page, Page):
            return page
        return read_page(page, self.limits, self.input_format)

    def label(self, page: PageInput | Page) -> list[Line]:
        """One :class:`Line` per line of the page (per text block for HTML)."""
        return next(self.label_many([page]))

    def clean(self, page: PageInput | Page) -> str:
        """The kept text of the page: body lines by default."""
        return next(self.clean_many([page]))

    def label_many(self, pages: Iterable[PageInput | Page]) -> Iterator[list[Line]]:
        """Label pages in order, batching lines of several pages per model call."""
        batch: list[Page] = []
        for page in pages:
            batch.append(self.page(page))
            if len(batch) >= BATCH_PAGES:
                yield from self._label_batch(batch)
                batch = []
        if batch:
            yield from self._label_batch(batch)

    def label_each(self, pages: list[Page], reasons: bool = True
                   ) -> list[list[Line] | Exception]:
        """Label pages in one batch; if the batch fails, label them one by one, so that
        the page that fails gets its exception and the others their lines (runners
        report a failing page without losing its neighbours). Without ``reasons``
        dropped lines are ``drop``, for a reader of body and p(body) only (a fifth less
        time in text mode)."""
        try:
            return [lines for start in range(0, len(pages), BATCH_PAGES)
                    for lines in self._label_batch(pages[start:start + BATCH_PAGES], reasons)]
        except Exception:  # find the page that fails, label the others
            results: list[list[Line] | Exception] = []
            for page in pages:
                try:
                    results += self._label_batch([page], reasons)
                except Exception as error:
                    results.append(error)
            return results

    def clean_many(self, pages: Iterable[PageInput | Page]) -> Iterator[str]:
        """Clean pages in order; see :meth:`label_many`. The same text as :meth:`clean`,
        joined straight from the labels (no :class:`Line` per line: a tenth of the time
        of a text page went to making them)."""
        parsed = (self.page(page) for page in pages)
        pending: list[Page] = []

        # Which kind of chrome a dropped line is matters only when some kind is kept.
        reasons = not self.keep <= {BODY, BLANK}

        def flush() -> Iterator[str]:
            for page, (labels, _) in zip(pending, self._labels_batch(pending, reasons),
                                         strict=True):
                yield self._join(page, labels.tolist())

        for page in parsed:
            pending.append(page)
            if len(pending) >= BATCH_PAGES:
                yield from flush()
                pending = []
        yield from flush()

    def label_batch(self, pages: Sequence[PageInput | Page], sites: Sequence[str | None]
                    ) -> list[list[Line]]:
        """Label pages that come from a few sites together (``sites[i]`` names page i's
        site, e.g. its URL's host; None leaves a page alone): as :meth:`label_many`,
        then in text pages an unsure body line that recurs on another article of the
        same site becomes ``nav`` (see :mod:`cleaner.site_memory`). Every page is held
        in memory, so give it the pages of one run, not an endless stream."""
        if len(pages) != len(sites):
            raise ValueError(f"{len(pages)} pages but {len(sites)} sites: one site per page")
        parsed = [self.page(page) for page in pages]
        return drop_template(list(self.label_many(parsed)), sites,
                             [page.kind for page in parsed])

    def clean_batch(self, pages: Sequence[PageInput | Page], sites: Sequence[str | None]
                    ) -> list[str]:
        """The kept text of each page, as :meth:`label_batch` labels it."""
        parsed = [self.page(page) for page in pages]
        return [self.render(page, lines)
                for page, lines in zip(parsed, self.label_batch(parsed, sites), strict=True)]

    def _labels_batch(self, pages: list[Page], reasons: bool = True
                      ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per page: the label and the probability of each of its lines (a line joined
        into a paragraph by reflow gets the paragraph's); dropped lines are ``drop``
        without ``reasons``."""
        if not pages:
            return []
        reflowed = [reflow(page) for page in pages]
        features, kept_rows = pages_features([joined for joined, _ in reflowed])
        lengths = [len(kept) for kept in kept_rows]
        tokens = line_tokens([joined.lines[i] for (joined, _), kept in
                              zip(reflowed, kept_rows, strict=True) for i in kept])
        thresholds = np.repeat([self.html_body_threshold if page.kind == "html"
                                else self.body_threshold for page in pages], lengths)
        ancestors = pages_ancestors([joined for joined, _ in reflowed], kept_rows)
        labels, probability = self.model.predict(features, lengths, thresholds,
                                                 tokens=tokens, reasons=reasons,
                                                 empty_page_margin=self.empty_page_margin,
                                                 ancestors=ancestors,
                                                 html=np.array([page.kind == "html"
                                                                for page in pages]))
        results, offset = [], 0
        for (joined, owner), kept, length in zip(reflowed, kept_rows, lengths, strict=True):
            label_of = np.full(len(joined.lines), BLANK, dtype=object)
            probability_of = np.ones(len(joined.lines))
            label_of[kept] = labels[offset:offset + length]
            probability_of[kept] = probability[offset:offset + length]
            results.append((label_of[owner], probability_of[owner]))
            offset += length
        return results

    def _label_batch(self, pages: list[Page], reasons: bool = True) -> list[list[Line]]:
        return [[Line(*line) for line in zip(page.lines, labels.tolist(), probability.tolist(),
                                             strict=True)]
                for page, (labels, probability) in zip(pages,
                                                        self._labels_batch(pages, reasons),
                                                        strict=True)]

    def render(self, page: Page, lines: list[Line]) -> str:
        """Join the kept lines; in text pages a blank line between kept lines is kept too."""
        return self._join(page, [line.label for line in lines], [line.text for line in lines])

    def _join(self, page: Page, labels: list[str], texts: list[str] | None = None) -> str:
        """render() from the labels of ``texts`` (default: the page's lines)."""
        out: list[str] = []
        gap = False
        keep, text_page = self.keep, page.kind == "text"
        for text, label in zip(page.lines if texts is None else texts, labels, strict=True):
            if label == BLANK:
                gap = True
            elif label in keep:
                if gap and out and text_page:
                    out.append("")
                out.append(text)
                gap = False
            else:
                gap = False
        return "\n".join(out)


_default: Cleaner | None = None
_default_lock = threading.Lock()


def default_cleaner() -> Cleaner:
    """The shipped model, loaded once."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Cleaner()
        return _default


def clean(page: PageInput) -> str:
    """The body text of a page (plain text or HTML, str or bytes), using the shipped model.

    Bytes that are no page raise :class:`~cleaner.reader.InputError`."""
    return default_cleaner().clean(page)


def label(page: PageInput) -> list[Line]:
    """Every line of a page with its label and probability, using the shipped model."""
    return default_cleaner().label(page)
