"""Record files: JSONL, WARC and WET in, JSONL out; one record in gives one record out."""

from __future__ import annotations

import gzip
import io
import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
import zstandard
from conftest import PAGES, cli_command, subprocess_env, tree
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from cleaner import Cleaner, LineModel

HTML = (PAGES / "bakery.html").read_text(encoding="utf-8")
TEXT = (PAGES / "harbour.txt").read_text(encoding="utf-8")


def write_jsonl(path: Path, records: list[object | str]) -> Path:
    lines = "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)
    data = lines.encode()
    if path.suffix == ".gz":
        data = gzip.compress(data)
    elif path.suffix == ".zst":
        data = zstandard.ZstdCompressor().compress(data)
    path.write_bytes(data)
    return path


def read_jsonl(path: Path) -> list[dict]:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    elif path.suffix == ".zst":
        data = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)).read()
    return [json.loads(line) for line in data.decode().splitlines()]


RECORDS = [
    {"id": 1, "url": "https://example.org/bakery", "html": HTML},
    {"id": 2, "text": TEXT, "source": "scraper"},
    "this line is not JSON",
    {"id": 4, "html": "\x00\x01\x02\x03" * 50},
    {"id": 5, "other": "no page field"},
]


@pytest.mark.parametrize("suffix", ["", ".gz", ".zst"])
def test_jsonl_records_in_order_fields_kept_bad_ones_flagged(cli, tiny_model: LineModel,
                                                             tmp_path: Path, suffix: str) -> None:
    source = write_jsonl(tmp_path / f"in.jsonl{suffix}", RECORDS)
    result = cli(source, "-o", tmp_path / f"out.jsonl{suffix}", "--label-counts")
    assert result.code == 1
    out = read_jsonl(tmp_path / f"out.jsonl{suffix}")
    assert len(out) == len(RECORDS)
    tiny = Cleaner(tiny_model)
    first, second, not_json, binary, no_field = out
    assert first["id"] == 1 and first["html"] == HTML and "error" not in first
    assert first["text"] == tiny.clean(HTML)
    assert first["url"] == "https://example.org/bakery"  # the record's own field wins
    assert (first["title"], first["date"], first["language"]) == (
        "Old bakery reopens after the flood", "2024-05-03", "en")
    assert sum(first["label_counts"].values()) == len(HTML and tiny.page(HTML).lines)
    assert second == {"id": 2, "text": tiny.clean(TEXT), "source": "scraper",
                      "label_counts": second["label_counts"]}
    assert not_json["input"] == "this line is not JSON" and not_json["error"].startswith(
        "not JSON")
    assert binary["id"] == 4 and binary["error"].startswith("binary file (")
    assert no_field["error"] == "no string field html or text or content or raw_content"
    assert result.stderr.startswith("cleaner: 2 records done, 3 failed (error field)")


def test_field_output_field_and_explain(cli, tiny_model: LineModel, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [{"page": TEXT}])
    result = cli(source, "-o", tmp_path / "out.jsonl", "--field", "page",
                 "--output-field", "body", "--explain")
    assert result.code == 0, result.stderr
    (record,) = read_jsonl(tmp_path / "out.jsonl")
    assert record["page"] == TEXT and record["body"] == Cleaner(tiny_model).clean(TEXT)
    labels = Cleaner(tiny_model).label(TEXT)
    assert record["lines"] == [[line.label, line.text] for line in labels]


def test_standard_output_with_dash(cli, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [{"text": TEXT}, {"text": TEXT}])
    result = cli(source, "-o", "-")
    assert result.code == 0
    assert [json.loads(line)["text"] for line in result.stdout.splitlines()] == [
        json.loads(result.stdout.splitlines()[0])["text"]] * 2
    assert tree(tmp_path) == {"in.jsonl": source.read_bytes()}


def test_two_jobs_give_the_same_output_as_one(cli, tmp_path: Path) -> None:
    records = [{"id": i, "text": TEXT if i % 3 else HTML} for i in range(300)]
    source = write_jsonl(tmp_path / "in.jsonl.gz", records)
    assert cli(source, "-o", tmp_path / "one.jsonl", "--jobs", "1").code == 0
    assert cli(source, "-o", tmp_path / "two.jsonl", "--jobs", "2").code == 0
    one = (tmp_path / "one.jsonl").read_bytes()
    assert one == (tmp_path / "two.jsonl").read_bytes()
    assert [record["id"] for record in read_jsonl(tmp_path / "two.jsonl")] == list(range(300))


def test_existing_output_and_missing_input_are_refused_before_anything_is_written(
        cli, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [{"text": TEXT}])
    (tmp_path / "out.jsonl").write_text("keep me")
    result = cli(source, "-o", tmp_path / "out.jsonl")
    assert result.code == 2 and "output exists" in result.stderr
    assert (tmp_path / "out.jsonl").read_text() == "keep me"
    assert cli(source, "-o", tmp_path / "out.jsonl", "--overwrite").code == 0
    assert read_jsonl(tmp_path / "out.jsonl")[0]["text"]
    result = cli(tmp_path / "missing.jsonl", "-o", tmp_path / "new" / "out.jsonl")
    assert result.code == 2 and "no such file" in result.stderr
    assert not (tmp_path / "new").exists()


def test_a_corrupt_input_leaves_no_output_file(cli, tmp_path: Path) -> None:
    whole = gzip.compress("".join(json.dumps({"text": TEXT}) + "\n"
                                  for _ in range(200)).encode())
    source = tmp_path / "in.jsonl.gz"
    source.write_bytes(whole[: len(whole) // 2])
    result = cli(source, "-o", tmp_path / "out" / "out.jsonl")
    assert result.code == 1 and "no output written" in result.stderr
    assert list((tmp_path / "out").iterdir()) == []


def test_a_record_file_inside_a_directory_is_refused_not_glued(cli, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    write_jsonl(inputs / "corpus.data", [{"text": TEXT}, {"text": TEXT}])
    (inputs / "crawl.warc").write_bytes(_warc([_response("https://a.example/", 200, HTML)]))
    result = cli(inputs, "-o", tmp_path / "out")
    assert result.code == 1
    assert sorted(result.messages) == [
        f"cleaner: {inputs}/corpus.data: JSONL file: it holds records, not one page; give it "
        "alone as PATH with -o OUTPUT.jsonl",
        f"cleaner: {inputs}/crawl.warc: WARC file: it holds records, not one page; give it "
        "alone as PATH with -o OUTPUT.jsonl"]


# --------------------------------------------------------------------------- WARC and WET


def _response(url: str, status: int, body: str, content_type: str = "text/html; charset=utf-8"):
    def write(writer: WARCWriter):
        http = StatusAndHeaders(f"{status} X", [("Content-Type", content_type)],
                                protocol="HTTP/1.1")
        return writer.create_warc_record(url, "response", payload=io.BytesIO(body.encode()),
                                         http_headers=http)
    return write


def _conversion(url: str, text: str):
    def write(writer: WARCWriter):
        return writer.create_warc_record(url, "conversion", payload=io.BytesIO(text.encode()),
                                         warc_content_type="text/plain")
    return write


def _warc(makers, gzip_records: bool = False) -> bytes:
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=gzip_records)
    for make in makers:
        writer.write_record(make(writer))
    return buffer.getvalue()


def test_warc_html_responses_become_records_others_are_skipped_and_counted(
        cli, tiny_model: LineModel, tmp_path: Path) -> None:
    source = tmp_path / "crawl.warc.gz"
    source.write_bytes(_warc([
        _response("https://a.example/news", 200, HTML),
        _response("https://a.example/logo.png", 200, "PNG", "image/png"),
        _response("https://a.example/gone", 404, HTML),
        _response("https://a.example/text", 200, TEXT, "text/html"),
    ], gzip_records=True))
    result = cli(source, "-o", tmp_path / "out.jsonl")
    assert result.code == 0, result.stderr
    out = read_jsonl(tmp_path / "out.jsonl")
    assert [record["url"] for record in out] == ["https://a.example/news",
                                                  "https://a.example/text"]
    news = out[0]
    assert news["warc_record_id"].startswith("<urn:uuid:") and news["date"][:2] == "20"
    assert news["text"] == Cleaner(tiny_model).clean(HTML)
    assert news["label_counts"] and news["title"] == "Old bakery reopens after the flood"
    assert "skipped: HTTP status 404 1, not HTML 1" in result.stderr


def test_wet_conversion_records_are_cleaned_as_text(cli, tiny_model: LineModel,
                                                    tmp_path: Path) -> None:
    source = tmp_path / "crawl.warc.wet.gz"
    source.write_bytes(_warc([_conversion("https://b.example/1", TEXT),
                              _conversion("https://b.example/2", HTML)], gzip_records=True))
    result = cli(source, "-o", tmp_path / "out.jsonl.gz")
    assert result.code == 0, result.stderr
    out = read_jsonl(tmp_path / "out.jsonl.gz")
    assert [record["url"] for record in out] == ["https://b.example/1", "https://b.example/2"]
    assert out[0]["text"] == Cleaner(tiny_model).clean(TEXT)
    # WET is text as the scraper saved it: markup in it is text, not HTML.
    assert out[1]["text"] == Cleaner(tiny_model, input_format="text").clean(HTML)
    assert set(out[0]) == {"url", "warc_record_id", "date", "text", "label_counts"}


# --------------------------------------------------------------------------- interrupted runs


def _descendants(pid: int) -> set[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1]
                                               .split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        children = [child for child, parent in parents.items() if parent == current]
        found.update(children)
        todo += children
    return found


def _start_long_run(tmp_path: Path, model: Path) -> tuple[subprocess.Popen, Path]:
    records = [{"id": i, "text": TEXT if i % 2 else HTML} for i in range(20_000)]
    source = write_jsonl(tmp_path / "in.jsonl.gz", records)
    process = subprocess.Popen(cli_command(source, "-o", tmp_path / "out" / "out.jsonl",
                                           "--jobs", "2", model=model),
                               env=subprocess_env(), stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if len(_descendants(process.pid)) >= 3 and any((tmp_path / "out").glob(".*")):
            time.sleep(1)  # workers started and the output is being written
            return process, source
        time.sleep(0.05)
    pytest.fail("the run ended (or hung) before it could be interrupted")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_leaves_no_output(tmp_path: Path, tiny_model_path: Path,
                                             signum: int) -> None:
    process, _ = _start_long_run(tmp_path, tiny_model_path)
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, err
    assert "no output written" in err
    assert list((tmp_path / "out").iterdir()) == []


def test_killing_the_main_process_leaves_no_worker_behind(tmp_path: Path,
                                                          tiny_model_path: Path) -> None:
    process, _ = _start_long_run(tmp_path, tiny_model_path)
    workers = _descendants(process.pid)
    process.kill()
    process.communicate(timeout=60)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in workers):
        time.sleep(0.1)
    alive = [pid for pid in workers if Path(f"/proc/{pid}").exists()
             and (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z")]
    assert alive == []
    assert not (tmp_path / "out" / "out.jsonl").exists()  # a temporary at most
