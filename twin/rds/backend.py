"""moto's RDS backend, bound to the twin.

moto keeps instances and snapshots in memory; here they are kept in step with the twin
before every call (the instances of the state file, the catalogued snapshots, what the
API is making), so moto's own filters, pagination and rendering answer the describes.
Every call that changes something is the twin's: checked against the real state, acted
on by the binding, then read back. Calls that would create something without a real
server behind it are refused (``NotEmulated``).

Installed by the launcher as the class of moto's ``rds_backends`` before the first
backend exists; moto makes one per account and region from it.
"""

from __future__ import annotations

import importlib
from datetime import datetime
from types import ModuleType
from typing import Any, ClassVar

from moto.rds.models import DBInstance, DBSnapshot, RDSBackend

from drillbook.twin.rds.binding import RdsTwin
from drillbook.twin.rds.errors import NotEmulated
from drillbook.twin.rds.inventory import STANDALONE_KIND, Instance
from drillbook.twin.rds.models import TwinDBInstance, TwinDBSnapshot
from drillbook.twin.rds.views import InstanceView, SnapshotView

RESTORE_INSTEAD = (
    "Restore a snapshot (RestoreDBInstanceFromDBSnapshot) or a point in time for a new instance."
)


class TwinRdsBackend(RDSBackend):
    twin: ClassVar[RdsTwin | None] = None

    @property
    def _url_module(self) -> ModuleType:
        return importlib.import_module("drillbook.twin.rds.urls")

    def _bound(self) -> RdsTwin:
        if TwinRdsBackend.twin is None:
            raise NotEmulated("This RDS call", "The server was started without an environment.")
        return TwinRdsBackend.twin

    # -- kept in step ----------------------------------------------------------

    def _sync(self) -> None:
        """The instances as the twin has them now (under its lock: moto's dicts are shared
        by the server's threads)."""
        views = {view.instance.id: view for view in self._bound().instance_views(self.region_name)}
        for ident in [i for i in self.databases if i not in views]:
            del self.databases[ident]
        for ident, view in views.items():
            model = self.databases.get(ident)
            if isinstance(model, TwinDBInstance):
                model.apply(view)
            else:
                self.databases[ident] = self._model(view)

    def _sync_snapshots(self) -> None:
        self._sync()
        snaps = {view.id: view for view in self._bound().snapshot_views(self.region_name)}
        for ident in [i for i in self.database_snapshots if i not in snaps]:
            del self.database_snapshots[ident]
        for ident, snap in snaps.items():
            existing = self.database_snapshots.get(ident)
            if isinstance(existing, TwinDBSnapshot):
                existing.apply(snap)
            else:
                self.database_snapshots[ident] = TwinDBSnapshot(self, self._owner(snap), snap)

    def _owner(self, snap: SnapshotView) -> DBInstance:
        """The snapshot's instance (as it is now, or as it was: it may be deleted)."""
        found = self.databases.get(snap.instance)
        if found is not None:
            return found
        gone = Instance(snap.instance, snap.instance, snap.region, f"{snap.region}a", STANDALONE_KIND, port=0)
        return self._model(InstanceView(gone, "deleted", snap.created))

    def _model(self, view: InstanceView) -> TwinDBInstance:
        # moto declares CloudFormation hooks abstract that its own DBInstance leaves out too.
        return TwinDBInstance(self, view, self._bound().engine_version)  # type: ignore[abstract]

    def _instance(self, identifier: str) -> DBInstance:
        return self.describe_db_instances(identifier)[0]

    # -- reading ---------------------------------------------------------------

    def describe_db_instances(
        self, db_instance_identifier: str | None = None, filters: Any = None
    ) -> list[DBInstance]:
        with self._bound().lock:
            self._sync()
            return super().describe_db_instances(db_instance_identifier, filters=filters)

    def describe_db_snapshots(
        self,
        db_instance_identifier: str | None,
        db_snapshot_identifier: str | None = None,
        snapshot_type: str | None = None,
        filters: dict[str, Any] | None = None,
    ) -> list[DBSnapshot]:
        with self._bound().lock:
            self._sync_snapshots()
            return super().describe_db_snapshots(
                db_instance_identifier, db_snapshot_identifier, snapshot_type, filters
            )

    # -- instances -------------------------------------------------------------

    def stop_db_instance(
        self, db_instance_identifier: str, db_snapshot_identifier: str | None = None
    ) -> DBInstance:
        self._bound().stop(db_instance_identifier, self.region_name, db_snapshot_identifier)
        return self._instance(db_instance_identifier)

    def start_db_instance(self, db_instance_identifier: str) -> DBInstance:
        self._bound().start(db_instance_identifier, self.region_name)
        return self._instance(db_instance_identifier)

    def reboot_db_instance(self, db_instance_identifier: str, force_failover: bool = False) -> DBInstance:
        self._bound().reboot(db_instance_identifier, self.region_name, force_failover=force_failover)
        return self._instance(db_instance_identifier)

    def promote_read_replica(self, db_kwargs: dict[str, Any]) -> DBInstance:
        identifier = str(db_kwargs["db_instance_identifier"])
        self._bound().promote(identifier, self.region_name)
        return self._instance(identifier)

    def delete_db_instance(
        self,
        db_instance_identifier: str,
        final_db_snapshot_identifier: str | None = None,
        skip_final_snapshot: bool | None = False,
        delete_automated_backups: bool | None = True,
    ) -> DBInstance:
        model = self.describe_db_instances(db_instance_identifier)[0]
        view = self._bound().delete(
            db_instance_identifier,
            self.region_name,
            final_snapshot_id=final_db_snapshot_identifier,
            skip_final_snapshot=bool(skip_final_snapshot),
        )
        assert isinstance(model, TwinDBInstance)
        model.apply(view)
        return model

    def create_db_instance(self, db_kwargs: dict[str, Any]) -> DBInstance:
        raise NotEmulated("CreateDBInstance", RESTORE_INSTEAD)

    def create_db_instance_read_replica(self, db_kwargs: dict[str, Any]) -> DBInstance:
        identifier = str(db_kwargs["db_instance_identifier"])
        self._validate_db_identifier(identifier)
        self._bound().create_replica(identifier, str(db_kwargs["source_db_instance_identifier"]),
                                     self.region_name)
        return self._tagged(identifier, db_kwargs)

    def modify_db_instance(self, db_instance_identifier: str, db_kwargs: dict[str, Any]) -> DBInstance:
        raise NotEmulated("ModifyDBInstance", "The instances' settings are those of the local environment.")

    # -- snapshots -------------------------------------------------------------

    def create_db_snapshot(
        self,
        db_instance_identifier: str,
        db_snapshot_identifier: str,
        snapshot_type: str = "manual",
        tags: list[dict[str, str]] | None = None,
        original_created_at: datetime | None = None,
        kms_key_id: str | None = None,
    ) -> DBSnapshot:
        self._bound().create_snapshot(db_instance_identifier, db_snapshot_identifier, self.region_name)
        snapshot = self.describe_db_snapshots(None, db_snapshot_identifier)[0]
        if tags:
            snapshot.tags = tags
        return snapshot

    def delete_db_snapshot(self, db_snapshot_identifier: str) -> DBSnapshot:
        snapshot = self.describe_db_snapshots(None, db_snapshot_identifier)[0]
        self._bound().delete_snapshot(db_snapshot_identifier, self.region_name)
        snapshot.status = "deleted"
        return snapshot

    def copy_db_snapshot(
        self,
        source_db_snapshot_identifier: str,
        target_db_snapshot_identifier: str,
        kms_key_id: str | None = None,
        tags: list[dict[str, str]] | None = None,
        copy_tags: bool | None = False,
        **_: Any,
    ) -> DBSnapshot:
        raise NotEmulated("CopyDBSnapshot", "Take a new snapshot of the instance (CreateDBSnapshot).")

    def restore_db_instance_from_db_snapshot(
        self, from_snapshot_id: str, overrides: dict[str, Any]
    ) -> DBInstance:
        if from_snapshot_id.startswith("arn:"):
            from_snapshot_id = self.extract_snapshot_name_from_arn(from_snapshot_id)
        target = str(overrides["db_instance_identifier"])
        self._validate_db_identifier(target)
        self._bound().restore_snapshot(from_snapshot_id, target, self.region_name)
        return self._tagged(target, overrides)

    def restore_db_instance_to_point_in_time(
        self, source_db_identifier: str, target_db_identifier: str, overrides: dict[str, Any]
    ) -> DBInstance:
        self._validate_db_identifier(target_db_identifier)
        self._bound().restore_to_time(
            source_db_identifier,
            target_db_identifier,
            self.region_name,
            restore_time=overrides.get("restore_time"),
            use_latest=bool(overrides.get("use_latest_restorable_time")),
        )
        return self._tagged(target_db_identifier, overrides)

    def _tagged(self, identifier: str, overrides: dict[str, Any]) -> DBInstance:
        model = self._instance(identifier)
        if overrides.get("tags"):
            model.tags = overrides["tags"]
        return model
