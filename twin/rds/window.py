"""The restorable window of point-in-time recovery: from the oldest snapshot a recovery
can start from, to the latest restorable time.

``LatestRestorableTime`` follows the WAL archive. While the primary runs it is now: a
point-in-time restore first archives the primary's current WAL (as RDS ships it
continuously; RDS itself shows a time up to five minutes old). When the primary does not
run, it is the time the newest segment reached the archive: nothing later can be replayed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from drillbook.twin.archive import WalArchive
from drillbook.twin.postgres import PostgresCluster
from drillbook.twin.snapshots import SnapshotCatalogue


@dataclass(frozen=True)
class RestoreWindow:
    earliest: datetime | None
    latest: datetime | None

    def holds(self, when: datetime) -> bool:
        return self.earliest is not None and self.latest is not None and self.earliest <= when <= self.latest

    def describe(self) -> str:
        if self.earliest is None or self.latest is None:
            return "none (no snapshot to start from, or nothing archived)"
        return f"{_iso(self.earliest)} to {_iso(self.latest)}"


def restore_window(
    primary: PostgresCluster, catalogue: SnapshotCatalogue, archive: WalArchive
) -> RestoreWindow:
    usable = [s.finished_at for s in catalogue.list() if s.verified is not False]
    return RestoreWindow(min(usable, default=None), latest_restorable_time(primary, archive))


def latest_restorable_time(primary: PostgresCluster, archive: WalArchive) -> datetime | None:
    if primary.running():
        return datetime.now(UTC)
    return newest_archived(archive)


def newest_archived(archive: WalArchive) -> datetime | None:
    if not archive.directory.is_dir():
        return None
    times = [
        p.stat().st_mtime for p in archive.directory.iterdir() if p.is_file() and not p.name.endswith(".part")
    ]
    return datetime.fromtimestamp(max(times), UTC) if times else None


def as_utc(when: datetime) -> datetime:
    """AWS times are UTC; moto hands over a naive one."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
