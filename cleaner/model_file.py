"""The model file: a zip of plain ``.npy`` arrays and one JSON header, read with limits.

Nothing in the file is code: arrays load with ``allow_pickle=False`` and the
header is JSON. Reading is bounded before anything is trusted: only a
regular file is opened (a FIFO or a device would block or never end), its
size and every member's decompressed size are capped, and any damage is a
:class:`ModelFileError` saying what is wrong. What the arrays and header
mean is checked by the model (``cleaner.model``) and the ensembles
(``cleaner.forest``).
"""

from __future__ import annotations

import io
import json
import os
import stat
import zipfile
from pathlib import Path

import numpy as np

#: The JSON header member; every other member is ``<name>.npy``.
HEADER = "model.json"
#: Limits, far above what a model we train needs (a few MiB): documented in the README.
MAX_FILE_BYTES = 256 << 20
MAX_MEMBER_BYTES = 256 << 20
MAX_TOTAL_BYTES = 1 << 30
MAX_HEADER_BYTES = 4 << 20
MAX_MEMBERS = 256


class ModelFileError(ValueError):
    """A model file that cannot be read; the message says why (not which file)."""


def read_file(path: Path) -> bytes:
    """The bytes of a regular file of at most MAX_FILE_BYTES, without blocking on
    FIFOs or reading endless devices. Raises OSError or ModelFileError."""
    # O_NONBLOCK: opening a FIFO with no writer would wait for ever otherwise.
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise ModelFileError(f"{kind}")
        if info.st_size > MAX_FILE_BYTES:
            raise ModelFileError(f"file of {info.st_size} bytes, more than the limit of "
                                 f"{MAX_FILE_BYTES}")
        chunks, total = [], 0
        while True:
            chunk = os.read(descriptor, 1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > MAX_FILE_BYTES:  # grew while we read
                raise ModelFileError(f"file larger than the limit of {MAX_FILE_BYTES} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def _plain(value: object) -> object:
    """numpy scalars and arrays as the JSON numbers and lists they hold."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} cannot be stored in a model file's header")


def header_bytes(header: dict) -> bytes:
    """The header as strict JSON (no NaN or Infinity, which JSON does not have)."""
    return json.dumps(header, indent=1, sort_keys=True, allow_nan=False,
                      default=_plain).encode()


def check_header(header: dict) -> None:
    """Raise ValueError or TypeError now if ``header`` could not be written."""
    header_bytes(header)


def pack(arrays: dict[str, np.ndarray], header: dict) -> bytes:
    """Zip the header (as JSON) and the arrays (as .npy, deflated)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(HEADER, header_bytes(header))
        for name in sorted(arrays):
            member = io.BytesIO()
            np.save(member, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            archive.writestr(f"{name}.npy", member.getvalue())
    return buffer.getvalue()


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """A member's bytes, never inflating more than ``limit`` (the size in the zip may lie)."""
    if info.file_size > limit:
        raise ModelFileError(f"member {info.filename!r} inflates to {info.file_size} bytes, "
                             f"more than the limit of {limit}")
    with archive.open(info) as member:
        data = member.read(limit + 1)
    if len(data) > limit:
        raise ModelFileError(f"member {info.filename!r} inflates beyond the limit of {limit}")
    return data


def unpack(data: bytes) -> tuple[dict[str, np.ndarray], dict]:
    """The arrays and the header of a packed model; ModelFileError if damaged or too large."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except Exception as error:  # BadZipFile, NotImplementedError (zip version)...: damage
        raise ModelFileError(f"not a cleaner model file (not a zip archive: {error})") from None
    try:
        with archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                raise ModelFileError(f"{len(members)} members, more than {MAX_MEMBERS}")
            names = [info.filename for info in members]
            if len(set(names)) != len(names):
                raise ModelFileError("duplicate members")
            if HEADER not in names:
                raise ModelFileError(f"not a cleaner model file (no {HEADER})")
            total = 0
            header, arrays = None, {}
            for info in members:
                if info.filename == HEADER:
                    raw = _read_member(archive, info, MAX_HEADER_BYTES)
                    header = _parse_header(raw)
                    continue
                if not info.filename.endswith(".npy"):
                    raise ModelFileError(f"unexpected member {info.filename!r}")
                raw = _read_member(archive, info, MAX_MEMBER_BYTES)
                total += len(raw)
                if total > MAX_TOTAL_BYTES:
                    raise ModelFileError(f"members inflate beyond {MAX_TOTAL_BYTES} bytes")
                arrays[info.filename.removesuffix(".npy")] = _parse_array(info.filename, raw)
    except ModelFileError:
        raise
    except Exception as error:  # BadZipFile, zlib.error, EOFError...: damage, whatever the type
        raise ModelFileError(f"corrupt model file ({type(error).__name__}: {error})") from None
    return arrays, header


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _parse_header(raw: bytes) -> dict:
    try:
        header = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ModelFileError(f"unreadable {HEADER} ({type(error).__name__})") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{HEADER} is not a JSON object")
    return header


def _parse_array(name: str, raw: bytes) -> np.ndarray:
    try:
        array = np.load(io.BytesIO(raw), allow_pickle=False)
    except Exception as error:  # numpy raises ValueError, EOFError, OSError, SyntaxError...
        raise ModelFileError(f"unreadable array {name!r} ({type(error).__name__}: "
                             f"{str(error)[:200]})") from None
    if not isinstance(array, np.ndarray) or array.dtype.hasobject:
        raise ModelFileError(f"member {name!r} is not a plain numeric array")
    return array
