"""`make bench`: speed, start-up and peak memory of cleaner against trafilatura.

Every figure comes from one run on one machine, each system in its own fresh
child process pinned to one core, over the same pages held in memory, so
peak memory (max resident set size) is per system and the ratios compare
like with like; the systems run in turn for a few rounds and each keeps its
best, the round least disturbed by whatever else the machine runs. cleaner
runs in text mode (on the html-text rendering of each page, made before
timing starts) and in HTML mode (on the raw HTML); trafilatura reads the raw
HTML. Then: loading the model; `cleaner clean -`
on one typical page, wall time of the whole command; the API one page at a
time against ``clean_many``; the CLI on a directory of raw pages (every
page of the data folder: on a few hundred the workers' start-up would decide the
scaling figure) with ``--jobs 1`` and ``--jobs 2``, best of the rounds. The table goes
into the card of the model it timed, with the date (``--no-card`` leaves it alone).
``--large N`` (``make bench-large``) instead runs the CLI over N small files and
reports wall time and the peak memory of its largest process.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SYSTEMS = ("cleaner-text", "cleaner-html", "trafilatura")
HEADING = "## Speed (`make bench`)"


def load_pages(data_dir: str, count: int, system: str) -> list[str]:
    """The first ``count`` held-out pages (a fixed set), as the system reads them."""
    from cleaner.decode import decode_bytes
    from cleaner.training.corpus import read_all
    from cleaner.training.render import EVAL_RENDERER, RENDERERS

    pages = [page for page in read_all(data_dir) if page.held_out][:count]
    html = [decode_bytes(page.html_bytes()) for page in pages]
    if system == "cleaner-text":
        return [RENDERERS[EVAL_RENDERER](page) for page in html]
    return html


def _one_core() -> None:
    """Pin this process to one core, so that figures are per core on any machine."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def run_system(system: str, data_dir: str, count: int, model: str | None) -> dict:
    """Time one system over the pages in this process; memory is this process's peak."""
    _one_core()
    pages = load_pages(data_dir, count, system)
    result: dict = {"system": system, "pages": len(pages)}
    if system == "trafilatura":
        import trafilatura

        def run() -> int:
            total = 0
            for page in pages:
                try:
                    total += len(trafilatura.extract(page) or "")
                except Exception:  # counted as empty output, as in `make eval`
                    pass
            return total
    else:
        from cleaner.api import Cleaner
        from cleaner.model import LineModel

        started = time.perf_counter()
        loaded = LineModel.load(model)
        result["load_seconds"] = time.perf_counter() - started
        cleaner = Cleaner(loaded, input_format=system.removeprefix("cleaner-"))
        cleaner.clean(pages[0])  # warm up: first call builds lazy tables

        def run() -> int:
            return sum(len(text) for text in cleaner.clean_many(pages))

    baseline_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result["output_chars"] = run()
    seconds = time.perf_counter() - started
    result.update(seconds=seconds, pages_per_second=len(pages) / seconds,
                  peak_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  baseline_mib=baseline_kib / 1024)
    if system != "trafilatura":  # the API as a pipeline calls it, one page at a time
        started = time.perf_counter()
        for page in pages:
            cleaner.clean(page)
        result["one_by_one_pages_per_second"] = len(pages) / (time.perf_counter() - started)
    return result


def typical_page(data_dir: str, count: int) -> str:
    """The held-out page of median length, in text mode (what a scraper saved)."""
    pages = load_pages(data_dir, count, "cleaner-text")
    return sorted(pages, key=len)[len(pages) // 2]


def stdin_seconds(page: str, model: str | None, repeats: int = 5) -> float:
    """Median wall time of ``cleaner clean - < page``: start-up, model load, one page."""
    command = [sys.executable, "-m", "cleaner.cli", "clean", "-"]
    if model:
        command += ["--model", model]
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        done = subprocess.run(command, input=page.encode(), capture_output=True)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise RuntimeError(done.stderr.decode())
    return statistics.median(times)


def run_cli(source: Path, jobs: int, model: str | None) -> dict:
    """Time ``cleaner clean`` on a directory; peak memory is the largest process of the
    run (main or worker), as the kernel reports for waited-for children."""
    files = sum(1 for path in source.rglob("*") if path.is_file())
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "cleaner.cli", "clean", str(source),
                   "-o", str(Path(tmp, "out")), "--jobs", str(jobs)]
        if model:
            command += ["--model", model]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise RuntimeError(done.stderr)
    return {"files": files, "jobs": jobs, "seconds": seconds, "pages_per_second": files / seconds,
            "peak_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def _child(arguments: list[str], env: dict | None = None) -> dict:
    command = [sys.executable, "-m", "cleaner.training.bench", *arguments]
    child = subprocess.run(command, env=env, capture_output=True, text=True)
    if child.returncode != 0:
        raise RuntimeError(child.stderr)
    return json.loads(child.stdout)


def raw_page_folder(data_dir: str, count: int | None, target: Path) -> Path:
    """The first ``count`` pages of the data folder (all by default), training pages
    included: speed does not depend on what training saw, and the CLI's users run it on
    thousands of pages, where the pool's start-up weighs what it weighs there."""
    from cleaner.training.corpus import read_all

    target.mkdir(parents=True)
    for page in itertools.islice(read_all(data_dir), count):
        (target / f"{page.corpus}-{page.page_id}.html.gz").write_bytes(page.html_path.read_bytes())
    return target


def small_file_folder(data_dir: str, files: int, target: Path) -> Path:
    """``files`` small text pages (the first 2 KB of held-out pages' text, cycled),
    1,000 per folder."""
    pages = [page[:2000] for page in load_pages(data_dir, 300, "cleaner-text")]
    for index in range(files):
        folder = target / f"{index // 1000:04d}"
        if index % 1000 == 0:
            folder.mkdir(parents=True)
        (folder / f"{index:06d}.txt").write_text(pages[index % len(pages)], encoding="utf-8")
    return target


def measure(args: argparse.Namespace) -> list[str]:
    """Run everything; the report as lines of Markdown."""
    common = ["--data", args.data, "--pages", str(args.pages)]
    if args.model:
        common += ["--model", args.model]
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    # Rounds of the three systems in turn, each system's best round kept: on a shared
    # machine the load changes within minutes, and the best round is the least disturbed.
    results: dict[str, dict] = {}
    for _ in range(args.rounds):
        for system in SYSTEMS:
            r = _child(["--system", system, *common], env)
            if system not in results or r["pages_per_second"] > results[system]["pages_per_second"]:
                results[system] = r
    reference = results["trafilatura"]
    stdin = stdin_seconds(typical_page(args.data, args.pages), args.model)
    with tempfile.TemporaryDirectory() as tmp:
        source = raw_page_folder(args.data, args.cli_pages, Path(tmp, "pages"))
        # The same rounds as above, --jobs 1 and 2 in turn: one run each moved the ratio
        # by +-0.05 with the load of the moment.
        cli: dict[int, dict] = {}
        for _ in range(args.rounds):
            for jobs in (1, 2):
                r = _child(["--cli-dir", str(source), "--jobs", str(jobs), *common])
                if jobs not in cli or r["pages_per_second"] > cli[jobs]["pages_per_second"]:
                    cli[jobs] = r
    text, html = results["cleaner-text"], results["cleaner-html"]
    date = datetime.date.today().isoformat()
    lines = [
        f"{date}, {reference['pages']} held-out pages of `{args.data}`, one process pinned "
        f"to one core per system, best of {args.rounds} rounds of the three in turn "
        "(`make bench`):",
        "",
        "| system | pages/s | vs trafilatura | peak MiB | vs trafilatura | MiB before the "
        "first page |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for system, r in results.items():
        lines.append(
            f"| {system} | {r['pages_per_second']:.1f} | "
            f"{r['pages_per_second'] / reference['pages_per_second']:.2f}x | "
            f"{r['peak_mib']:.0f} | {r['peak_mib'] / reference['peak_mib']:.2f}x | "
            f"{r['baseline_mib']:.0f} |")
    text_one = text["one_by_one_pages_per_second"]
    html_one = html["one_by_one_pages_per_second"]
    lines += [
        "",
        f"- Model load: {text['load_seconds']:.3f} s (text process), "
        f"{html['load_seconds']:.3f} s (HTML process).",
        f"- `cleaner clean - < page` (a median-length page, text): {stdin:.2f} s wall, "
        "start-up included (median of 5).",
        f"- API, `clean(page)` one page at a time: {text_one:.1f} pages/s in text mode "
        f"({text_one / text['pages_per_second']:.0%} of `clean_many`), {html_one:.1f} in HTML "
        f"mode ({html_one / html['pages_per_second']:.0%}).",
        f"- CLI on {cli[1]['files']} raw `.html.gz` pages: `--jobs 1` "
        f"{cli[1]['pages_per_second']:.1f} pages/s, `--jobs 2` {cli[2]['pages_per_second']:.1f} "
        f"({cli[2]['pages_per_second'] / cli[1]['pages_per_second']:.2f}x on "
        f"{os.cpu_count()} cores, start-up included; best of {args.rounds} runs each, in "
        "turn); largest process "
        f"{cli[1]['peak_mib']:.0f} / {cli[2]['peak_mib']:.0f} MiB.",
        f"- Machine load average at the end: {os.getloadavg()[0]:.1f} "
        f"(absolute speeds move with it; ratios within one run move less).",
    ]
    return lines


def measure_large(args: argparse.Namespace) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        source = small_file_folder(args.data, args.large, Path(tmp, "pages"))
        common = ["--jobs", str(args.jobs)] + (["--model", args.model] if args.model else [])
        r = _child(["--cli-dir", str(source), *common])
    return [f"- `make bench-large` ({datetime.date.today().isoformat()}): the CLI over "
            f"{r['files']:,} small text files (2 KB), `--jobs {args.jobs}`: {r['seconds']:.0f} s "
            f"({r['pages_per_second']:.0f} files/s); largest process {r['peak_mib']:.0f} MiB."]


def record(lines: list[str], heading: str, card: str | None, model: str | None) -> str:
    """Write the table into ``card``, by default the timed model's own card (a run on a
    user's model once rewrote the shipped model's card); say where it went."""
    from cleaner.model import default_model_path
    from cleaner.training.card import card_path, update_section

    path = Path(card) if card else card_path(model or default_model_path())
    if not path.exists():
        return f"(no card at {path}: the table is not written)"
    update_section(path, heading, "\n".join(lines))
    return f"(written into {path})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cleaner.training.bench", description=__doc__)
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--pages", type=int, default=300, help="how many held-out pages")
    parser.add_argument("--cli-pages", type=int, default=None,
                        help="pages of the CLI runs (default: every page of --data)")
    parser.add_argument("--model", default=None, help="model file (default: the shipped one)")
    parser.add_argument("--large", type=int, help="instead: the CLI over this many small files")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="worker processes of the --large run (default: all cores)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of the three systems; each system's best is reported")
    parser.add_argument("--no-card", action="store_true", help="print only; card untouched")
    parser.add_argument("--card", default=None,
                        help="model card that gets the table (default: the model's own: "
                             "MODEL_CARD.md beside the shipped model, MODEL.card.md beside "
                             "another)")
    parser.add_argument("--system", choices=SYSTEMS, help=argparse.SUPPRESS)
    parser.add_argument("--cli-dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.system:  # child process: one system, result as JSON on stdout
        print(json.dumps(run_system(args.system, args.data, args.pages, args.model)))
        return 0
    if args.cli_dir:  # child process: one CLI run, so its peak memory is its own
        print(json.dumps(run_cli(Path(args.cli_dir), args.jobs, args.model)))
        return 0
    try:
        if args.large:
            lines, heading = measure_large(args), "## Large run (`make bench-large`)"
        else:
            lines, heading = measure(args), HEADING
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    print("\n".join(lines))
    if not args.no_card:
        print(record(lines, heading, args.card, args.model))
    return 0


if __name__ == "__main__":
    sys.exit(main())
