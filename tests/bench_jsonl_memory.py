"""Peak memory of a JSONL run against the number of records (not part of the suite).

    python tests/bench_jsonl_memory.py 10000 100000 --jobs 2

Writes N records (the fixture pages, HTML and text, with ids and a bad record
every 1,000) to ``in.jsonl.gz``, runs ``cleaner clean in.jsonl.gz -o
out.jsonl.gz --jobs J`` with the shipped model, samples the summed RSS of the
run's process tree every 0.2 s, and checks count and order of the output.
Flat memory means the peak does not grow with N.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PAGES = Path(__file__).resolve().parent / "fixtures" / "pages"
REPO = Path(__file__).resolve().parent.parent


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        total += rss.get(current, 0)
        stack.extend(children.get(current, []))
    return total


def run(count: int, jobs: int, work: Path) -> None:
    pages = [path.read_text(encoding="utf-8") for path in sorted(PAGES.rglob("*"))
             if path.is_file()]
    source = work / f"in-{count}.jsonl.gz"
    with gzip.open(source, "wt", encoding="utf-8", compresslevel=1) as stream:
        for index in range(count):
            if index % 1000 == 999:
                stream.write("not json\n")
            else:
                page = pages[index % len(pages)]
                field = "html" if page.lstrip().startswith("<") else "text"
                stream.write(json.dumps({"id": index, field: page}) + "\n")
    output = work / f"out-{count}.jsonl.gz"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "cleaner.cli", "clean", str(source),
                                "-o", str(output), "--jobs", str(jobs)],
                               env=env, stderr=subprocess.PIPE, text=True)
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_rss(process.pid))
        time.sleep(0.2)
    elapsed = time.monotonic() - started
    summary = process.stderr.read().strip().splitlines()[-1]
    with gzip.open(output, "rt", encoding="utf-8") as stream:
        ids = [json.loads(line).get("id") for line in stream]
    in_order = [i for i in ids if i is not None] == [i for i in range(count) if i % 1000 != 999]
    print(f"{count:,} records, --jobs {jobs}: exit {process.returncode}, {len(ids):,} out, "
          f"order kept: {in_order}, peak RSS of the process tree {peak / 2**20:,.0f} MiB, "
          f"{elapsed:,.0f} s\n  {summary}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("counts", type=int, nargs="+")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        for count in args.counts:
            run(count, args.jobs, Path(work))


if __name__ == "__main__":
    main()
