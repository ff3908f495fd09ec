"""`make bench`: speed and peak memory of cleaner and of trafilatura on the same pages.

Each system runs in its own fresh child process, one core, over the same
pages held in memory, so peak memory (max resident set size) is per system
and the ratios come from one run on one machine. cleaner runs in text mode
(on the html-text rendering of each page, made before timing starts) and in
HTML mode (on the raw HTML); trafilatura reads the raw HTML. Then the CLI,
the main job, on a directory of the same raw pages and on four times as many.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SYSTEMS = ("cleaner-text", "cleaner-html", "trafilatura")


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


def run_system(system: str, data_dir: str, count: int, model: str | None) -> dict:
    """Time one system over the pages in this process; memory is this process's peak."""
    pages = load_pages(data_dir, count, system)
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

        cleaner = Cleaner(model, input_format=system.removeprefix("cleaner-"))
        cleaner.clean(pages[0])  # warm up: first call loads lazily built tables

        def run() -> int:
            return sum(len(text) for text in cleaner.clean_many(pages))

    baseline_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    characters = run()
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"system": system, "pages": len(pages), "seconds": seconds,
            "pages_per_second": len(pages) / seconds, "peak_mib": peak_kib / 1024,
            "baseline_mib": baseline_kib / 1024, "output_chars": characters}


def run_cli(data_dir: str, count: int, copies: int, jobs: int, model: str | None) -> dict:
    """Time ``cleaner clean`` on a directory of ``copies`` x ``count`` raw pages; peak memory
    is the largest process of the run (main or worker)."""
    from cleaner.training.corpus import read_all

    pages = [page for page in read_all(data_dir) if page.held_out][:count]
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp, "pages")
        for copy in range(copies):
            folder = source / f"copy{copy}"
            folder.mkdir(parents=True)
            for page in pages:
                (folder / f"{page.corpus}-{page.page_id}.html.gz").write_bytes(
                    page.html_path.read_bytes())
        command = [sys.executable, "-m", "cleaner.cli", "clean", str(source),
                   "-o", str(Path(tmp, "out")), "--jobs", str(jobs)]
        if model:
            command += ["--model", model]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise RuntimeError(done.stderr)
    files = count * copies
    return {"files": files, "seconds": seconds, "pages_per_second": files / seconds,
            "peak_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cleaner.training.bench", description=__doc__)
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--pages", type=int, default=300, help="how many held-out pages")
    parser.add_argument("--model", default=None, help="model file (default: the shipped one)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="worker processes of the CLI run (default: all cores)")
    parser.add_argument("--system", choices=SYSTEMS, help=argparse.SUPPRESS)
    parser.add_argument("--cli-copies", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.system:  # child process: one system, result as JSON on stdout
        print(json.dumps(run_system(args.system, args.data, args.pages, args.model)))
        return 0
    if args.cli_copies:  # child process: one CLI run, so its peak memory is its own
        print(json.dumps(run_cli(args.data, args.pages, args.cli_copies, args.jobs, args.model)))
        return 0

    # One thread each, so the figures are per core whatever the machine has.
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    results = {}
    for system in SYSTEMS:
        command = [sys.executable, "-m", "cleaner.training.bench", "--system", system,
                   "--data", args.data, "--pages", str(args.pages)]
        if args.model:
            command += ["--model", args.model]
        child = subprocess.run(command, env=env, capture_output=True, text=True)
        if child.returncode != 0:
            print(child.stderr, file=sys.stderr)
            return 1
        results[system] = json.loads(child.stdout)
    reference = results["trafilatura"]
    print(f"{results['trafilatura']['pages']} held-out pages of {args.data}, "
          "one process, one thread")
    print(f"{'system':<14} {'pages/s':>8} {'vs trafilatura':>14} {'peak MiB':>9} "
          f"{'(pages loaded)':>14} {'vs trafilatura':>14}")
    for system, r in results.items():
        print(f"{system:<14} {r['pages_per_second']:>8.1f} "
              f"{r['pages_per_second'] / reference['pages_per_second']:>13.2f}x "
              f"{r['peak_mib']:>9.0f} {r['baseline_mib']:>14.0f} "
              f"{r['peak_mib'] / reference['peak_mib']:>13.2f}x")

    print(f"\ncleaner clean DIR -o OUT --jobs {args.jobs} on raw .html.gz files "
          "(the pages above, copied): peak memory must not grow with the number of files")
    print(f"{'files':>6} {'seconds':>8} {'pages/s':>8} {'peak MiB (largest process)':>27}")
    for copies in (1, 4):
        command = [sys.executable, "-m", "cleaner.training.bench", "--cli-copies", str(copies),
                   "--data", args.data, "--pages", str(args.pages), "--jobs", str(args.jobs)]
        if args.model:
            command += ["--model", args.model]
        child = subprocess.run(command, capture_output=True, text=True)
        if child.returncode != 0:
            print(child.stderr, file=sys.stderr)
            return 1
        r = json.loads(child.stdout)
        print(f"{r['files']:>6} {r['seconds']:>8.1f} {r['pages_per_second']:>8.1f} "
              f"{r['peak_mib']:>27.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
