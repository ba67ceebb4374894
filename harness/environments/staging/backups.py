"""The ``backups`` role in staging: the RDS snapshots of an instance (and, optionally, a bucket
of exported backups)."""

from __future__ import annotations

from datetime import UTC, datetime

from drillbook.harness.environments.staging.aws.rds import Rds
from drillbook.harness.environments.staging.aws.rds_snapshots import RdsSnapshot, RdsSnapshots
from drillbook.harness.environments.staging.settings import BackupsSettings


class RdsBackups:
    def __init__(self, rds: Rds, settings: BackupsSettings) -> None:
        self.settings = settings
        self.snapshots = RdsSnapshots(rds)

    def list(self) -> list[RdsSnapshot]:
        """Available snapshots of the instance, newest first."""
        return [s for s in self.snapshots.list(self.settings.instance_id) if s.status == "available"]

    def latest(self) -> RdsSnapshot | None:
        found = self.list()
        return found[0] if found else None

    def age_s(self) -> float | None:
        """How old the newest snapshot is (the backup's recovery point), None without one."""
        latest = self.latest()
        if latest is None or latest.created is None:
            return None
        return (datetime.now(UTC) - latest.created).total_seconds()
