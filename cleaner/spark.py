"""Spark: clean a column of HTML or text, one model per executor process.

``pip install 'news-cleaner[spark]'``, then either a pandas UDF::

    from cleaner.spark import clean_udf
    df = df.withColumn("body", clean_udf()("html"))

or a ``mapInPandas`` function, which also takes the whole batch at once::

    from cleaner.spark import clean_batches, output_schema
    df = df.mapInPandas(clean_batches("html", "body"), output_schema(df.schema, "body"))

Both call ``clean_many`` once per Arrow batch. The model lives in a module
(:mod:`cleaner.process_model`), not in the function Spark pickles, so a
Python worker loads it on its first batch and reuses it for every later
batch and task (Spark reuses Python workers by default). A model held in a
driver script's global is pickled with the function and loaded again for
every partition. ``model`` None is each executor's own default model.
``diagnostics=True`` adds three columns per row (the worker's process id, its
model loads so far and their seconds), which is how the loads are measured.
See ``examples/spark_clean.py`` for a whole job.

Site template (as ``cleaner clean --sites``): :func:`site_template` surveys the
text pages of a DataFrame whose ``site_column`` names each page's site and
finds, by a group-by across the cluster, the lines that recur on two or more
articles of a site; ``clean_batches(..., site_column=..., template=...)`` then
drops them where the model was unsure. Every text page is labelled twice.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from cleaner import process_model, site_memory
from cleaner.labels import BODY
from cleaner.page import InputFormat

#: The columns ``diagnostics=True`` adds.
DIAGNOSTIC_COLUMNS = ("cleaner_pid", "cleaner_model_loads", "cleaner_load_seconds")


def clean_series(texts: pd.Series, model: str | Path | None = None,
                 keep: Iterable[str] = (BODY,),
                 input_format: InputFormat | None = None, sites: pd.Series | None = None,
                 template: np.ndarray | None = None) -> pd.Series:
    """The kept text of each page in the series (str or bytes); nulls stay null. With
    ``sites`` and a ``template`` (:func:`site_template`), the template lines of text
    pages whose site is given are dropped (see :mod:`cleaner.site_memory`)."""
    cleaner = process_model.process_cleaner(model, keep, input_format)
    present = texts.notna()
    cleaned = pd.Series([None] * len(texts), index=texts.index, dtype=object)
    if not present.any():
        return cleaned
    if sites is None or template is None:
        cleaned[present] = list(cleaner.clean_many(texts[present].tolist()))
        return cleaned
    pages = [cleaner.page(text) for text in texts[present].tolist()]
    bodies = []
    for page, lines, site in zip(pages, cleaner.label_many(pages), sites[present].tolist(),
                                 strict=True):
        lines = site_memory.drop_recurring(lines, page.kind, _site(site), template)
        bodies.append(cleaner.render(page, lines))
    cleaned[present] = bodies
    return cleaned


def _site(value: object) -> str | None:
    """A site column's value, nulls (None or NaN, as pandas gives them) as None."""
    return value if isinstance(value, str) else None


def _trace_batches(column: str, site_column: str, model: str | None,
                   input_format: InputFormat | None
                   ) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """A ``mapInPandas`` function: a (line, article) row per distinct line of each text
    page with a site, the hashes as Spark's signed longs."""
    def trace(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        cleaner = process_model.process_cleaner(model, (BODY,), input_format)
        for batch in batches:
            rows = batch[batch[column].notna() & batch[site_column].notna()]
            pages = [(cleaner.page(text), site) for text, site
                     in zip(rows[column].tolist(), rows[site_column].tolist(), strict=True)]
            pages = [(page, site) for page, site in pages
                     if site_memory.takes_part(page.kind, _site(site))]
            line_hashes, article_hashes = [np.zeros(0, np.uint64)], [np.zeros(0, np.uint64)]
            labelled = cleaner.label_each([page for page, _ in pages], reasons=False)
            for (_, site), lines in zip(pages, labelled, strict=True):
                if isinstance(lines, Exception):
                    continue  # as in the command line's survey: the clean pass meets it
                hashes, article = site_memory.trace(lines, site)
                line_hashes.append(hashes)
                article_hashes.append(np.full(len(hashes), article, dtype=np.uint64))
            yield pd.DataFrame({"line": np.concatenate(line_hashes).view(np.int64),
                                "article": np.concatenate(article_hashes).view(np.int64)})
    return trace


def site_template(df, column: str, site_column: str, model: str | Path | None = None,
                  input_format: InputFormat | None = None) -> np.ndarray:
    """The hashes of the lines that recur on two or more articles of a site, over every
    text page of ``df`` whose ``site_column`` is set: the ``template`` of
    :func:`clean_batches`. The grouping runs on the cluster; only the template (8 bytes a
    line) comes back to the driver."""
    from pyspark.sql import functions

    model = None if model is None else str(model)
    traces = df.select(column, site_column).mapInPandas(
        _trace_batches(column, site_column, model, input_format), "line long, article long")
    recurring = (traces.groupBy("line").agg(functions.countDistinct("article").alias("articles"))
                 .where("articles >= 2").select("line"))
    lines = np.array([row.line for row in recurring.collect()], dtype=np.int64)
    return np.sort(lines.view(np.uint64))


def clean_udf(model: str | Path | None = None, keep: Iterable[str] = (BODY,),
              input_format: InputFormat | None = None):
    """A pandas UDF (string column in, string column out) that cleans each page."""
    from pyspark.sql.functions import pandas_udf

    model = None if model is None else str(model)
    keep = tuple(keep)

    @pandas_udf("string")
    def clean(texts: pd.Series) -> pd.Series:
        return clean_series(texts, model, keep, input_format)

    return clean


def clean_batches(column: str, output: str = "body", model: str | Path | None = None,
                  keep: Iterable[str] = (BODY,), input_format: InputFormat | None = None,
                  diagnostics: bool = False, site_column: str | None = None,
                  template: np.ndarray | None = None
                  ) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """A ``mapInPandas`` function: each batch with ``output`` (the kept text of ``column``)
    added, and with ``diagnostics`` the process columns (see the module docstring). With
    ``site_column`` and the ``template`` :func:`site_template` found, site template is
    dropped from text pages."""
    if (site_column is None) != (template is None):
        raise ValueError("site_column and template go together (template: site_template())")
    model = None if model is None else str(model)
    keep = tuple(keep)

    def clean(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            batch = batch.copy()
            batch[output] = clean_series(
                batch[column], model, keep, input_format,
                None if site_column is None else batch[site_column], template)
            if diagnostics:
                stats = process_model.STATS
                batch[DIAGNOSTIC_COLUMNS[0]] = os.getpid()
                batch[DIAGNOSTIC_COLUMNS[1]] = stats.loads
                batch[DIAGNOSTIC_COLUMNS[2]] = stats.seconds
            yield batch

    return clean


def output_schema(schema, output: str = "body", diagnostics: bool = False):
    """The schema ``clean_batches`` yields for an input of ``schema``."""
    from pyspark.sql.types import DoubleType, LongType, StringType, StructField, StructType

    fields = [*schema.fields, StructField(output, StringType(), True)]
    if diagnostics:
        fields += [StructField(DIAGNOSTIC_COLUMNS[0], LongType(), False),
                   StructField(DIAGNOSTIC_COLUMNS[1], LongType(), False),
                   StructField(DIAGNOSTIC_COLUMNS[2], DoubleType(), False)]
    return StructType(fields)
