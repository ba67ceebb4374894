"""CreateDBSnapshot, DeleteDBSnapshot, RestoreDBInstanceFromDBSnapshot and
RestoreDBInstanceToPointInTime.

A snapshot is a verified base backup (``pg_basebackup``, ``pg_verifybackup``); a
restore is a new server with its own port, made from a snapshot, or from the newest
snapshot before the target plus the WAL archive (point-in-time recovery). Both run the
database role's own primitives, in the background.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime

from drillbook.harness.errors import DrillbookError
from drillbook.twin.database import RESERVED
from drillbook.twin.rds.errors import (
    DBInstanceAlreadyExists,
    DBSnapshotAlreadyExistsError,
    InvalidDBInstanceState,
    InvalidDBSnapshotState,
    InvalidParameterCombination,
    InvalidParameterValue,
    InvalidRestore,
    PointInTimeRestoreNotEnabled,
)
from drillbook.twin.rds.inventory import STANDALONE_KIND, Instance
from drillbook.twin.rds.operations import INSTANCE, SNAPSHOT
from drillbook.twin.rds.plane import STANDBY
from drillbook.twin.rds.views import AVAILABLE, TwinViews
from drillbook.twin.rds.window import as_utc

#: A restore's work is given this long (a large snapshot takes a while to copy and replay).
RESTORE_TIMEOUT_S = 1800.0
RESTORE_FAILED = "incompatible-restore"


class SnapshotActions(TwinViews):
    def create_snapshot(self, instance_id: str, snapshot_id: str, region: str) -> None:
        with self.lock:
            view = self.instance(instance_id, region)
            if view.status != AVAILABLE:
                raise InvalidDBInstanceState(
                    f"Cannot create a snapshot because the database instance {view.instance.id} is not "
                    f"currently in the available state (it is {view.status})."
                )
            if self.snapshot_exists(snapshot_id):
                raise DBSnapshotAlreadyExistsError(snapshot_id)
            inst = view.instance
            server = self.plane.server(self.record(), inst.server)
            catalogue = self.plane.catalogue(inst.server)
            key = snapshot_id.lower()

            def work() -> None:
                catalogue.take(server, kind="manual", snapshot_id=key)

            self.taking_snapshot(key, inst, (SNAPSHOT, key))
            self.ops.begin(
                SNAPSHOT, key, action="snapshot", status="creating", work=work, failed_status="failed"
            )

    def delete_snapshot(self, snapshot_id: str, region: str) -> None:
        with self.lock:
            view = self.snapshot(snapshot_id, region)
            if self.ops.failed(SNAPSHOT, view.id):  # a snapshot that failed left no files
                self.ops.forget_failure(SNAPSHOT, view.id)
                self.forget_pending_snapshot(view.id)
                return
            if view.status not in (AVAILABLE, "failed"):
                raise InvalidDBSnapshotState(
                    f"Cannot delete snapshot {view.id}: it is {view.status}; wait until it is available."
                )
            if view.kind != "manual":
                raise InvalidDBSnapshotState(
                    "Only manual snapshots may be deleted: automated ones are deleted "
                    "when they leave the retention window."
                )
            entry = self.entry(view.id)
            self.plane.catalogue(entry.server).delete(entry.snapshot.id)

    def restore_snapshot(self, snapshot_id: str, target_id: str, region: str) -> None:
        with self.lock:
            view = self.snapshot(snapshot_id, region)
            if view.status != AVAILABLE:
                raise InvalidDBSnapshotState(
                    f"Snapshot {view.id} is {view.status}, so it cannot be restored."
                )
            target = self._new_instance(target_id, region)
            entry = self.entry(view.id)
            record = self.record()
            database = self.plane.database(record)
            catalogue = self.plane.catalogue(entry.server)

            def work() -> None:
                database.restore(entry.snapshot, target.server, RESTORE_TIMEOUT_S, catalogue=catalogue)

            self._make(target, "restore", work)

    def restore_to_time(
        self, source_id: str, target_id: str, region: str, *, restore_time: datetime | None, use_latest: bool
    ) -> None:
        with self.lock:
            source = self.instance(source_id, region).instance
            if not source.backups:
                raise PointInTimeRestoreNotEnabled(source.id)
            if (restore_time is None) == (not use_latest):
                raise InvalidParameterCombination(
                    "Give exactly one of RestoreTime and UseLatestRestorableTime."
                )
            record = self.record()
            when = None if restore_time is None else as_utc(restore_time)
            if when is not None:
                window = self.window(record)
                if not window.holds(when):
                    raise InvalidRestore(
                        f"The restore time {when.isoformat()} is outside the restorable window of "
                        f"{source.id}: {window.describe()}. Choose a time in it, or UseLatestRestorableTime."
                    )
            target = self._new_instance(target_id, region)
            database = self.plane.database(record)

            def work() -> None:
                if when is not None:
                    database.restore_to_time(when, target.server, RESTORE_TIMEOUT_S)
                    return
                if database.running():
                    # As RDS ships the log continuously: what was committed until now is restorable.
                    with contextlib.suppress(DrillbookError):
                        database.archive_now()
                database.restore_latest(target.server, RESTORE_TIMEOUT_S)

            self._make(target, "point-in-time restore", work)

    # -- helpers ---------------------------------------------------------------

    def _new_instance(self, identifier: str, region: str) -> Instance:
        name = identifier.lower()
        if self.instance_exists(name):
            raise DBInstanceAlreadyExists()
        if name in (*RESERVED, STANDBY) or name in self.record().clusters:
            raise InvalidParameterValue(
                f"The DB instance identifier {identifier} is taken by a server of "
                "drillbook's local environment; choose another."
            )
        return Instance(name, name, region, f"{region}a", STANDALONE_KIND, port=0)

    def _make(self, target: Instance, action: str, work: Callable[[], None]) -> None:
        self.plane.update_facts(
            lambda facts: facts.setdefault("regions", {}).__setitem__(target.server, target.region)
        )
        self.making_instance(target)
        self.ops.begin(
            INSTANCE, target.id, action=action, status="creating", work=work, failed_status=RESTORE_FAILED
        )
