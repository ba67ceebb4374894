"""Every journal record as one row of a pandas DataFrame, for history and freshness.

Only the columns history needs are extracted, straight from the parsed JSON
(building full :class:`DrillResult` objects for 10,000 records costs seconds).
Large journals are parsed by two processes when the machine has the cores.
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drillbook.harness import journal
from drillbook.harness.records import DRILL_KIND, kind_of
from drillbook.harness.redact import redact_text
from drillbook.reports import rowcache

if TYPE_CHECKING:  # pandas is imported by what builds a frame, not by what reads rows
    import pandas as pd

COLUMNS = (
    "record_id",
    "run_id",
    "scenario",
    "option",
    "drill",
    "tier",
    "schedule",
    "status",
    "started",
    "rto_s",
    "rpo_s",
    "rto_target",
    "rpo_target",
    "detect_s",
    "environment",
    "file",
    "unannounced",
    "kind",  # "drill", or "signoff" (a sign-off record: no drill, never in a frame)
)
KIND = COLUMNS.index("kind")
PARALLEL_FROM = 3000  # below this, starting worker processes costs more than it saves

Row = tuple[Any, ...]


def row(data: dict[str, Any], name: str) -> Row:
    """The history columns of one record, tolerant of pre-1 shapes like ``DrillResult.from_dict``."""
    drill = data.get("drill") or {}
    targets = data.get("targets") or {}
    measured = data.get("measured") or {}
    extra = data.get("extra") or {}
    env = data.get("environment")
    timeline = data.get("timeline") or [{}]
    scenario = str(drill.get("scenario") or "unknown")
    option = str(drill.get("option") or "")
    return (
        data.get("record_id") or f"{data.get('run_id')}-{str(data.get('hash') or '')[:8]}",
        str(data.get("run_id")),
        scenario,
        option,
        f"{scenario} / {option}" if option else scenario,
        str(drill.get("tier") or ""),
        str(extra.get("schedule") or ""),
        str(data.get("status") or "FAIL").upper(),
        data.get("started_at") or timeline[0].get("at"),
        measured.get("rto_s"),
        measured.get("rpo_s"),
        targets.get("rto_s"),
        targets.get("rpo_s"),
        measured.get("detect_s"),
        env if isinstance(env, str) else (env or {}).get("name", "unknown"),
        name,
        bool(extra.get("unannounced")),
        kind_of(data),
    )


_WANTED = frozenset(
    (
        "drill",
        "environment",
        "extra",
        "measured",
        "targets",
        "record_id",
        "run_id",
        "started_at",
        "status",
        "hash",
        "kind",
    )
)


def top_level(text: str, wanted: frozenset[str] = _WANTED) -> dict[str, Any]:
    """The ``wanted`` top-level keys of a journal file, without parsing the rest (the timeline).

    Journal files are written in one canonical form (sorted keys, indent 2), in
    which a top-level key, and only a top-level key, starts a line with exactly
    two spaces and a quote (a string never holds a raw line break). A file in any
    other form is parsed whole, so the result is the same either way.
    """
    cut = text.find('\n  "timeline": ')  # every wanted key sorts before the (long) timeline
    parts = (text[:cut] + "\n}" if cut > 0 else text).split('\n  "')
    if len(parts) < 3 or parts[0] != "{":
        return dict(json.loads(text))
    out: dict[str, Any] = {}
    last = len(parts) - 1
    try:
        for number, part in enumerate(parts[1:], 1):
            key, _, value = part.partition('": ')
            if key not in wanted:
                continue
            value = value.rstrip()
            if number == last:
                value = value.removesuffix("}").rstrip()
            out[key] = json.loads(value.removesuffix(","))
    except ValueError:
        return dict(json.loads(text))
    if "started_at" not in out or not out["started_at"]:  # pre-1 records: the first timeline event
        out["timeline"] = json.loads(text).get("timeline")
    return out


def _rows(paths: Sequence[str]) -> list[Row]:
    out = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            out.append(row(top_level(handle.read()), path.rsplit("/", 1)[-1]))
    return out


def load_rows(
    directory: Path, *, workers: int | None = None, files: list[Path] | None = None, cache: bool = False
) -> list[Row]:
    """The rows of every record; with ``cache``, only new or changed files are parsed
    (:mod:`drillbook.reports.rowcache`)."""
    listed = journal.record_files(directory) if files is None else files
    if cache:
        return rowcache.rows(directory, listed, lambda stale: _parse(stale, workers), columns=len(COLUMNS))
    return _parse(listed, workers)


def _parse(files: list[Path], workers: int | None) -> list[Row]:
    paths = [str(p) for p in files]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    workers = min(cores, 4) if workers is None else workers
    # fork() copies one thread only: with other threads alive a worker could inherit a held lock
    if workers < 2 or len(paths) < PARALLEL_FROM or threading.active_count() > 1:
        return _rows(paths)
    size = -(-len(paths) // workers)
    chunks = [paths[i : i + size] for i in range(0, len(paths), size)]
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork")) as pool:
        return [r for part in pool.map(_rows, chunks) for r in part]


def load_frame(
    directory: Path, *, workers: int | None = None, files: list[Path] | None = None, cache: bool = False
) -> pd.DataFrame:
    """One row per drill record, in chain order; ``started`` is a UTC datetime."""
    import pandas as pd

    rows = load_rows(directory, workers=workers, files=files, cache=cache)
    rows = [r for r in rows if r[KIND] == DRILL_KIND]
    frame = pd.DataFrame.from_records(rows, columns=list(COLUMNS))
    frame["started"] = pd.to_datetime(frame["started"], utc=True, format="ISO8601")
    for column in ("rto_s", "rpo_s", "rto_target", "rpo_target", "detect_s"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for column in ("scenario", "option", "drill", "environment"):  # few distinct values: redact those
        frame[column] = frame[column].map(
            dict(zip(u := frame[column].unique(), map(redact_text, u), strict=True))
        )
    return frame


def as_datetime(value: Any) -> datetime | None:
    """A frame cell as an aware datetime, None for NaT/None."""
    import pandas as pd

    if value is None:
        return None
    stamp = pd.Timestamp(value)
    return None if pd.isna(stamp) else stamp.to_pydatetime()


def as_float(value: Any) -> float | None:
    """A frame cell as a float, None for NaN/None."""
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number
