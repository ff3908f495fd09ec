"""Kill runs at random moments: ``make fuzz`` (``--runs N``, default 50).

Each run cleans the same pages with two workers and gets SIGTERM, SIGINT or
SIGKILL (in turn) at a random moment between its start and the time an
uninterrupted run takes, sent to the main process only, as a supervisor or
``kill`` does. Then, for every run:

- no process of the run (workers, fork server, resource tracker) is alive
  5 s after the main process ended;
- every output under its final name is complete (equal to the uninterrupted
  run's); after SIGTERM and SIGINT no temporary file is left, and the
  summary counts exactly the files written;
- no traceback, once the command has started (a signal while Python is
  still importing the package is counted and shown apart);
- a run with ``--skip-existing`` then completes the tree, equal to the
  uninterrupted run's, temporary files of a killed run removed.

The run fails (exit 1) if any run breaks one of these.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "tests" / "fixtures" / "pages"
SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGKILL)
GRACE_SECONDS = 5.0


def make_pages(directory: Path, count: int) -> Path:
    """``count`` distinct pages (text and HTML) in a few subdirectories; the directory."""
    text = (PAGES / "harbour.txt").read_text()
    html = (PAGES / "bakery.html").read_text()
    for i in range(count):
        sub = directory / f"part{i % 4}"
        sub.mkdir(parents=True, exist_ok=True)
        if i % 2:
            (sub / f"page{i:04}.txt").write_text(text.replace("Harbour", f"Town {i}"))
        else:
            (sub / f"page{i:04}.html").write_text(html.replace("Mill Street", f"Street {i}"))
    return directory


def tree(directory: Path) -> dict[str, bytes]:
    if not directory.exists():
        return {}
    return {str(path.relative_to(directory)): path.read_bytes()
            for path in sorted(directory.rglob("*")) if path.is_file()}


def session(leader: int) -> list[int]:
    """Live processes of the session ``leader`` started (itself included)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat_file:
                fields = stat_file.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == leader and fields[0] not in (b"Z", b"X"):
            found.append(int(entry))
    return found


def command(inputs: Path, out: Path, model: str | None, *extra: str) -> list[str]:
    args = [sys.executable, "-m", "cleaner.cli", "clean", str(inputs), "-o", str(out),
            "--jobs", "2", *extra]
    return args + (["--model", model] if model else [])


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def one_run(number: int, signum: int, delay: float, work: Path, inputs: Path,
            reference: dict[str, bytes], model: str | None,
            verbose: bool = False) -> tuple[list[str], str]:
    """Problems found in one interrupted run, and a one-line account of it."""
    out = work / f"out{number}"
    problems: list[str] = []
    with open(work / "stderr", "w+b") as stderr:
        process = subprocess.Popen(command(inputs, out, model), env=environment(),
                                   stdout=subprocess.DEVNULL, stderr=stderr,
                                   start_new_session=True, cwd=work)
        time.sleep(delay)
        process.send_signal(signum)
        process.wait()
        ended = time.monotonic()
        while (alive := session(process.pid)) and time.monotonic() - ended < GRACE_SECONDS:
            time.sleep(0.05)
        if alive:
            problems.append(f"{len(alive)} processes alive {GRACE_SECONDS:.0f} s after the "
                            "main process ended")
            for pid in alive:
                os.kill(pid, signal.SIGKILL)
        stderr.seek(0)
        messages = stderr.read().decode("utf-8", "replace")
    written = tree(out)
    finals = {name: data for name, data in written.items() if not Path(name).name.startswith(".")}
    temps = set(written) - set(finals)
    if any(reference.get(name) != data for name, data in finals.items()):
        problems.append("an output differs from the uninterrupted run's (partial or wrong)")
    if temps and signum != signal.SIGKILL:
        problems.append(f"{len(temps)} temporary files left after {signal.Signals(signum).name}")
    if temps and not all(name.endswith(".cleaner-tmp") for name in temps):
        problems.append(f"unexpected hidden files: {sorted(temps)[:3]}")
    early = ""
    if "Traceback" in messages:
        last = messages.strip().splitlines()[-1]
        if "cleaner/cli.py" in messages and "in main" in messages:
            problems.append("traceback: " + last)
        else:
            early = f" (a traceback outside the command: {last[:80]})"
            if verbose:
                print(messages, flush=True)
    summary = [line for line in messages.splitlines() if "pages done" in line]
    if summary and signum != signal.SIGKILL:
        done = int(summary[-1].split("pages done")[0].split()[-1].replace(",", ""))
        if done != len(finals):
            problems.append(f"summary says {done} pages done, {len(finals)} files written")
    resumed = subprocess.run(command(inputs, out, model, "--skip-existing"), env=environment(),
                             capture_output=True, text=True, cwd=work)
    if resumed.returncode != 0:
        problems.append(f"--skip-existing exit {resumed.returncode}: {resumed.stderr[-300:]}")
    if tree(out) != reference:
        problems.append("the resumed tree differs from the uninterrupted run's")
    account = (f"run {number:2}: {signal.Signals(signum).name:7} after {delay:5.2f} s: exit "
               f"{process.returncode}, {len(finals)} written, {len(temps)} temporary"
               f"{early}; {'ok' if not problems else '; '.join(problems)}")
    shutil.rmtree(out, ignore_errors=True)
    return problems, account


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--pages", type=int, default=160)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--model", help="model file (default: the one the CLI uses)")
    parser.add_argument("--verbose", action="store_true", help="show tracebacks in full")
    args = parser.parse_args(argv)
    if not os.path.isdir("/proc/self"):
        print("fuzz_signals: needs /proc (Linux)", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    rng = random.Random(seed)
    failures = 0
    with tempfile.TemporaryDirectory(prefix="cleaner-signals-") as temp:
        work = Path(temp)
        inputs = work / "in"
        make_pages(inputs, args.pages)
        start = time.monotonic()
        done = subprocess.run(command(inputs, work / "reference", args.model), env=environment(),
                              capture_output=True, text=True, cwd=work)
        full = time.monotonic() - start
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return 1
        reference = tree(work / "reference")
        print(f"fuzz_signals: seed {seed}, {len(reference)} pages, an uninterrupted run takes "
              f"{full:.1f} s", flush=True)
        for number in range(args.runs):
            signum = SIGNALS[number % len(SIGNALS)]
            problems, account = one_run(number, signum, rng.uniform(0, full), work, inputs,
                                        reference, args.model, args.verbose)
            failures += bool(problems)
            print(account, flush=True)
    print(f"fuzz_signals: {args.runs - failures} of {args.runs} runs kept every promise "
          f"(seed {seed})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
