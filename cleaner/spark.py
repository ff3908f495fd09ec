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
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pandas as pd

from cleaner import process_model
from cleaner.labels import BODY
from cleaner.page import InputFormat

#: The columns ``diagnostics=True`` adds.
DIAGNOSTIC_COLUMNS = ("cleaner_pid", "cleaner_model_loads", "cleaner_load_seconds")


def clean_series(texts: pd.Series, model: str | Path | None = None,
                 keep: Iterable[str] = (BODY,),
                 input_format: InputFormat | None = None) -> pd.Series:
    """The kept text of each page in the series (str or bytes); nulls stay null."""
    cleaner = process_model.process_cleaner(model, keep, input_format)
    present = texts.notna()
    cleaned = pd.Series([None] * len(texts), index=texts.index, dtype=object)
    if present.any():
        cleaned[present] = list(cleaner.clean_many(texts[present].tolist()))
    return cleaned


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
                  diagnostics: bool = False
                  ) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """A ``mapInPandas`` function: each batch with ``output`` (the kept text of ``column``)
    added, and with ``diagnostics`` the process columns (see the module docstring)."""
    model = None if model is None else str(model)
    keep = tuple(keep)

    def clean(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            batch = batch.copy()
            batch[output] = clean_series(batch[column], model, keep, input_format)
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
