"""A whole Spark job: pages in (JSONL or Parquet), cleaned, Parquet out.

    spark-submit examples/spark_clean.py pages.jsonl cleaned.parquet --column html

Every input column is kept and ``body`` (``--output``) is added. Each
executor needs cleaner installed (``pip install 'news-cleaner[spark]'``); the
model is loaded once per Python worker process, on its first batch.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cleaner.spark import clean_batches, output_schema


def run(spark, source: str, target: str, column: str = "html", output: str = "body",
        input_format: str | None = None, model: str | None = None) -> None:
    """Read ``source``, clean ``column`` into ``output``, write ``target`` (never over one)."""
    read = spark.read.parquet if source.rstrip("/").endswith(".parquet") else spark.read.json
    pages = read(source)
    cleaned = pages.mapInPandas(clean_batches(column, output, model, input_format=input_format),
                                output_schema(pages.schema, output))
    cleaned.write.mode("errorifexists").parquet(target)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="JSONL file or folder, or a .parquet file or folder")
    parser.add_argument("target", help="Parquet folder to write (must not exist)")
    parser.add_argument("--column", default="html", help="column holding the pages")
    parser.add_argument("--output", default="body", help="column to write the kept text to")
    parser.add_argument("--input-format", choices=("html", "text"), help="default: detect")
    parser.add_argument("--model", help="model file on every executor (default: shipped)")
    args = parser.parse_args(argv)

    from pyspark.sql import SparkSession

    spark = SparkSession.builder.appName("cleaner").getOrCreate()
    try:
        run(spark, args.source, args.target, args.column, args.output, args.input_format,
            args.model)
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
