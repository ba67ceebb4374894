"""``pods/<name>/log``: a pod's real output, as the supervisor keeps it (the current run, and
with ``previous=true`` the one before), with ``tailLines`` and ``limitBytes``; ``follow=true``
streams what the process writes until it exits, is replaced, or the client goes away."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from drillbook.twin.kube.errors import BadRequest

CHUNK = 64 * 1024


def _number(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"{name} must be a whole number, not {value!r}") from None
    if number < 0:
        raise BadRequest(f"{name} must be 0 or more, not {number}")
    return number


def options(query: dict[str, str]) -> tuple[int | None, int | None]:
    return _number(query.get("tailLines"), "tailLines"), _number(query.get("limitBytes"), "limitBytes")


def read(path: Path, *, tail_lines: int | None = None, limit_bytes: int | None = None) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return b""
    if tail_lines is not None:
        lines = data.splitlines(keepends=True)
        data = b"".join(lines[-tail_lines:]) if tail_lines else b""
    if limit_bytes is not None:
        data = data[:limit_bytes]
    return data


def follow(
    path: Path,
    start: int,
    write: Callable[[bytes], None],
    running: Callable[[], bool],
    *,
    interval: float = 0.2,
    limit: float = 3600.0,
) -> None:
    """Write what is appended to ``path`` after byte ``start`` while ``running()``; at most ``limit`` s."""
    deadline = time.monotonic() + limit
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return
    with handle:
        handle.seek(start)
        while time.monotonic() < deadline:
            data = handle.read(CHUNK)
            if data:
                write(data)
                continue
            if not running():
                write(handle.read())  # what it wrote last
                return
            time.sleep(interval)
