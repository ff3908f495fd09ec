"""Files in and out: which inputs, which outputs, reading safely, writing atomically.

Scrape dumps hold whatever a crawler saved: pages, images, truncated
archives, symlink loops, names in no encoding. Everything here either
yields a page's bytes (which :func:`cleaner.reader.read_page` makes a page)
or raises :class:`InputError` with a reason a user can act on; nothing here
decides what a line is.

Outputs are written to a hidden temporary file in the output directory and
then linked into place, so an output file under its final name is always
complete, an existing output is never replaced unless asked, and a killed
run leaves at most hidden ``*.cleaner-tmp`` files that the next run removes.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Literal

import regex

from cleaner.reader import InputError, Limits  # noqa: F401  (re-exported for callers)

#: Input suffixes replaced by the output suffix (also under ``.gz``).
INPUT_SUFFIXES = (".html", ".htm", ".xhtml", ".txt", ".text")
BODY_SUFFIX = ".txt"
EXPLAIN_SUFFIX = ".labels.tsv"
TEMP_SUFFIX = ".cleaner-tmp"
ExistingPolicy = Literal["error", "overwrite", "skip"]

_TEMP_NAME = regex.compile(r"^\..*\.(\d+)-[0-9a-f]{8}" + regex.escape(TEMP_SUFFIX) + "$")


@dataclass(frozen=True)
class Job:
    """One input file and the output file it becomes."""

    source: str
    output: str
    display: str
    site: str | None = None  # with --sites: the folder that names the page's site


@dataclass(frozen=True)
class Problem:
    """Something in the input list that is not processed, and why.

    ``failed`` problems count as failed pages; ``skipped`` ones are pages
    whose output exists (--skip-existing), counted but not reported one by
    one; the others are notes, reported but not counted (a symlink loop).
    """

    display: str
    reason: str
    status: Literal["failed", "skipped", "note"] = "failed"


def display_path(path: str) -> str:
    """A path fit for a message: bytes that are not UTF-8 and control characters shown as
    ``\\xNN``, so that a file name can neither forge a line of output nor send a terminal
    escape sequence."""
    return escape_controls(os.fsencode(path).decode("utf-8", errors="backslashreplace"))


_CONTROLS = regex.compile(r"[\x00-\x1f\x7f-\x9f]")


def escape_controls(text: str) -> str:
    """``text`` with C0 and C1 control characters (line breaks, ESC) as ``\\xNN``."""
    return _CONTROLS.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def output_name(name: str, suffix: str = BODY_SUFFIX) -> str:
    """``story.html.gz`` -> ``story.txt``; other suffixes stay (``a.php`` -> ``a.php.txt``)."""
    stem = name
    if stem.lower().endswith(".gz") and len(stem) > 3:
        stem = stem[:-3]
    for known in INPUT_SUFFIXES:
        if stem.lower().endswith(known) and len(stem) > len(known):
            stem = stem[: -len(known)]
            break
    return stem + suffix


# --------------------------------------------------------------------------- walking


@dataclass(frozen=True)
class _Input:
    source: str
    rel_dir: str  # directory relative to the argument ("" for a file argument)
    name: str
    top: str  # the argument, or its first folder the file is under (a file argument's folder)


def walk_inputs(paths: Iterable[str], out_dir: str | None = None) -> Iterator[_Input | Problem]:
    """Every file under the given paths, in sorted order, hidden names skipped.

    Directories are walked depth-first with an explicit stack; a directory
    reached twice (a symlink loop, or two links to one place) is walked once.
    Nothing inside ``out_dir`` is read through a directory walk, whatever
    the path (a symlink in the input tree), so a run never feeds on its own
    outputs.
    """
    output = _OutputDir(out_dir) if out_dir is not None else None
    for path in paths:
        try:
            st = os.stat(path)
        except OSError as error:
            yield Problem(display_path(path), _os_reason(error, path))
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from _walk_directory(path, st, output)
        else:
            yield _Input(path, "", os.path.basename(os.path.normpath(path)),
                         os.path.dirname(path) or ".")


class _OutputDir:
    """Tells whether a path found by the walker leads into the output directory."""

    def __init__(self, out_dir: str) -> None:
        self.real = os.path.realpath(out_dir)
        try:
            st = os.stat(out_dir)
            self.identity: tuple[int, int] | None = (st.st_dev, st.st_ino)
        except OSError:
            self.identity = None

    def contains(self, path: str, identity: tuple[int, int] | None, is_link: bool) -> bool:
        """Only a symlink (or the output directory itself, bind-mounted) can lead in from a
        walk that did not start inside; those few are resolved."""
        if identity is not None and identity == self.identity:
            return True
        if not is_link:
            return False
        real = os.path.realpath(path)
        return os.path.commonpath([real, self.real]) == self.real


_INSIDE_OUTPUT = "inside the output directory, not read"


def _walk_directory(root: str, root_stat: os.stat_result,
                    output: _OutputDir | None = None) -> Iterator[_Input | Problem]:
    visited = {(root_stat.st_dev, root_stat.st_ino)}
    # (directory, its path relative to root, the identities of it and its ancestors)
    stack: list[tuple[str, str, tuple[tuple[int, int], ...]]] = [
        (root, "", ((root_stat.st_dev, root_stat.st_ino),))
    ]
    while stack:
        directory, rel_dir, ancestors = stack.pop()
        try:
            with os.scandir(directory) as listing:
                entries = sorted((e for e in listing if not e.name.startswith(".")),
                                 key=lambda e: e.name)
        except OSError as error:
            yield Problem(display_path(directory), "cannot read directory: " + _os_reason(error))
            continue
        subdirectories = []
        for entry in entries:
            try:
                is_dir = entry.is_dir()  # follows symlinks
            except OSError:
                is_dir = False
            if not is_dir:
                if output is not None and entry.is_symlink() and \
                        output.contains(entry.path, None, True):
                    yield Problem(display_path(entry.path), _INSIDE_OUTPUT, "note")
                else:
                    top = os.path.join(root, rel_dir.split(os.sep)[0]) if rel_dir else root
                    yield _Input(entry.path, rel_dir, entry.name, top)
                continue
            try:
                st = os.stat(entry.path)
            except OSError as error:
                yield Problem(display_path(entry.path), _os_reason(error, entry.path))
                continue
            identity = (st.st_dev, st.st_ino)
            if output is not None and output.contains(entry.path, identity, entry.is_symlink()):
                yield Problem(display_path(entry.path), _INSIDE_OUTPUT, "note")
            elif identity in ancestors:
                yield Problem(display_path(entry.path), "symlink loop, not followed", "note")
            elif identity in visited:
                yield Problem(display_path(entry.path),
                              "directory already walked through another path, skipped", "note")
            else:
                visited.add(identity)
                subdirectories.append((entry.path, os.path.join(rel_dir, entry.name),
                                       (*ancestors, identity)))
        stack.extend(reversed(subdirectories))


#: How ``--sites`` groups pages: each file's own folder, or the first folder below
#: the PATH it was found under (``crawl/example.com/2025/01/page.txt``: example.com).
SITE_GROUPINGS = ("folder", "top")


def site_of(item: _Input, grouping: str | None) -> str | None:
    """The name of the page's site under a grouping of :data:`SITE_GROUPINGS` (None: none)."""
    if grouping is None:
        return None
    if grouping not in SITE_GROUPINGS:
        raise ValueError(f"unknown site grouping {grouping!r}")
    return os.path.abspath(os.path.dirname(item.source) if grouping == "folder" else item.top)


def survey_jobs(paths: list[str], out_dir: str, grouping: str) -> Iterator[Job]:
    """Every input file with its site and no output, for the survey ``--sites`` makes
    before the run (what cannot be read is reported by the run itself)."""
    for item in walk_inputs(paths, out_dir):
        if isinstance(item, _Input):
            yield Job(item.source, "", display_path(item.source), site_of(item, grouping))


def plan_jobs(paths: list[str], out_dir: str, suffix: str = BODY_SUFFIX,
              existing: ExistingPolicy = "error",
              grouping: str | None = None) -> Iterator[Job | Problem]:
    """Pair each input with its output, refusing collisions and (by default) existing outputs.

    Within one argument two inputs can only collide inside one directory
    listing, so the names claimed are kept per directory and memory stays
    flat however many files there are; only when several arguments share
    the output tree are claimed outputs remembered for the whole run.

    No output is ever written onto an input of the run, compared by file
    identity (a path can reach a file by many names). An existing output
    that is its own input is refused under every policy; with
    ``overwrite`` the identities of all inputs are collected first (one
    more walk, a few dozen bytes per input), since only then is an existing
    file replaced. With a ``grouping``, each job names its site (:func:`site_of`).
    """
    claimed_everywhere: set[str] | None = set() if len(paths) > 1 else None
    claimed_here: dict[str, str] = {}
    current_dir: str | None = None
    inputs = _input_identities(paths, out_dir) if existing == "overwrite" else set()
    for item in walk_inputs(paths, out_dir):
        if isinstance(item, Problem):
            yield item
            continue
        output_dir = os.path.join(out_dir, item.rel_dir)
        if output_dir != current_dir:
            current_dir, claimed_here = output_dir, {}
            remove_stale_temps(output_dir)
        output = os.path.join(output_dir, output_name(item.name, suffix))
        display = display_path(item.source)
        earlier = claimed_here.get(output)
        if earlier is None and claimed_everywhere is not None and output in claimed_everywhere:
            earlier = "an earlier input"
        if earlier is not None:
            yield Problem(display, f"same output as {earlier}: {display_path(output)}")
            continue
        claimed_here[output] = display
        if claimed_everywhere is not None:
            claimed_everywhere.add(output)
        if _is_an_input(output, item.source, inputs):
            yield Problem(display, "the output would replace an input of this run: "
                                   + display_path(output))
            continue
        if existing != "overwrite" and os.path.lexists(output):
            if existing == "skip":
                yield Problem(display, "output exists", "skipped")
            else:
                yield Problem(display, f"output exists: {display_path(output)} "
                                       "(--overwrite replaces it, --skip-existing keeps it)")
            continue
        yield Job(item.source, output, display, site_of(item, grouping))


def _identity(path: str, follow: bool = True) -> tuple[int, int] | None:
    try:
        st = os.stat(path) if follow else os.lstat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _input_identities(paths: list[str], out_dir: str) -> set[tuple[int, int]]:
    identities = (_identity(item.source) for item in walk_inputs(paths, out_dir)
                  if isinstance(item, _Input))
    return {identity for identity in identities if identity is not None}


def _is_an_input(output: str, source: str, inputs: set[tuple[int, int]]) -> bool:
    """Whether writing ``output`` would replace the file (or the name) of an input."""
    if not os.path.lexists(output):
        return False
    found = {_identity(output), _identity(output, follow=False)} - {None}
    return bool(found & (inputs | {_identity(source)}))


def input_inside_output(paths: Iterable[str], out_dir: str) -> str | None:
    """The input directory that is (or is inside) the output directory, if any: its
    walk would read the run's own outputs."""
    out_real = os.path.realpath(out_dir)
    for path in paths:
        if not os.path.isdir(path):
            continue
        real = os.path.realpath(path)
        if os.path.commonpath([real, out_real]) == out_real:
            return path
    return None


def output_inside_input(paths: Iterable[str], out_dir: str) -> str | None:
    """The input directory that contains (or is) the output directory, if any."""
    out_real = os.path.realpath(out_dir)
    for path in paths:
        if not os.path.isdir(path):
            continue
        real = os.path.realpath(path)
        if os.path.commonpath([real, out_real]) == real:
            return path
    return None


# --------------------------------------------------------------------------- reading


def read_file(path: str, limits: Limits) -> bytes:
    """The bytes of a page file, within the size limit (gzip is undone by the reader)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise InputError("cannot read: " + _os_reason(error, path)) from None
    with os.fdopen(fd, "rb") as stream:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise InputError("is a directory")
        if not stat.S_ISREG(st.st_mode):
            raise InputError("not a regular file (device, pipe or socket)")
        if st.st_size > limits.max_page_bytes:
            raise InputError(f"file is {st.st_size:,} bytes, over the limit of "
                             f"{limits.max_page_bytes:,} (--max-page-bytes)")
        try:
            return read_stream(stream, limits)
        except OSError as error:
            raise InputError("cannot read: " + _os_reason(error)) from None


def read_stream(stream: BinaryIO, limits: Limits) -> bytes:
    """Read at most the size limit (standard input, or an opened file)."""
    data = stream.read(limits.max_page_bytes + 1)
    if len(data) > limits.max_page_bytes:
        raise InputError(f"input is over the limit of {limits.max_page_bytes:,} bytes "
                         "(--max-page-bytes)")
    return data


def _os_reason(error: OSError, path: str | None = None) -> str:
    if isinstance(error, FileNotFoundError) and path is not None and os.path.islink(path):
        return "broken symbolic link"
    if error.errno == errno.ELOOP:
        return "symlink loop"
    return error.strerror or str(error)


# --------------------------------------------------------------------------- writing

#: The temporary file being written by this process, for a signal handler to remove.
temp_in_progress: str | None = None


def write_atomic(path: str, data: bytes, overwrite: bool = False) -> None:
    """Write ``path`` so that it exists either complete or not at all.

    Without ``overwrite`` the temporary file is hard-linked to its final
    name, which fails if the name exists, so even an output created by
    someone else meanwhile is not replaced. The file is flushed to disk
    before it gets its name, and the directory after, so that a power loss
    cannot leave an empty file under the final name (which a resumed run
    with --skip-existing would keep).
    """
    global temp_in_progress
    directory, name = os.path.split(path)
    if not name or name in (".", ".."):
        raise IsADirectoryError(errno.EISDIR, "a file name is needed, not a directory", path)
    os.makedirs(directory or ".", exist_ok=True)
    short = os.fsdecode(os.fsencode(name)[:120])
    temp = os.path.join(directory, f".{short}.{os.getpid()}-{secrets.token_hex(4)}{TEMP_SUFFIX}")
    temp_in_progress = temp
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                     0o666)
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(fd)
        if overwrite:
            os.replace(temp, path)
        else:
            _link_into_place(temp, path)
        _sync_directory(directory or ".")
    finally:
        if os.path.lexists(temp):
            os.unlink(temp)
        temp_in_progress = None


def _sync_directory(directory: str) -> None:
    """Make a new name in ``directory`` durable; a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # Windows
        return
    try:
        os.fsync(fd)
    except OSError as error:
        if error.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def _link_into_place(temp: str, path: str) -> None:
    try:
        os.link(temp, path)
    except FileExistsError:
        raise FileExistsError(errno.EEXIST, "output exists", path) from None
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV,
                               errno.EMLINK, errno.ENOSYS):
            raise
        # A file system without hard links: check, then rename (a small window remains).
        if os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, "output exists", path) from None
        os.replace(temp, path)


def remove_stale_temps(directory: str) -> int:
    """Remove temporary files that killed runs left in ``directory``; returns how many."""
    removed = 0
    try:
        with os.scandir(directory) as listing:
            names = [entry.name for entry in listing if entry.name.endswith(TEMP_SUFFIX)]
    except OSError:
        return 0
    for name in names:
        match = _TEMP_NAME.match(name)
        if match and not _process_alive(int(match.group(1))):
            try:
                os.unlink(os.path.join(directory, name))
                removed += 1
            except OSError:
                pass
    return removed


def _process_alive(pid: int) -> bool:
    """Whether a process can still be writing. A killed worker stays a zombie until it is
    reaped, which signal 0 cannot tell from a live one, so /proc is asked where it exists."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat_file:
            state = stat_file.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in (b"Z", b"X")
