"""A datatrove pipeline step: cleaner where datatrove's trafilatura extractor would go.

``pip install 'news-cleaner[datatrove]'``, then::

    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.readers import WarcReader
    from datatrove.pipeline.writers import JsonlWriter
    from cleaner.datatrove import CleanerExtractor

    LocalPipelineExecutor(pipeline=[WarcReader("crawl/"), CleanerExtractor(),
                                    JsonlWriter("cleaned/")], tasks=8, workers=2).run()

It keeps datatrove's extractor conventions: extraction runs in datatrove's
sandbox process with a timeout per document (``timeout``, 1 s by default), a
document whose extraction times out, kills the sandbox or raises is counted
(``timeout``, ``broken_process``, ``clean_error``) and skipped, and one that
comes back empty is counted as ``dropped`` and not passed on. What differs is
the cost that matters for a model: the model is loaded once per worker
process, before the sandbox starts (the sandbox is forked from it, so its
warm-up is instant and a restarted sandbox loads nothing), and documents go
through ``clean_many`` in batches of ``batch_size``, with a timeout of
``timeout`` per document in the batch. A batch that times out or dies is
retried one document at a time, so one bad page costs only itself. The
kept text replaces ``doc.text``; ``doc.metadata["cleaner_labels"]`` counts the
page's lines by label. Stat ``model_loads`` counts loads in the worker.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.extractors.base import BaseExtractor, ExtractorSandbox
from datatrove.utils.logging import logger
from datatrove.utils.typeshelper import StatHints

from cleaner import process_model
from cleaner.api import Cleaner
from cleaner.labels import BLANK, BODY
from cleaner.page import InputFormat
from cleaner.reader import InputError, Limits, load_text_page

#: (kept text, lines by label) for a page, or (None, reason) when it cannot be cleaned.
Result = tuple[str, dict[str, int]] | tuple[None, str]


class CleanerExtractor(BaseExtractor):
    """Replace each document's text (HTML by default) with the lines cleaner keeps.

    Args:
        model: model file (default: the shipped model, or ``$CLEANER_MODEL``).
        input_format: ``"html"`` (default), ``"text"`` for text a scraper or an
            earlier step already extracted, or None to detect it per document.
        keep: labels to keep (default: the body).
        timeout: seconds per document, as in datatrove's extractors.
        batch_size: documents per model call.
        limits: cleaner's page limits; a page over them is a ``clean_error``.
    """

    name = "🧹 cleaner"

    def __init__(self, model: str | Path | None = None, input_format: InputFormat | None = "html",
                 keep: Iterable[str] = (BODY,), timeout: float = 1, batch_size: int = 32,
                 limits: Limits | None = None) -> None:
        super().__init__(timeout)
        self.model = None if model is None else str(model)
        self.input_format = input_format
        self.keep = tuple(keep)
        self.batch_size = batch_size
        self.limits = limits or Limits()

    def _cleaner(self) -> Cleaner:
        return process_model.process_cleaner(self.model, self.keep, self.input_format)

    def extract(self, text: str) -> str:
        """One document, as datatrove's ``BaseExtractor`` defines it (``run`` batches)."""
        body, detail = self.clean_texts([text])[0]
        if body is None:
            raise InputError(detail)
        return body

    def clean_texts(self, texts: list[str]) -> list[Result]:
        """Clean a batch of texts with one model call; a page that fails costs only itself."""
        cleaner = self._cleaner()
        pages, results = [], []
        for text in texts:
            try:
                pages.append(load_text_page(text, self.limits, self.input_format))
                results.append(None)
            except InputError as error:
                results.append((None, str(error)))
        labelled = iter(cleaner.label_many(pages))
        page_iter = iter(pages)
        for index, result in enumerate(results):
            if result is None:
                page, lines = next(page_iter), next(labelled)
                counts = Counter(line.label for line in lines if line.label != BLANK)
                results[index] = (cleaner.render(page, lines), dict(counts))
        return results

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        loads, seconds = process_model.STATS.loads, process_model.STATS.seconds
        self._cleaner()  # in this process, before the sandbox is forked from it
        if process_model.STATS.loads > loads:
            logger.info(f"cleaner: model loaded in process {os.getpid()} in "
                        f"{process_model.STATS.seconds - seconds:.3f} s")
        self.stat_update("model_loads", value=process_model.STATS.loads - loads)
        with ExtractorSandbox(timeout=self.timeout, warmup_text=([],)) as sandbox:
            documents = iter(data)
            while batch := list(islice(documents, self.batch_size)):
                with self.track_time(unit="batch"):
                    results = self._in_sandbox(sandbox, batch)
                yield from self._pass_on(batch, results)

    def _in_sandbox(self, sandbox: ExtractorSandbox, batch: list[Document]) -> list[Result | str]:
        """Results for the batch; a document whose sandbox call failed gets the stat's name."""
        try:
            return self._call(sandbox, [doc.text for doc in batch])
        except (TimeoutError, EOFError) as error:
            if len(batch) == 1:
                return ["timeout" if isinstance(error, TimeoutError) else "broken_process"]
        except Exception as error:  # the step's own failure: the documents are skipped
            self._warn(error)
            return ["clean_error"] * len(batch)
        return [result for doc in batch for result in self._in_sandbox(sandbox, [doc])]

    def _call(self, sandbox: ExtractorSandbox, texts: list[str]) -> list[Result]:
        sandbox.timeout = self.timeout * len(texts)
        try:
            return sandbox.process_document((texts,), self.clean_texts)
        finally:
            sandbox.timeout = self.timeout

    def _pass_on(self, batch: list[Document], results: list[Result | str]) -> Iterator[Document]:
        for doc, result in zip(batch, results, strict=True):
            self.stat_update(StatHints.total)
            if isinstance(result, str):
                self.stat_update(result)
                logger.warning(f"cleaner: {result} on document {doc.id}; skipped")
                continue
            body, detail = result
            if body is None:
                self.stat_update("clean_error")
                self._warn(detail)
                continue
            self.stat_update("extracted")
            doc.text = body
            doc.metadata["cleaner_labels"] = detail
            if body:
                self.stat_update(StatHints.forwarded)
                self.update_doc_stats(doc)
                yield doc
            else:
                self.stat_update(StatHints.dropped)

    def _warn(self, error: object) -> None:
        if not self._warned_error:
            logger.warning(f'❌ Error "{error}" while cleaning record text. Skipping record. '
                           "This message will only appear once.")
            self._warned_error = True
