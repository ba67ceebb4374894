"""StopDBInstance, StartDBInstance, RebootDBInstance, PromoteReadReplica and
DeleteDBInstance (also of the promoted DR replica: ``read_replica``), each acting on the
instance's real server.

Every call is checked first, as RDS checks it (the instance exists in the region, its
status allows the action), and returns at once with the intermediate status; the server
is stopped, started, failed over, promoted or deleted in the background.
"""

from __future__ import annotations

from drillbook.twin.rds import multi_az
from drillbook.twin.rds.errors import (
    DBSnapshotAlreadyExistsError,
    InvalidDBInstanceState,
    InvalidParameterCombination,
)
from drillbook.twin.rds.inventory import PRIMARY_KIND, REPLICA_KIND, Instance
from drillbook.twin.rds.operations import INSTANCE
from drillbook.twin.rds.plane import REPLICA
from drillbook.twin.rds.read_replica import discard_promoted_replica
from drillbook.twin.rds.views import AVAILABLE, STOPPED, InstanceView, TwinViews

#: How long a background action may take before it is given up (a failover, a stop).
ACTION_TIMEOUT_S = 120.0


class InstanceActions(TwinViews):
    multi_az: bool

    def stop(self, identifier: str, region: str, snapshot_id: str | None = None) -> None:
        with self.lock:
            view = self._available(identifier, region, "is not in available state")
            inst = view.instance
            if inst.kind == REPLICA_KIND or inst.replicas:
                replicas = ", ".join(r.id for r in inst.replicas) or "it is one"
                raise InvalidDBInstanceState(
                    f"Cannot stop DB instance {inst.id}: an instance that has a read replica, or is one, "
                    f"cannot be stopped (read replicas: {replicas}). Reboot it instead, or promote or "
                    "delete the read replica first."
                )
            self._new_snapshot_id(snapshot_id)
            server = self.plane.server(self.record(), inst.server)
            catalogue = self.plane.catalogue(inst.server)

            def work() -> None:
                if snapshot_id:
                    catalogue.take(server, kind="manual", snapshot_id=snapshot_id.lower())
                server.stop("fast", timeout=ACTION_TIMEOUT_S)

            if snapshot_id:
                self.taking_snapshot(snapshot_id, inst, (INSTANCE, inst.id))
            self.ops.begin(INSTANCE, inst.id, action="stop", status="stopping", work=work)

    def start(self, identifier: str, region: str) -> None:
        with self.lock:
            view = self.instance(identifier, region)
            if view.status != STOPPED:
                raise InvalidDBInstanceState(
                    f"Instance {view.instance.id} is not stopped, it cannot be started (it is {view.status})."
                )
            server = self.plane.server(self.record(), view.instance.server)

            def work() -> None:
                server.start(timeout=ACTION_TIMEOUT_S)
                server.wait_ready(timeout=ACTION_TIMEOUT_S)

            self.ops.begin(INSTANCE, view.instance.id, action="start", status="starting", work=work)

    def reboot(self, identifier: str, region: str, *, force_failover: bool = False) -> None:
        with self.lock:
            inst = self._available(
                identifier, region, "is not in available state, so it cannot be rebooted"
            ).instance
            record = self.record()
            if force_failover:
                if inst.kind != PRIMARY_KIND or not self.multi_az:
                    raise InvalidParameterCombination(
                        f"Cannot do a forced failover on DB instance {inst.id}: it is not a Multi-AZ "
                        "instance. Reboot it without --force-failover."
                    )
                lagging = multi_az.in_sync(self.plane, record)
                if lagging is not None:
                    raise InvalidDBInstanceState(
                        f"The Multi-AZ standby of {inst.id} is not streaming ({lagging}), so it cannot take "
                        "over now; wait until the instance is available with a secondary zone, then "
                        "reboot again."
                    )

                def work() -> None:
                    multi_az.failover(self.plane, record, timeout=ACTION_TIMEOUT_S)
            else:
                server = self.plane.server(record, inst.server)

                def work() -> None:
                    server.stop("fast", timeout=ACTION_TIMEOUT_S)
                    server.start(timeout=ACTION_TIMEOUT_S)
                    server.wait_ready(timeout=ACTION_TIMEOUT_S)

            action = "reboot with failover" if force_failover else "reboot"
            self.ops.begin(INSTANCE, inst.id, action=action, status="rebooting", work=work)

    def promote(self, identifier: str, region: str) -> None:
        with self.lock:
            inst = self._available(identifier, region, "is not in available state").instance
            if inst.kind != REPLICA_KIND:
                raise InvalidDBInstanceState(f"DB Instance {inst.id} is not a read replica.")
            replica = self.plane.replica(self.record())

            def work() -> None:
                replica.promote(timeout=ACTION_TIMEOUT_S)

            self.ops.begin(INSTANCE, inst.id, action="promote", status="modifying", work=work)

    def delete(
        self, identifier: str, region: str, *, final_snapshot_id: str | None, skip_final_snapshot: bool
    ) -> InstanceView:
        """The instance as it is when deletion begins (``deleting``)."""
        with self.lock:
            view = self.instance(identifier, region)
            inst = view.instance
            if inst.protected:
                raise InvalidParameterCombination(
                    "Cannot delete protected DB Instance, please disable deletion protection and try again. "
                    f"({inst.id} is the platform's own; drillbook env down removes it.)"
                )
            if skip_final_snapshot and final_snapshot_id:
                raise InvalidParameterCombination(
                    "FinalDBSnapshotIdentifier cannot be given with SkipFinalSnapshot."
                )
            if not skip_final_snapshot and not final_snapshot_id:
                raise InvalidParameterCombination(
                    "FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified."
                )
            failure = self.ops.failed(INSTANCE, inst.id)
            if failure is not None and inst.server not in self.record().clusters:
                self.ops.forget_failure(INSTANCE, inst.id)  # a failed restore left nothing to delete
                return InstanceView(inst, "deleting", view.created)
            if self.ops.running(INSTANCE, inst.id):
                raise InvalidDBInstanceState(
                    f"Instance {inst.id} is {view.status}; wait until that is done, then delete it."
                )
            self._new_snapshot_id(final_snapshot_id)
            self._start_delete(inst, final_snapshot_id)
            return InstanceView(inst, "deleting", view.created)

    def _start_delete(self, inst: Instance, final_snapshot_id: str | None) -> None:
        record = self.record()
        server = self.plane.server(record, inst.server)
        catalogue = self.plane.catalogue(inst.server)
        database = self.plane.database(record)
        plane = self.plane

        def work() -> None:
            if final_snapshot_id:
                server.start(timeout=ACTION_TIMEOUT_S)  # a base backup needs the server up
                server.wait_ready(timeout=ACTION_TIMEOUT_S)
                catalogue.take(server, kind="manual", snapshot_id=final_snapshot_id.lower())
            if inst.server == REPLICA:
                discard_promoted_replica(plane, plane.record())
            else:
                database.discard(inst.server)

        if final_snapshot_id:
            self.taking_snapshot(final_snapshot_id, inst, (INSTANCE, inst.id))
        self.ops.begin(INSTANCE, inst.id, action="delete", status="deleting", work=work)

    # -- checks ----------------------------------------------------------------

    def _available(self, identifier: str, region: str, why: str) -> InstanceView:
        view = self.instance(identifier, region)
        if view.status != AVAILABLE:
            raise InvalidDBInstanceState(f"Instance {view.instance.id} {why} (it is {view.status}).")
        return view

    def _new_snapshot_id(self, snapshot_id: str | None) -> None:
        if snapshot_id and self.snapshot_exists(snapshot_id):
            raise DBSnapshotAlreadyExistsError(snapshot_id)
