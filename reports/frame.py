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
from drillbook.harness.records import DRILL_KIND, kind_of, label, value_kind
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
    """The history columns of one record, tolerant of pre-1 shapes like ``DrillResult.from_dict``;
    a record of another shape raises ValueError naming the key."""
    drill, targets, measured, extra = (_object(data, k) for k in ("drill", "targets", "measured", "extra"))
    env = data.get("environment")
    if env is not None and not isinstance(env, str | dict):
        raise ValueError(f"environment is {value_kind(env)}, expected an object or a name")
    timeline = data.get("timeline") or [{}]
    first = timeline[0] if isinstance(timeline, list) and isinstance(timeline[0], dict) else {}
    started = data.get("started_at") or first.get("at")
    if started is not None and not isinstance(started, str):
        raise ValueError(f"started_at is {value_kind(started)}, expected a time")
    for table, key in (("measured", "rto_s"), ("measured", "rpo_s"), ("measured", "detect_s"),
                       ("targets", "rto_s"), ("targets", "rpo_s")):
        value = (measured if table == "measured" else targets).get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ValueError(f"{table}.{key} is {value_kind(value)}, expected a number")
    scenario = _text(drill, "drill", "scenario") or "unknown"
    option = _text(drill, "drill", "option")
    environment = env if isinstance(env, str) else (_text(env or {}, "environment", "name") or "unknown")
    return (
        _text(data, "", "record_id") or f"{data.get('run_id')}-{_text(data, '', 'hash')[:8]}",
        str(data.get("run_id")),
        scenario,
        option,
        f"{scenario} / {option}" if option else scenario,
        _text(drill, "drill", "tier"),
        _text(extra, "extra", "schedule"),
        (_text(data, "", "status") or "FAIL").upper(),
        started,
        measured.get("rto_s"),
        measured.get("rpo_s"),
        targets.get("rto_s"),
        targets.get("rpo_s"),
        measured.get("detect_s"),
        environment,
        name,
        bool(extra.get("unannounced")),
        kind_of(data),
    )


def _text(table: dict[str, Any], where: str, key: str) -> str:
    """A label column, as every reader of records reads a label (``records.label``)."""
    return label(table.get(key), f"{where}.{key}" if where else key) or ""


def _object(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise ValueError(f"{key} is {value_kind(value)}, expected an object")
    return value


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
    for name in paths:
        path = Path(name)
        raw = journal.read_bytes(path)
        try:
            data = top_level(raw.decode("utf-8"))
        except (ValueError, TypeError, RecursionError):
            data = journal.parse_record(raw, path)  # raises naming what is wrong
        if not isinstance(data.get("run_id"), str):
            data = journal.parse_record(raw, path)
        try:
            out.append(row(data, path.name))
        except ValueError as exc:
            raise journal.damaged(path, f"a journal record of an unknown shape ({exc})") from None
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
    started = pd.to_datetime(frame["started"], utc=True, format="ISO8601", errors="coerce")
    bad = frame["started"].notna() & started.isna()
    if bad.any():
        first = frame[bad].iloc[0]
        raise journal.damaged(directory / str(first["file"]),
                              f"started_at {first['started']!r} is not an ISO time")
    frame["started"] = started
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
