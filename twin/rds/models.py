"""moto's DB instance and DB snapshot, with what the twin knows put in: the status of the
real server, its endpoint (127.0.0.1 and its port: connecting there reaches it), its
zones, its replication, its restorable time. moto renders them as AWS does."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from moto.rds.models import DBInstance, DBSnapshot, RDSBackend

from drillbook.twin.primary import APP_DATABASE
from drillbook.twin.rds.inventory import PRIMARY_KIND, REPLICA_KIND, Ref
from drillbook.twin.rds.views import InstanceView, SnapshotView

ADDRESS = "127.0.0.1"
MASTER_USER = "postgres"
INSTANCE_CLASS = "db.t3.micro"
STORAGE_GB = 20
#: How many days of automated backups the primary keeps, as the instance reports it.
RETENTION_DAYS = 7


class TwinDBInstance(DBInstance):
    def __init__(self, backend: RDSBackend, view: InstanceView, engine_version: str) -> None:
        super().__init__(
            backend,
            db_instance_identifier=view.instance.id,
            db_instance_class=INSTANCE_CLASS,
            engine="postgres",
            engine_version=engine_version,
            allocated_storage=STORAGE_GB,
            master_username=MASTER_USER,
            db_name=APP_DATABASE,
            storage_type="gp3",
            availability_zone=view.instance.zone,
        )
        self.view = view
        self.apply(view)

    def apply(self, view: InstanceView) -> None:
        inst = view.instance
        self.view = view
        self.status = view.status
        self.port = inst.port or None
        self.availability_zone = inst.zone
        self.secondary_availability_zone = inst.secondary_zone
        self.multi_az = inst.secondary_zone is not None
        self.is_replica = inst.kind == REPLICA_KIND
        # Cross-region replication names the other instance by its ARN, as RDS does.
        self.source_db_instance_identifier = None if inst.source is None else self._arn(inst.source)
        self.replicas = [self._arn(ref) for ref in inst.replicas]
        self.backup_retention_period = RETENTION_DAYS if inst.kind == PRIMARY_KIND else 0
        self.deletion_protection = inst.protected
        self.instance_create_time = view.created

    @property
    def address(self) -> str:
        return ADDRESS

    @property
    def db_subnet_group_name(self) -> str | None:
        # moto's is write-only, which breaks its own /moto-api/data.json; the twin has no subnet groups.
        return None

    @db_subnet_group_name.setter
    def db_subnet_group_name(self, value: str | None) -> None:
        pass

    @property
    def endpoint(self) -> dict[str, Any] | None:  # type: ignore[override]
        return None if self.port is None else {"Address": ADDRESS, "Port": self.port}

    @property
    def latest_restorable_time(self) -> datetime | None:  # type: ignore[override]
        return self.view.latest_restorable

    def _arn(self, ref: Ref) -> str:
        if ref.region == self.region:
            return ref.id
        return f"arn:{self.partition}:rds:{ref.region}:{self.account_id}:db:{ref.id}"


class TwinDBSnapshot(DBSnapshot):
    def __init__(self, backend: RDSBackend, database: DBInstance, view: SnapshotView) -> None:
        super().__init__(
            backend, database, view.id, snapshot_type=view.kind, original_created_at=view.created
        )
        self.apply(view)

    def apply(self, view: SnapshotView) -> None:
        self.status = view.status
        self.created = view.created
        self.original_snapshot_create_time = view.created
        self.percent_progress = 100 if view.status == "available" else 0
