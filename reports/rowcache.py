"""A cache of history rows, so ``drillbook history`` re-reads only new or changed records.

Each row is stored with its file's identity: inode, size, modification and
change times. Writing a file changes its change time (which ``touch`` cannot
set back), so a record edited in place is read again; a copied or restored
journal is read whole. The cache is JSON (never pickle: loading it runs no
code) under ``$DRILLBOOK_CACHE_DIR`` or ``~/.cache/drillbook``; a cache that
cannot be read or written is ignored. History is analysis, not evidence: the
DR Test Report's chain verification never uses this cache.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

VERSION = 1
Key = list[int]


def cache_dir() -> Path:
    return Path(os.environ.get("DRILLBOOK_CACHE_DIR") or Path.home() / ".cache" / "drillbook")


def cache_file(directory: Path) -> Path:
    digest = hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:16]
    return cache_dir() / f"history-{digest}.json"


def _identity(path: Path) -> Key:
    st = path.stat()
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("rows"), dict):
        return {}
    held: dict[str, Any] = data["rows"]
    return held


def rows(
    directory: Path,
    files: Sequence[Path],
    parse: Callable[[list[Path]], list[tuple[Any, ...]]],
    *,
    columns: int,
) -> list[tuple[Any, ...]]:
    """The rows of ``files``, parsing (with ``parse``) only those the cache does not hold as they are."""
    where = cache_file(directory)
    cached = _read(where)
    keys = [_identity(p) for p in files]
    stale = [
        p
        for p, key in zip(files, keys, strict=True)
        if (hit := cached.get(p.name)) is None or hit[0] != key or len(hit[1]) != columns
    ]
    fresh = dict(zip((p.name for p in stale), parse(stale), strict=True))
    out = [fresh[p.name] if p.name in fresh else tuple(cached[p.name][1]) for p in files]
    if stale or len(cached) != len(files):
        body = {
            "version": VERSION,
            "directory": str(directory.resolve()),
            "rows": {p.name: [key, list(r)] for p, key, r in zip(files, keys, out, strict=True)},
        }
        try:
            where.parent.mkdir(parents=True, exist_ok=True)
            tmp = where.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(body, separators=(",", ":")), encoding="utf-8")
            tmp.replace(where)
        except OSError:
            pass  # a read-only home: no cache, same result
    return out
