"""The persisted undo log: every fault is written down before it takes effect.

One JSON-lines file per run under ``<state_dir>/undo/``. A fault's entry is
appended (and fsynced) *before* it is injected and a ``reverted`` entry after it
was reverted, so a runner killed at any point leaves a file listing exactly the
faults that may still be in effect. ``drillbook revert`` replays them newest
first from another process; the next run warns about them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drillbook.harness import procs
from drillbook.harness.redact import redact
from drillbook.harness.timing import utcnow_iso


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


class UndoLog:
    """The writer side, used by a running drill session."""

    def __init__(self, state_dir: Path, run_id: str) -> None:
        self.directory = state_dir / "undo"
        self.run_id = run_id
        self.path = self.directory / f"{run_id}.jsonl"
        self._seq = 0

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
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (json.dumps(record, sort_keys=True) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def before_inject(self, name: str, params: dict[str, Any], registered: bool, nodeid: str) -> int:
        self._seq += 1
        self._append(
            {
                "op": "inject",
                "seq": self._seq,
                "name": name,
                "params": redact(params),
                "registered": registered,
                "nodeid": nodeid,
                "at": utcnow_iso(),
            }
        )
        return self._seq

    def mark(self, seq: int, state: str, error: str = "") -> None:
        append_mark(self.path, seq, state, error)

    def close_if_clean(self) -> bool:
        """Remove the file when every fault in it was reverted. True if removed."""
        if not self.path.exists():
            return True
        if read(self.path).outstanding:
            return False
        self.path.unlink()
        return True


def read(path: Path) -> UndoLogFile:
    run_id, pid, ticks = path.stem, None, None
    entries: dict[int, UndoEntry] = {}
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line torn by a crash mid-write: the entries before it stand
        op = record.get("op")
        if op == "run":
            run_id, pid, ticks = record.get("run_id", run_id), record.get("pid"), record.get("pid_ticks")
        elif op == "inject":
            entries[record["seq"]] = UndoEntry(
                record["seq"],
                record["name"],
                record.get("params", {}),
                bool(record.get("registered")),
                record.get("at", ""),
                record.get("nodeid", ""),
            )
        elif op in ("injected", "reverted", "failed") and record.get("seq") in entries:
            entry = entries[record["seq"]]
            entry.state = op
            entry.error = record.get("error", "")
    return UndoLogFile(path, run_id, pid, ticks, [entries[k] for k in sorted(entries)])


def all_logs(state_dir: Path) -> list[UndoLogFile]:
    directory = state_dir / "undo"
    if not directory.is_dir():
        return []
    return [read(p) for p in sorted(directory.glob("*.jsonl"))]


def leftovers(state_dir: Path) -> list[UndoLogFile]:
    """Logs of dead runners that still list faults not known to be reverted."""
    return [log for log in all_logs(state_dir) if log.outstanding and not log.runner_alive]


def append_mark(path: Path, seq: int, state: str, error: str = "") -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(
            fd,
            (
                json.dumps(
                    {"op": state, "seq": seq, "at": utcnow_iso(), "error": redact(error)}, sort_keys=True
                )
                + "\n"
            ).encode(),
        )
        os.fsync(fd)
    finally:
        os.close(fd)
