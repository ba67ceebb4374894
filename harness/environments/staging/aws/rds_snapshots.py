"""RDS snapshots and restores: create a snapshot, list them, restore one into a new
instance, and point-in-time restore into a new instance; each waits with a timeout."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from drillbook.harness.calls.declared import AwsActions, declare
from drillbook.harness.environments.staging.aws.client import aws_call
from drillbook.harness.environments.staging.aws.errors import AwsNotFound
from drillbook.harness.environments.staging.aws.rds import Rds, RdsInstance
from drillbook.harness.environments.staging.waiting import wait_until

CALLS = declare(
    __name__,
    "list and create RDS snapshots; restore one, or a point in time, into a new instance",
    aws=AwsActions(
        "rds",
        ("DescribeDBSnapshots", "CreateDBSnapshot", "RestoreDBInstanceFromDBSnapshot",
         "RestoreDBInstanceToPointInTime"),
        implied=(("AddTagsToResource", "a restore that passes Tags (the drill's labels) is also authorised "
                  "as rds:AddTagsToResource"),),
    ),
)


@dataclass(frozen=True)
class RdsSnapshot:
    id: str
    instance_id: str
    status: str
    created: datetime | None = None
    kind: str = "manual"
    engine: str = ""
    size_gb: int | None = None
    encrypted: bool = False
    arn: str = ""

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> RdsSnapshot:
        return cls(
            id=str(d["DBSnapshotIdentifier"]),
            instance_id=str(d.get("DBInstanceIdentifier", "")),
            status=str(d.get("Status", "unknown")),
            created=d.get("SnapshotCreateTime"),
            kind=str(d.get("SnapshotType", "manual")),
            engine=str(d.get("Engine", "")),
            size_gb=d.get("AllocatedStorage"),
            encrypted=bool(d.get("Encrypted", False)),
            arn=str(d.get("DBSnapshotArn", "")),
        )


@dataclass(frozen=True)
class RestoreOptions:
    """What a restored instance gets that the snapshot does not carry (network, size, HA)."""

    instance_class: str | None = None
    subnet_group: str | None = None
    security_groups: tuple[str, ...] = ()
    parameter_group: str | None = None
    multi_az: bool | None = None
    tags: tuple[tuple[str, str], ...] = ()

    @classmethod
    def like(cls, instance: RdsInstance, **tags: str) -> RestoreOptions:
        return cls(
            instance.instance_class or None,
            instance.subnet_group,
            instance.security_groups,
            instance.parameter_group,
            instance.multi_az,
            tuple(tags.items()),
        )

    def kwargs(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.instance_class:
            out["DBInstanceClass"] = self.instance_class
        if self.subnet_group:
            out["DBSubnetGroupName"] = self.subnet_group
        if self.security_groups:
            out["VpcSecurityGroupIds"] = list(self.security_groups)
        if self.parameter_group:
            out["DBParameterGroupName"] = self.parameter_group
        if self.multi_az is not None:
            out["MultiAZ"] = self.multi_az
        if self.tags:
            out["Tags"] = [{"Key": k, "Value": v} for k, v in self.tags]
        return out


class RdsSnapshots:
    def __init__(self, rds: Rds) -> None:
        self.rds = rds

    def _hints(self, snapshot_id: str) -> dict[str, str]:
        return {
            "AwsNotFound": f"no RDS snapshot {snapshot_id!r} in region {self.rds.aws.region}: list them with "
            "`aws rds describe-db-snapshots` and check the id"
        }

    def describe(self, snapshot_id: str) -> RdsSnapshot:
        out = aws_call(
            f"describe RDS snapshot {snapshot_id}",
            self.rds.api.describe_db_snapshots,
            hints=self._hints(snapshot_id),
            DBSnapshotIdentifier=snapshot_id,
        )
        found = out.get("DBSnapshots") or []
        if not found:
            raise AwsNotFound(self._hints(snapshot_id)["AwsNotFound"], code="DBSnapshotNotFound")
        return RdsSnapshot.from_api(found[0])

    def exists(self, snapshot_id: str) -> bool:
        try:
            self.describe(snapshot_id)
        except AwsNotFound:
            return False
        return True

    def list(self, instance_id: str, *, kind: str | None = None) -> list[RdsSnapshot]:
        """Snapshots of ``instance_id``, newest first (manual and automated unless ``kind``)."""
        kwargs: dict[str, Any] = {"DBInstanceIdentifier": instance_id}
        if kind:
            kwargs["SnapshotType"] = kind
        found: list[RdsSnapshot] = []
        marker: str | None = None
        while True:
            if marker:
                kwargs["Marker"] = marker
            out = self.rds.call(
                f"list snapshots of {instance_id}", instance_id, "describe_db_snapshots", **kwargs
            )
            found += [RdsSnapshot.from_api(d) for d in out.get("DBSnapshots") or []]
            marker = out.get("Marker")
            if not marker:
                break
        oldest = datetime.min.replace(tzinfo=UTC)
        return sorted(found, key=lambda s: s.created or oldest, reverse=True)

    def wait_available(self, snapshot_id: str, *, timeout: float) -> RdsSnapshot:
        last: list[RdsSnapshot] = []

        def poll() -> tuple[bool, str]:
            current = self.describe(snapshot_id)
            last[:] = [current]
            return current.status == "available", current.status

        wait_until(
            f"RDS snapshot {snapshot_id} to be available",
            poll,
            timeout=timeout,
            interval=self.rds.poll_interval,
            progress=self.rds.progress,
        )
        return last[0]

    def create(
        self,
        instance_id: str,
        snapshot_id: str | None = None,
        *,
        tags: dict[str, str] | None = None,
        wait: bool = True,
        timeout: float = 3600.0,
    ) -> RdsSnapshot:
        snapshot_id = snapshot_id or f"drillbook-{instance_id}-{datetime.now(UTC):%Y%m%d%H%M%S}"
        kwargs: dict[str, Any] = {"DBInstanceIdentifier": instance_id, "DBSnapshotIdentifier": snapshot_id}
        if tags:
            kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        out = self.rds.call(
            f"snapshot RDS instance {instance_id}", instance_id, "create_db_snapshot", **kwargs
        )
        if wait:
            return self.wait_available(snapshot_id, timeout=timeout)
        return RdsSnapshot.from_api(out["DBSnapshot"])

    def restore(
        self,
        snapshot_id: str,
        new_instance_id: str,
        *,
        options: RestoreOptions | None = None,
        wait: bool = True,
        timeout: float = 3600.0,
    ) -> RdsInstance:
        """A new instance from ``snapshot_id``; the source instance is not touched."""
        kwargs = {
            "DBInstanceIdentifier": new_instance_id,
            "DBSnapshotIdentifier": snapshot_id,
            **(options or RestoreOptions()).kwargs(),
        }
        aws_call(
            f"restore RDS snapshot {snapshot_id} into {new_instance_id}",
            self.rds.api.restore_db_instance_from_db_snapshot,
            hints=self._hints(snapshot_id),
            **kwargs,
        )
        if wait:
            return self.rds.wait_status(new_instance_id, "available", timeout=timeout)
        return self.rds.describe(new_instance_id)

    def restore_to_time(
        self,
        source_instance_id: str,
        new_instance_id: str,
        *,
        restore_time: datetime | None = None,
        options: RestoreOptions | None = None,
        wait: bool = True,
        timeout: float = 3600.0,
    ) -> RdsInstance:
        """Point-in-time restore into a new instance; ``restore_time`` None means the latest
        restorable time. A time after the latest restorable time is refused by AWS."""
        kwargs: dict[str, Any] = {
            "SourceDBInstanceIdentifier": source_instance_id,
            "TargetDBInstanceIdentifier": new_instance_id,
            **(options or RestoreOptions()).kwargs(),
        }
        if restore_time is None:
            kwargs["UseLatestRestorableTime"] = True
        else:
            if restore_time.tzinfo is None:
                raise ValueError("restore_time must be timezone-aware (UTC)")
            kwargs["RestoreTime"] = restore_time
        self.rds.call(
            f"point-in-time restore of {source_instance_id} into {new_instance_id}",
            source_instance_id,
            "restore_db_instance_to_point_in_time",
            **kwargs,
        )
        if wait:
            return self.rds.wait_status(new_instance_id, "available", timeout=timeout)
        return self.rds.describe(new_instance_id)
