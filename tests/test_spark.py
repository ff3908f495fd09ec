"""cleaner.spark in Spark local mode: the same output as cleaner.clean, one model load
per Python worker process."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
from collections import defaultdict
from pathlib import Path

import pytest

import cleaner
from tests.conftest import FIXTURES, PAGES, REPO

pytest.importorskip("pyspark",
                    reason="PySpark is not installed (pip install 'news-cleaner[spark]')")
if shutil.which("java") is None:
    pytest.skip("no Java runtime (.ci/run installs default-jre-headless)",
                allow_module_level=True)

from cleaner.spark import (  # noqa: E402
    DIAGNOSTIC_COLUMNS,
    clean_batches,
    clean_udf,
    output_schema,
    site_template,
)
from tests.test_cli_sites import SHARED, STORIES, text_page  # noqa: E402


def pages() -> list[str]:
    """HTML fixtures and the seed pages as plain text: both kinds, detected per page."""
    found = [path.read_text("utf-8") for path in sorted(PAGES.rglob("*")) if path.is_file()]
    found += [path.read_text("utf-8") for path in sorted((FIXTURES / "seeds").glob("*.txt"))]
    return found


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    environment = {"PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable,
                   # the executors import this checkout's cleaner, as the driver does
                   "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO),
                                                               os.environ.get("PYTHONPATH")]))}
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    session = (SparkSession.builder.master("local[2]").appName("cleaner-test")
               .config("spark.ui.enabled", "false")
               .config("spark.driver.host", "127.0.0.1")
               .config("spark.driver.bindAddress", "127.0.0.1")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.sql.execution.arrow.maxRecordsPerBatch", "4")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def frame(spark, count: int):
    texts = pages()
    rows = [(number, texts[number % len(texts)]) for number in range(count)]
    return spark.createDataFrame(rows + [(count, None)], "id long, page string")


def test_pandas_udf_equals_clean(spark) -> None:
    result = frame(spark, 12).withColumn("body", clean_udf()("page")).collect()
    assert len(result) == 13
    for row in result:
        assert row.body == (None if row.page is None else cleaner.clean(row.page))


def test_map_in_pandas_loads_the_model_once_per_process(spark) -> None:
    df = frame(spark, 48).repartition(4, "id")
    out = df.mapInPandas(clean_batches("page", diagnostics=True),
                         output_schema(df.schema, diagnostics=True)).collect()
    assert len(out) == 49
    for row in out:
        assert row.body == (None if row.page is None else cleaner.clean(row.page))
    # 4 partitions of about 12 rows in batches of 4 rows: 12 or more batches in all
    loads = defaultdict(set)
    for row in out:
        loads[row[DIAGNOSTIC_COLUMNS[0]]].add(row[DIAGNOSTIC_COLUMNS[1]])
    assert all(seen == {1} for seen in loads.values()), dict(loads)
    assert len(loads) <= 4  # processes, not partitions or batches, load the model


def test_site_template_drops_what_clean_batch_drops(spark) -> None:
    """The survey's group-by on the cluster and the drop in the executors give what the
    API's clean_batch gives with the shipped model, which keeps the shared line below
    the gate on some of these pages."""
    texts = [text_page(story) for story in STORIES]
    rows = [(number, text, "x.com") for number, text in enumerate(texts)]
    rows += [(9, texts[0], None), (10, None, "x.com")]  # no site: alone; no page: null
    df = spark.createDataFrame(rows, "id long, page string, site string").repartition(3, "id")
    template = site_template(df, "page", "site")
    out = df.mapInPandas(clean_batches("page", site_column="site", template=template),
                         output_schema(df.schema)).collect()
    body = {row.id: row.body for row in out}
    expected = cleaner.Cleaner().clean_batch(texts, ["x.com"] * len(texts))
    assert [body[number] for number in range(len(texts))] == expected
    assert body[9] == cleaner.clean(texts[0]) and body[10] is None
    assert sum(SHARED in cleaner.clean(text) for text in texts) > \
        sum(SHARED in text for text in expected)
    with pytest.raises(ValueError, match="go together"):
        clean_batches("page", site_column="site")


@pytest.mark.skipif(importlib.util.find_spec("pyarrow") is None, reason="pyarrow missing")
def test_example_job_reads_jsonl_and_writes_parquet(spark, tmp_path: Path) -> None:
    import pandas as pd

    sys.path.insert(0, str(REPO / "examples"))
    try:
        import spark_clean
    finally:
        sys.path.remove(str(REPO / "examples"))
    texts = pages()
    with open(tmp_path / "pages.jsonl", "w", encoding="utf-8") as out:
        for number, text in enumerate(texts):
            out.write(json.dumps({"url": f"https://example.org/{number}", "html": text}) + "\n")
    spark_clean.run(spark, str(tmp_path / "pages.jsonl"), str(tmp_path / "cleaned.parquet"))
    written = pd.read_parquet(tmp_path / "cleaned.parquet").sort_values("url")
    expected = {f"https://example.org/{n}": cleaner.clean(text) for n, text in enumerate(texts)}
    assert dict(zip(written["url"], written["body"], strict=True)) == expected
    with pytest.raises(Exception, match="already exists"):  # never over an earlier output
        spark_clean.run(spark, str(tmp_path / "pages.jsonl"), str(tmp_path / "cleaned.parquet"))
