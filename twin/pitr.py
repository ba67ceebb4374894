"""Restores: a snapshot as it was, or point-in-time recovery from a snapshot plus the archive.

Both build a *new* server from a catalogued snapshot, never touching the
primary, like RDS's restore-db-instance-from-db-snapshot and
restore-db-instance-to-point-in-time. A point-in-time recovery starts from the
newest snapshot taken before the target, replays archived WAL up to a time or
an LSN, then promotes (``recovery_target_action = promote``). Restored servers
do not archive: they must not write into the primary's archive.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from drillbook.harness.environments.base import Snapshot
from drillbook.harness.errors import DrillbookError, InvalidDrillConfig
from drillbook.twin.archive import WalArchive
from drillbook.twin.postgres import ClusterError, PostgresCluster, parse_lsn
from drillbook.twin.snapshots import SnapshotCatalogue


class RestoreError(DrillbookError):
    pass


@dataclass(frozen=True)
class RecoveryTarget:
    """Where point-in-time recovery stops: a time (aware) or an LSN, exactly one.

    ``inclusive``: a transaction committed exactly at the target is kept (True,
    PostgreSQL's default) or not.
    """

    time: datetime | None = None
    lsn: str | None = None
    inclusive: bool = True

    def __post_init__(self) -> None:
        if (self.time is None) == (self.lsn is None):
            raise InvalidDrillConfig("a recovery target is a time or an LSN (exactly one of them)")
        if self.time is not None and self.time.tzinfo is None:
            raise InvalidDrillConfig(f"recovery target time {self.time} has no time zone; pass an aware "
                                     "datetime (e.g. datetime.now(UTC))")
        if self.lsn is not None:
            parse_lsn(self.lsn)

    def describe(self) -> str:
        return f"time {self.time.isoformat()}" if self.time is not None else f"LSN {self.lsn}"

    def settings(self) -> dict[str, Any]:
        if self.time is not None:
            target: dict[str, Any] = {"recovery_target_time": f"'{self.time.astimezone(UTC).isoformat()}'"}
        else:
            target = {"recovery_target_lsn": f"'{self.lsn}'"}
        return {**target, "recovery_target_inclusive": "on" if self.inclusive else "off"}


def restored_settings() -> dict[str, Any]:
    return {"archive_mode": "off", "hot_standby": "on", "track_commit_timestamp": "on"}


def restore_snapshot(catalogue: SnapshotCatalogue, snapshot: Snapshot, into: PostgresCluster, *,
                     timeout: float = 1800.0) -> PostgresCluster:
    """A new server with the snapshot's data (consistent as of the end of its backup)."""
    _copy(catalogue, snapshot, into, timeout)
    into.configure(restored_settings())
    # No recovery.signal: crash recovery from the backup label replays the WAL the
    # snapshot carries, then the server opens for writes.
    return _start(into, timeout, what=f"restore of snapshot {snapshot.id}")


def recover_to(catalogue: SnapshotCatalogue, archive: WalArchive, target: RecoveryTarget,
               into: PostgresCluster, *, timeout: float = 1800.0) -> PostgresCluster:
    """A new server recovered to ``target`` from the newest snapshot before it and the archive."""
    base = base_snapshot(catalogue, target)
    _copy(catalogue, base, into, timeout)
    into.configure({
        **restored_settings(),
        "restore_command": "'" + archive.restore_command().replace("'", "''") + "'",
        "recovery_target_action": "'promote'",
        "recovery_target_timeline": "'current'",
        **target.settings(),
    })
    signal_file = into.datadir / "recovery.signal"
    signal_file.touch()
    into.user.own(signal_file)
    return _start(into, timeout, what=f"point-in-time recovery to {target.describe()} from {base.id}")


def recover_to_end(catalogue: SnapshotCatalogue, archive: WalArchive, into: PostgresCluster, *,
                   timeout: float = 1800.0) -> tuple[PostgresCluster, Snapshot]:
    """A new server from the newest snapshot plus every segment the archive holds now (no
    target: recovery runs to the end of the archive, then the server opens). What a
    restore gives if the primary were lost this instant; nothing is archived first."""
    candidates = [s for s in catalogue.list() if s.verified is not False]
    if not candidates:
        raise RestoreError("no snapshot to restore from; take one first (snapshot())")
    base = candidates[0]
    _copy(catalogue, base, into, timeout)
    into.configure({
        **restored_settings(),
        "restore_command": "'" + archive.restore_command().replace("'", "''") + "'",
        "recovery_target_timeline": "'current'",
    })
    signal_file = into.datadir / "recovery.signal"
    signal_file.touch()
    into.user.own(signal_file)
    return _start(into, timeout, what=f"recovery of {base.id} to the end of the archive"), base


def base_snapshot(catalogue: SnapshotCatalogue, target: RecoveryTarget) -> Snapshot:
    """The newest verified (or unverified) snapshot that was complete before ``target``."""
    candidates = [s for s in catalogue.list() if s.verified is not False]
    if target.time is not None:
        when = target.time
        usable = [s for s in candidates if s.finished_at <= when]
    else:
        assert target.lsn is not None
        wanted = parse_lsn(target.lsn)
        usable = [s for s in candidates if _end_lsn(s) is not None and _end_lsn(s) <= wanted]  # type: ignore[operator]
    if not usable:
        oldest = min((s.finished_at for s in candidates), default=None)
        raise RestoreError(
            f"no snapshot was complete before {target.describe()}"
            + (f"; the oldest finished at {oldest.isoformat()}" if oldest else "; there are no snapshots")
            + ": choose a later target or take snapshots earlier")
    return usable[0]  # the catalogue lists newest first


def _end_lsn(snap: Snapshot) -> int | None:
    value = snap.detail.get("end_lsn")
    return parse_lsn(value) if isinstance(value, str) else None


def _copy(catalogue: SnapshotCatalogue, snapshot: Snapshot, into: PostgresCluster, timeout: float) -> None:
    if into.running():
        raise RestoreError(f"{into.name} is running; restore into a new server")
    into.prepare_parent()
    catalogue.copy_into(snapshot, into.datadir, timeout=timeout)
    into.user.own(into.datadir)
    for stale in ("postmaster.pid", "standby.signal", "recovery.signal"):
        (into.datadir / stale).unlink(missing_ok=True)


def _start(into: PostgresCluster, timeout: float, *, what: str) -> PostgresCluster:
    try:
        into.start(timeout=timeout)
        into.wait_ready(timeout=timeout)
        into.wait_writable(timeout=timeout)
    except ClusterError as exc:
        detail = into.log_tail(8)
        into.stop("immediate")
        shutil.rmtree(into.datadir, ignore_errors=True)
        raise RestoreError(f"{what} failed: {exc}; server log: {detail}") from exc
    return into
