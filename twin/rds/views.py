"""What the RDS API shows: every DB instance with the status of its server (or of the work
running on it), and every snapshot, read afresh from the state file and the catalogues.

An instance or snapshot the API is still making is not in the state file or a catalogue
yet: it is shown from what the call said (``pending``) while its work runs, and, for a
restore that failed, with the failure's status until it is deleted.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from drillbook.twin.rds.errors import DBInstanceNotFoundError, DBSnapshotNotFoundFault
from drillbook.twin.rds.inventory import Instance, SnapshotEntry, instances, snapshots
from drillbook.twin.rds.operations import INSTANCE, Operations
from drillbook.twin.rds.plane import PRIMARY, REPLICA, DataPlane, PlaneNotUp
from drillbook.twin.rds.window import RestoreWindow, restore_window
from drillbook.twin.state import EnvRecord

AVAILABLE, STOPPED, CREATING = "available", "stopped", "creating"


@dataclass(frozen=True)
class InstanceView:
    instance: Instance
    status: str
    created: datetime
    latest_restorable: datetime | None = None


@dataclass(frozen=True)
class SnapshotView:
    id: str
    instance: str
    region: str
    kind: str  # manual, automated
    status: str
    created: datetime
    size_bytes: int = 0


class TwinViews:
    def __init__(self, plane: DataPlane, *, log: logging.Logger | None = None) -> None:
        self.plane = plane
        self.log = log or logging.getLogger("drillbook.twin.rds")
        self.ops = Operations(self.log)
        #: Checks and the start of work happen under it, so two calls never both pass.
        self.lock = threading.RLock()
        self._pending_instances: dict[str, tuple[Instance, datetime]] = {}
        #: Snapshots being taken: what to show, and the work (its key) taking them.
        self._pending_snapshots: dict[str, tuple[SnapshotView, tuple[str, str]]] = {}

    def record(self) -> EnvRecord:
        return self.plane.record()

    # -- instances -------------------------------------------------------------

    def instance_views(self, region: str | None = None) -> list[InstanceView]:
        with self.lock:
            try:
                record = self.record()
            except PlaneNotUp:
                return []
            views = [self._view(record, inst) for inst in instances(self.plane, record)]
            known = {view.instance.id for view in views}
            for ident, (inst, created) in list(self._pending_instances.items()):
                status = self.ops.status(INSTANCE, ident)
                if status is None:
                    del self._pending_instances[ident]
                elif ident not in known:
                    views.append(InstanceView(inst, status, created))
            return [v for v in views if region is None or v.instance.region == region]

    def instance(self, identifier: str, region: str) -> InstanceView:
        wanted = identifier.lower()
        for view in self.instance_views(region):
            if view.instance.id == wanted:
                return view
        raise DBInstanceNotFoundError(identifier)

    def instance_exists(self, identifier: str) -> bool:
        wanted = identifier.lower()
        return any(view.instance.id == wanted for view in self.instance_views())

    def making_instance(self, inst: Instance) -> None:
        """Show ``inst`` while the work on it (started next, under the lock) makes it."""
        self._pending_instances[inst.id] = (inst, datetime.now(UTC))

    def _view(self, record: EnvRecord, inst: Instance) -> InstanceView:
        running = self.plane.server(record, inst.server).running()
        status = self.ops.status(INSTANCE, inst.id) or (AVAILABLE if running else STOPPED)
        latest = self.window(record).latest if inst.backups else None
        return InstanceView(inst, status, self._created(record, inst), latest)

    def _created(self, record: EnvRecord, inst: Instance) -> datetime:
        if inst.server in (PRIMARY, REPLICA):
            return datetime.fromisoformat(record.started_at)
        try:  # a restore copies the snapshot's files, times kept: the directory's change time is its own
            return datetime.fromtimestamp(self.plane.layout.cluster(inst.server).stat().st_ctime, UTC)
        except OSError:
            return datetime.now(UTC)

    def window(self, record: EnvRecord) -> RestoreWindow:
        return restore_window(
            self.plane.server(record, PRIMARY), self.plane.catalogue(PRIMARY), self.plane.archive
        )

    # -- snapshots -------------------------------------------------------------

    def snapshot_views(self, region: str | None = None) -> list[SnapshotView]:
        with self.lock:
            try:
                record = self.record()
            except PlaneNotUp:
                return []
            views = [_snapshot_view(entry) for entry in snapshots(self.plane, record)]
            known = {view.id for view in views}
            for ident, (view, key) in list(self._pending_snapshots.items()):
                running = self.ops.running(*key) is not None
                status = self.ops.status(*key)
                if ident in known or status is None:
                    if not running:
                        del self._pending_snapshots[ident]
                    continue
                views.append(replace(view, status=CREATING if running else status))
            return [v for v in views if region is None or v.region == region]

    def snapshot(self, identifier: str, region: str) -> SnapshotView:
        wanted = identifier.lower()
        for view in self.snapshot_views(region):
            if view.id == wanted:
                return view
        raise DBSnapshotNotFoundFault(identifier)

    def snapshot_exists(self, identifier: str) -> bool:
        wanted = identifier.lower()
        return any(view.id == wanted for view in self.snapshot_views())

    def entry(self, identifier: str) -> SnapshotEntry:
        """The catalogued snapshot behind an identifier."""
        wanted = identifier.lower()
        for entry in snapshots(self.plane, self.record()):
            if entry.id == wanted:
                return entry
        raise DBSnapshotNotFoundFault(identifier)

    def taking_snapshot(self, snapshot_id: str, inst: Instance, key: tuple[str, str]) -> None:
        """Show the snapshot (``creating``) while the work ``key`` takes it."""
        view = SnapshotView(snapshot_id.lower(), inst.id, inst.region, "manual", CREATING, datetime.now(UTC))
        self._pending_snapshots[view.id] = (view, key)

    def forget_pending_snapshot(self, snapshot_id: str) -> None:
        self._pending_snapshots.pop(snapshot_id.lower(), None)


def _snapshot_view(entry: SnapshotEntry) -> SnapshotView:
    snap = entry.snapshot
    status = "failed" if snap.verified is False else AVAILABLE
    return SnapshotView(
        entry.id, entry.instance, entry.region, entry.kind, status, snap.started_at, int(snap.size_bytes or 0)
    )
