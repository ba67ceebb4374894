"""The ``backups`` role: the primary's snapshots and its WAL archive, what a restore has."""

from __future__ import annotations

from dataclasses import dataclass

from drillbook.harness.environments.base import Snapshot
from drillbook.twin.database import LocalDatabase


@dataclass
class LocalBackups:
    """Snapshots (base backups, verified) and the archive's state, for readiness and reports."""

    database: LocalDatabase

    def snapshots(self) -> list[Snapshot]:
        """Newest first."""
        return self.database.snapshots()

    def latest(self) -> Snapshot | None:
        found = self.database.snapshots()
        return found[0] if found else None

    def take(self, timeout: float = 600.0) -> Snapshot:
        return self.database.snapshot(timeout=timeout)

    def archived_up_to(self) -> str | None:
        """The newest WAL segment in the archive."""
        status = self.database.archive_status()
        return status.last_archived_wal
