"""Evidence written whole or not at all.

A journal record, a report or a sealed file is written to a temporary file beside
its place, fsynced, renamed over the final name and the directory fsynced: a crash
or a full disk leaves the previous state (no file, or the old one), never half a
file. An undo-log entry is one line appended to a file that must keep every line
before it: :func:`append_line` appends the whole line or, when the write fails
part-way (a full disk), cuts the file back to where it was.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from drillbook.harness.errors import DrillbookError


class WriteFailed(DrillbookError):
    """A file could not be written whole; nothing of the attempt was left behind."""


def write_atomic(path: Path, data: str | bytes, *, mode: int = 0o644) -> Path:
    """Replace ``path`` with ``data`` in one step (see the module's docstring)."""
    body = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(3)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            _write_all(fd, body)
            os.fsync(fd)
        finally:
            os.close(fd)
        tmp.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise WriteFailed(
            f"{path}: not written ({exc.strerror or exc}); nothing was left half-written"
        ) from exc
    sync_directory(path.parent)
    return path


def append_line(path: Path, line: str, *, mode: int = 0o600) -> None:
    """Append ``line`` (a newline is added) to ``path`` whole, and fsync it.

    A line torn by an earlier crash (the file does not end with a newline) is
    closed first, so the new line never runs into it.
    """
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, mode)
    try:
        size = os.fstat(fd).st_size
        torn = size > 0 and os.pread(fd, 1, size - 1) != b"\n"
        body = ("\n" if torn else "") + line + "\n"
        try:
            _write_all(fd, body.encode("utf-8"))
            os.fsync(fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)
                os.fsync(fd)
            raise WriteFailed(
                f"{path}: entry not written ({exc.strerror or exc}); the file is as it was before"
            ) from exc
    finally:
        os.close(fd)


def sync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (best effort where directories cannot be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_all(fd: int, body: bytes) -> None:
    view = memoryview(body)
    while view:
        written = os.write(fd, view)
        view = view[written:]
