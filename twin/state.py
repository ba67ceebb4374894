"""The local environment's state file: what runs, where, since when.

``<state dir>/environment.json`` names every process and every PostgreSQL
server the environment started (pid and start time, port, data directory), so
``drillbook env down`` and ``status`` work from any process, also after the
runner that started them was killed. Every change is a locked read-modify-write
followed by an atomic rename: a reader never sees half a file.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from drillbook.harness.errors import DrillbookError

SCHEMA_VERSION = 1
STATE_FILE = "environment.json"
LOCK_FILE = "environment.lock"
#: Every process the environment starts carries this variable, set to the
#: environment's label, so leftovers can be found even if they were never recorded.
LABEL_VARIABLE = "DRILLBOOK_ENV_LABEL"


class StateError(DrillbookError):
    pass


@dataclass
class ProcessRecord:
    """A process the environment started (not a PostgreSQL server: see ClusterRecord)."""

    name: str
    pid: int
    ticks: int | None
    argv: list[str]
    port: int | None = None
    log: str | None = None
    pidfile: str | None = None


@dataclass
class ClusterRecord:
    """A PostgreSQL server: the primary, the DR replica, or a restored copy."""

    name: str
    datadir: str
    port: int
    role: str  # primary, standby, promoted, restored, pitr


@dataclass
class EnvRecord:
    label: str
    phase: str = "starting"  # starting, up, stopping, down, failed
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    processes: dict[str, ProcessRecord] = field(default_factory=dict)
    clusters: dict[str, ClusterRecord] = field(default_factory=dict)
    #: Facts the roles need in another process (URLs, names, secret ids; never a secret).
    facts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EnvRecord:
        return cls(
            label=data["label"], phase=data.get("phase", "starting"),
            started_at=data.get("started_at", ""),
            processes={k: ProcessRecord(**v) for k, v in data.get("processes", {}).items()},
            clusters={k: ClusterRecord(**v) for k, v in data.get("clusters", {}).items()},
            facts=dict(data.get("facts", {})), error=data.get("error"),
            schema_version=int(data.get("schema_version", SCHEMA_VERSION)),
        )


class StateFile:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / STATE_FILE

    def exists(self) -> bool:
        return self.path.is_file()

    def read(self) -> EnvRecord | None:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return None
        try:
            return EnvRecord.from_json(json.loads(text))
        except (ValueError, KeyError, TypeError) as exc:
            raise StateError(f"{self.path} is not a drillbook environment state ({exc}); "
                             "stop its processes by hand and delete it") from exc

    def write(self, record: EnvRecord) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        with open(tmp, "w") as handle:
            json.dump(record.to_json(), handle, indent=2, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(self.path)

    def update(self, change: Callable[[EnvRecord], None]) -> EnvRecord:
        """Apply ``change`` to the current record under the lock and write it back."""
        with self.locked():
            record = self.read()
            if record is None:
                raise StateError(f"no environment state in {self.directory}; run `drillbook env up`")
            change(record)
            self.write(record)
            return record

    @contextmanager
    def locked(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / LOCK_FILE, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
