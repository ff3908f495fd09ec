"""Spark local mode against ``cleaner clean --jobs N`` on the same pages, and the start-up
cost of a Spark Python worker (process start, imports, model load).

    python examples/spark_bench.py ../shared/data/dragnet/html --pages 600 --cores 2

Pages (``.html`` or ``.html.gz``) are unpacked into a temporary folder first, so
both sides read the same plain files. Each side runs twice; the second Spark
run reuses the warm Python workers, as a long job does after its first tasks.
"""

from __future__ import annotations

import argparse
import gzip
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def unpack(source: Path, count: int, target: Path) -> int:
    files = sorted(path for path in source.iterdir() if path.name.endswith((".html", ".html.gz")))
    for path in files[:count]:
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        (target / path.name.removesuffix(".gz")).write_bytes(data)
    return min(count, len(files))


def time_cli(pages: Path, cores: int, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cleaner.cli", "clean", str(pages), "-o", str(out),
                    "--jobs", str(cores), "--overwrite"], check=True, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def time_spark(spark, pages: Path, partitions: int) -> tuple[float, list]:
    from cleaner.spark import DIAGNOSTIC_COLUMNS, clean_batches, output_schema

    start = time.perf_counter()
    df = spark.read.format("binaryFile").load(str(pages)).select("path", "content")
    df = df.repartition(partitions)
    cleaned = df.mapInPandas(clean_batches("content", diagnostics=True),
                             output_schema(df.schema, diagnostics=True))
    stats = cleaned.groupBy(*DIAGNOSTIC_COLUMNS).count().collect()
    return time.perf_counter() - start, stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("--pages", type=int, default=600)
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    with tempfile.TemporaryDirectory() as temp:
        pages, out = Path(temp) / "pages", Path(temp) / "out"
        pages.mkdir()
        count = unpack(args.source, args.pages, pages)
        for run in (1, 2):
            seconds = time_cli(pages, args.cores, out)
            print(f"cleaner clean --jobs {args.cores}, run {run}: {count} pages in "
                  f"{seconds:.1f} s = {count / seconds:.1f} pages/s (start-up included)")

        from pyspark.sql import SparkSession

        start = time.perf_counter()
        spark = (SparkSession.builder.master(f"local[{args.cores}]")
                 .config("spark.ui.enabled", "false")
                 .config("spark.driver.host", "127.0.0.1").getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        print(f"Spark session start: {time.perf_counter() - start:.1f} s")
        tiny = Path(temp) / "one"
        tiny.mkdir()
        unpack(args.source, 1, tiny)
        start = time.perf_counter()  # the JVM's first job, with no Python worker
        spark.read.format("binaryFile").load(str(tiny)).repartition(args.cores).count()
        print(f"Spark, 1 page, first job, JVM only: {time.perf_counter() - start:.2f} s")
        for label in ("cold (new Python workers)", "warm (workers reused)"):
            seconds, _ = time_spark(spark, tiny, args.cores)
            print(f"Spark, 1 page, {label}: {seconds:.2f} s")
        for run in (1, 2):
            seconds, stats = time_spark(spark, pages, args.cores * 4)
            loads = ", ".join(f"pid {row[0]}: {row[1]} load(s) in {row[2]:.3f} s, "
                              f"{row[3]} pages" for row in sorted(stats))
            print(f"Spark local[{args.cores}], run {run}: {count} pages in {seconds:.1f} s = "
                  f"{count / seconds:.1f} pages/s; {loads}")
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
