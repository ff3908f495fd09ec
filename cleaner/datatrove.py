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

Site template (the model card's rule 89, as ``cleaner clean --sites``) takes two
pipelines over the same text documents (Common Crawl's WET records, say), in the
way datatrove's deduplication does: :class:`SiteSurvey` writes what each task saw
(a row per distinct line: 24 bytes; the extractor wants every task's file), then
``CleanerExtractor(site_template=...)`` merges the survey once per worker process
and drops, from each text page, the unsure body lines that recur on another
article of its site (the host of the document's ``url``, as datatrove's readers
keep it)::

    LocalPipelineExecutor(pipeline=[WarcReader("wet/"), SiteSurvey("sites/")],
                          tasks=8, workers=2).run()
    LocalPipelineExecutor(pipeline=[WarcReader("wet/"),
                                    CleanerExtractor(input_format="text",
                                                     site_template="sites/"),
                                    JsonlWriter("cleaned/")], tasks=8, workers=2).run()
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path

import numpy as np
from datatrove.data import Document, DocumentsPipeline
from datatrove.io import DataFolder, DataFolderLike, get_datafolder
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.extractors.base import BaseExtractor, ExtractorSandbox
from datatrove.utils.logging import logger
from datatrove.utils.typeshelper import StatHints

from cleaner import process_model, site_memory
from cleaner.api import Cleaner
from cleaner.labels import BLANK, BODY
from cleaner.page import InputFormat
from cleaner.reader import InputError, Limits, load_text_page
from cleaner.record_run import url_site

#: (kept text, lines by label) for a page, or (None, reason) when it cannot be cleaned.
Result = tuple[str, dict[str, int]] | tuple[None, str]

#: The file of a survey task's :data:`site_memory.Spread`; naming the task count lets
#: the extractor tell a whole survey from one with a failed task or stale files.
SURVEY_FILE = "{rank:05d}-of-{world_size:05d}.sites.npz"
SURVEY_NAME = re.compile(r"(\d{5})-of-(\d{5})\.sites\.npz")


def document_site(doc: Document) -> str | None:
    """A document's site: the host of its ``url`` (without ``www.``), else None."""
    return url_site(doc.metadata)


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
        site_template: the folder a :class:`SiteSurvey` of these documents wrote, to
            drop site template from their text pages (needs ``input_format`` "text" or
            None); ``site`` names a document's site as the survey's did.
    """

    name = "🧹 cleaner"

    def __init__(self, model: str | Path | None = None, input_format: InputFormat | None = "html",
                 keep: Iterable[str] = (BODY,), timeout: float = 1, batch_size: int = 32,
                 limits: Limits | None = None, site_template: DataFolderLike | None = None,
                 site: Callable[[Document], str | None] = document_site) -> None:
        super().__init__(timeout)
        if site_template is not None and input_format == "html":
            raise ValueError("site_template drops template from text pages only: give "
                             'input_format="text" (or None to detect it per document)')
        self.model = None if model is None else str(model)
        self.input_format = input_format
        self.keep = tuple(keep)
        self.batch_size = batch_size
        self.limits = limits or Limits()
        self.site_template = None if site_template is None else get_datafolder(site_template)
        self.site = site
        self.template: np.ndarray | None = None

    def _cleaner(self) -> Cleaner:
        return process_model.process_cleaner(self.model, self.keep, self.input_format)

    def extract(self, text: str) -> str:
        """One document, as datatrove's ``BaseExtractor`` defines it (``run`` batches)."""
        body, detail = self.clean_texts([text])[0]
        if body is None:
            raise InputError(detail)
        return body

    def clean_texts(self, texts: list[str], sites: list[str | None] | None = None
                    ) -> list[Result]:
        """Clean a batch of texts with one model call; a page that fails costs only itself.
        With the site template loaded, text pages whose site is given lose it."""
        cleaner = self._cleaner()
        sites = sites or [None] * len(texts)
        pages, results = [], []
        for text in texts:
            try:
                pages.append(load_text_page(text, self.limits, self.input_format))
                results.append(None)
            except InputError as error:
                results.append((None, str(error)))
        labelled = iter(cleaner.label_many(pages))
        page_iter = iter(pages)
        for index, (result, site) in enumerate(zip(results, sites, strict=True)):
            if result is None:
                page, lines = next(page_iter), next(labelled)
                lines = site_memory.drop_recurring(lines, page.kind, site, self.template)
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
        if self.site_template is not None:
            self.template = _process_template(self.site_template)
        with ExtractorSandbox(timeout=self.timeout, warmup_text=([],)) as sandbox:
            documents = iter(data)
            while batch := list(islice(documents, self.batch_size)):
                with self.track_time(unit="batch"):
                    results = self._in_sandbox(sandbox, batch)
                yield from self._pass_on(batch, results)

    def _in_sandbox(self, sandbox: ExtractorSandbox, batch: list[Document]) -> list[Result | str]:
        """Results for the batch; a document whose sandbox call failed gets the stat's name."""
        try:
            return self._call(sandbox, batch)
        except (TimeoutError, EOFError) as error:
            if len(batch) == 1:
                return ["timeout" if isinstance(error, TimeoutError) else "broken_process"]
        except Exception as error:  # the step's own failure: the documents are skipped
            self._warn(error)
            return ["clean_error"] * len(batch)
        return [result for doc in batch for result in self._in_sandbox(sandbox, [doc])]

    def _call(self, sandbox: ExtractorSandbox, batch: list[Document]) -> list[Result]:
        sandbox.timeout = self.timeout * len(batch)
        texts = [doc.text for doc in batch]
        sites = None if self.template is None else [self.site(doc) for doc in batch]
        try:
            return sandbox.process_document((texts, sites), self.clean_texts)
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


class SiteSurvey(PipelineStep):
    """The first pipeline of site template: label each text document and write, per
    task, each distinct line's hash with the smallest and largest hash of the articles
    it appears on (:data:`site_memory.Spread`) to ``output_folder``. Documents are not
    passed on; ``CleanerExtractor(site_template=output_folder)`` reads the files.

    Args:
        output_folder: where each task writes its ``RANK-of-TASKS.sites.npz``.
        model, input_format, batch_size, limits: as :class:`CleanerExtractor`'s (give the
            same model and input format to both).
        site: a document's site (default: the host of its ``url``); None leaves it out.
    """

    type = "🧹 cleaner"
    name = "🗺️ site survey"

    def __init__(self, output_folder: DataFolderLike, model: str | Path | None = None,
                 input_format: InputFormat | None = "text", batch_size: int = 32,
                 limits: Limits | None = None,
                 site: Callable[[Document], str | None] = document_site) -> None:
        super().__init__()
        if input_format == "html":
            raise ValueError("the site survey reads text pages only: give "
                             'input_format="text" (or None to detect it per document)')
        self.output_folder = get_datafolder(output_folder)
        self.model = None if model is None else str(model)
        self.input_format = input_format
        self.batch_size = batch_size
        self.limits = limits or Limits()
        self.site = site

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> None:
        """Survey this task's documents (the pipeline's last step, as dedup signatures)."""
        cleaner = process_model.process_cleaner(self.model, (BODY,), self.input_format)
        spreads = []
        documents = iter(data)
        while batch := list(islice(documents, self.batch_size)):
            with self.track_time(unit="batch"):
                spreads.append(site_memory.spread(self._traces(cleaner, batch)))
            if len(spreads) >= 64:  # a task's memory: one row per distinct line
                spreads = [site_memory.merge_spreads(spreads)]
        lines, lowest, highest = site_memory.merge_spreads(spreads)
        name = SURVEY_FILE.format(rank=rank, world_size=world_size)
        with self.output_folder.open(name, "wb") as out:
            np.savez(out, lines=lines, lowest=lowest, highest=highest)

    def _traces(self, cleaner: Cleaner, batch: list[Document]) -> list[site_memory.Trace]:
        chosen = []
        for doc in batch:
            self.stat_update(StatHints.total)
            site = self.site(doc)
            if site is None:
                self.stat_update("no_site")
                continue
            try:
                page = load_text_page(doc.text, self.limits, self.input_format)
            except InputError:
                self.stat_update("clean_error")  # the extractor meets it and says why
                continue
            if page.kind != "text":
                self.stat_update("not_text")
                continue
            chosen.append((page, site))
        labelled = cleaner.label_each([page for page, _ in chosen], reasons=False)
        traces = []
        for (_, site), lines in zip(chosen, labelled, strict=True):
            if isinstance(lines, Exception):
                self.stat_update("clean_error")
                continue
            self.stat_update("traced")
            traces.append(site_memory.trace(lines, site))
        return traces


_templates: dict[tuple, np.ndarray] = {}


def _process_template(folder: DataFolder) -> np.ndarray:
    """The recurring line hashes of the survey in ``folder``, merged once per process
    (again if the survey's files change)."""
    names = _survey_files(folder)
    key = (folder.fs.protocol, folder.path, *((name, folder.size(name)) for name in names))
    if key not in _templates:
        _templates.clear()
        _templates[key] = site_memory.recurring_in(
            site_memory.merge_spreads(_read_spread(folder, name) for name in names))
        logger.info(f"cleaner: site template of {len(_templates[key])} lines from "
                    f"{len(names)} survey files in {folder.path}")
    return _templates[key]


def _survey_files(folder: DataFolder) -> list[str]:
    """The files of one whole survey: one per task, every task's there."""
    names = folder.list_files(glob_pattern="*.sites.npz")
    if not names:
        raise FileNotFoundError(f"{folder.path}: no *.sites.npz files; run SiteSurvey "
                                "on the same documents first")
    tasks: dict[int, set[int]] = {}
    for name in names:
        found = SURVEY_NAME.fullmatch(os.path.basename(name))
        if found is None:
            raise ValueError(f"{name}: not a site survey file (SiteSurvey writes "
                             "RANK-of-TASKS.sites.npz)")
        tasks.setdefault(int(found[2]), set()).add(int(found[1]))
    if len(tasks) > 1:
        raise ValueError(f"{folder.path}: files of surveys run as {sorted(tasks)} tasks; "
                         "a folder holds one survey")
    ((count, ranks),) = tasks.items()
    if missing := sorted(set(range(count)) - ranks):
        raise ValueError(f"{folder.path}: the survey of {count} tasks is missing task(s) "
                         f"{missing}, which failed or have not run; run SiteSurvey again")
    return names


def _read_spread(folder: DataFolder, name: str) -> site_memory.Spread:
    """One survey file, read as plain arrays (never pickles), checked for shape."""
    if not folder.isfile(name):  # a FIFO would hang the read
        raise ValueError(f"{name}: not a site survey file (not a regular file)")
    with folder.open(name, "rb") as file:
        try:
            with np.load(file, allow_pickle=False) as arrays:
                columns = tuple(arrays[key] for key in ("lines", "lowest", "highest"))
        except (OSError, ValueError, KeyError) as error:
            raise ValueError(f"{name}: not a site survey file ({error})") from error
    if any(column.dtype != np.uint64 or column.ndim != 1 or len(column) != len(columns[0])
           for column in columns):
        raise ValueError(f"{name}: not a site survey file (three uint64 columns of one "
                         "length expected)")
    return columns
