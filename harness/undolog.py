"""The persisted undo log: every fault is written down before it takes effect.

One JSON-lines file per run under ``<state_dir>/undo/``. A fault's entry is
appended (and fsynced) *before* it is injected and a ``reverted`` entry after it
was reverted, so a runner killed at any point leaves a file listing exactly the
faults that may still be in effect. ``drillbook revert`` replays them newest
first from another process; the next run warns about them.

Each entry is one line written whole (:func:`drillbook.harness.atomic.append_line`):
a full disk leaves the file as it was, and refuses the fault before it is injected.
A line that is not JSON was torn by a crash in the middle of its write: its fault
was never injected, so the reader skips it. A line that is JSON but not an entry
means the file is not (or no longer) an undo log: :class:`UndoLogError` names it.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drillbook.harness import procs
from drillbook.harness.atomic import append_line
from drillbook.harness.errors import DrillbookError
from drillbook.harness.redact import redact
from drillbook.harness.timing import utcnow_iso

STATES = ("pending", "injected", "reverted", "failed")


class UndoLogError(DrillbookError):
    """An undo log cannot be read: the file and the line say where, the message what to do."""


@dataclass
class UndoEntry:
    seq: int
    name: str
    params: dict[str, Any]
    registered: bool
    at: str
    nodeid: str = ""
    state: str = "pending"  # pending | injected | reverted | failed
    error: str = ""


@dataclass
class UndoLogFile:
    path: Path
    run_id: str
    pid: int | None
    pid_ticks: int | None
    entries: list[UndoEntry] = field(default_factory=list)

    @property
    def outstanding(self) -> list[UndoEntry]:
        """Faults not known to be reverted, newest first."""
        return [e for e in reversed(self.entries) if e.state != "reverted"]

    @property
    def runner_alive(self) -> bool:
        return self.pid is not None and procs.alive(self.pid, self.pid_ticks)


#: Told the outstanding entries after each change (the lease mirrors them where a run on another
#: host can revert them); raising from it refuses the fault about to be injected.
Observer = Callable[[list[dict[str, Any]]], None]


class UndoLog:
    """The writer side, used by a running drill session."""

    def __init__(self, state_dir: Path, run_id: str) -> None:
        self.directory = state_dir / "undo"
        self.run_id = run_id
        self.path = self.directory / f"{run_id}.jsonl"
        self._seq = 0
        self.observer: Observer | None = None
        self._outstanding: dict[int, dict[str, Any]] = {}

    def _append(self, record: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            header = {
                "op": "run",
                "run_id": self.run_id,
                "pid": os.getpid(),
                "pid_ticks": procs.start_ticks(os.getpid()),
                "at": utcnow_iso(),
            }
            self._write_line(header)
        self._write_line(record)

    def _write_line(self, record: dict[str, Any]) -> None:
        append_line(self.path, json.dumps(record, sort_keys=True))

    def before_inject(self, name: str, params: dict[str, Any], registered: bool, nodeid: str) -> int:
        self._seq += 1
        seq = self._seq
        entry = {"seq": seq, "name": name, "params": redact(params), "registered": registered,
                 "nodeid": nodeid}
        self._append({"op": "inject", **entry, "at": utcnow_iso()})
        self._outstanding[seq] = entry
        if self.observer is not None:
            try:
                self.observer(list(self._outstanding.values()))
            except BaseException as exc:
                # Refused before it took effect: the entry is closed, nothing is left to revert.
                self.mark(seq, "reverted", f"not injected: {exc}")
                raise
        return seq

    def mark(self, seq: int, state: str, error: str = "") -> None:
        append_mark(self.path, seq, state, error)
        if state == "reverted" and self._outstanding.pop(seq, None) is not None and self.observer is not None:
            with contextlib.suppress(Exception):  # a stale mirror only makes a takeover revert again
                self.observer(list(self._outstanding.values()))

    def close_if_clean(self) -> bool:
        """Remove the file when every fault in it was reverted. True if removed."""
        if not self.path.exists():
            return True
        if read(self.path).outstanding:
            return False
        self.path.unlink()
        return True


def read(path: Path) -> UndoLogFile:
    """The entries of one undo log; :class:`UndoLogError` for a file that is not one."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UndoLogError(f"undo log {path} cannot be read ({exc.strerror or exc})") from exc
    run_id, pid, ticks = path.stem, None, None
    entries: dict[int, UndoEntry] = {}
    for number, line in enumerate(raw.split(b"\n"), 1):
        try:
            record = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            continue  # a line torn by a crash mid-write: the entries before it stand
        try:
            op = _field(record, "op", str)
            if op == "run":
                run_id = _field(record, "run_id", str, run_id)
                pid, ticks = _field(record, "pid", int, None), _field(record, "pid_ticks", int, None)
            elif op == "inject":
                seq = _field(record, "seq", int)
                entries[seq] = UndoEntry(seq, _field(record, "name", str), _field(record, "params", dict, {}),
                                         bool(record.get("registered")), _field(record, "at", str, ""),
                                         _field(record, "nodeid", str, ""))
            elif op in STATES:
                entry = entries.get(_field(record, "seq", int))
                if entry is not None:
                    entry.state = op
                    entry.error = _field(record, "error", str, "")
            else:
                raise ValueError(f"unknown op {op!r}")
        except ValueError as exc:
            raise UndoLogError(f"undo log {path} line {number} is not an undo-log entry ({exc}); the "
                               "faults it lists may still be in effect: revert them by hand, then delete "
                               "the file") from None
    return UndoLogFile(path, run_id, pid, ticks, [entries[k] for k in sorted(entries)])


_MISSING: Any = object()


def _field(record: Any, key: str, kind: type, default: Any = _MISSING) -> Any:
    if not isinstance(record, dict):
        raise ValueError(f"a JSON {type(record).__name__}, not an object")
    value = record.get(key, default)
    if value is _MISSING:
        raise ValueError(f"no {key!r}")
    wrong = not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool)
    if value is not default and wrong:
        raise ValueError(f"{key!r} is a JSON {type(value).__name__}, expected {kind.__name__}")
    return value


def all_logs(state_dir: Path) -> list[UndoLogFile]:
    """Every undo log of ``state_dir``; the first that cannot be read raises :class:`UndoLogError`."""
    logs, problems = scan(state_dir)
    if problems:
        raise next(iter(problems.values()))
    return logs


def scan(state_dir: Path) -> tuple[list[UndoLogFile], dict[Path, UndoLogError]]:
    """Every readable undo log, and by file an error for each that is not (the others still count)."""
    directory = state_dir / "undo"
    if not directory.is_dir():
        return [], {}
    logs, problems = [], {}
    for path in sorted(directory.glob("*.jsonl")):
        try:
            logs.append(read(path))
        except UndoLogError as exc:
            problems[path] = exc
    return logs, problems


def leftovers(state_dir: Path) -> list[UndoLogFile]:
    """Logs of dead runners that still list faults not known to be reverted."""
    return [log for log in all_logs(state_dir) if log.outstanding and not log.runner_alive]


def append_mark(path: Path, seq: int, state: str, error: str = "") -> None:
    if not path.exists():
        raise UndoLogError(f"undo log {path} is gone: cannot mark entry {seq} {state}")
    append_line(path, json.dumps({"op": state, "seq": seq, "at": utcnow_iso(), "error": redact(error)},
                                 sort_keys=True))
