"""RDS DB instances: describe, stop and start, reboot with failover, promote a read replica,
create one (also cross-region), delete with a final snapshot, and wait for a status with a
timeout and progress.

AWS starts a stopped instance again by itself after seven days: :meth:`Rds.stop` logs a
warning and returns the time (:class:`StopRecord`), so a drill can record it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from drillbook.harness.calls.declared import AwsActions, declare
from drillbook.harness.environments.staging.aws.client import aws_call, client
from drillbook.harness.environments.staging.aws.errors import AwsInvalidRequest, AwsNotFound, AwsWrongState
from drillbook.harness.environments.staging.settings import AwsSettings
from drillbook.harness.environments.staging.waiting import Progress, wait_until

CALLS = declare(
    __name__,
    "describe, stop, start, reboot (with failover), promote, delete RDS instances and create read replicas",
    aws=AwsActions("rds", ("DescribeDBInstances", "StopDBInstance", "StartDBInstance", "RebootDBInstance",
                           "PromoteReadReplica", "DeleteDBInstance", "CreateDBInstanceReadReplica")),
)

log = logging.getLogger("drillbook.staging.rds")
#: The tag drillbook puts on every instance it makes (restores, point-in-time copies).
MADE_BY_TAG = "drillbook"
#: AWS restarts a stopped DB instance after this long.
AUTO_RESTART_AFTER = timedelta(days=7)


@dataclass(frozen=True)
class RdsInstance:
    id: str
    status: str
    engine: str = ""
    instance_class: str = ""
    endpoint: str | None = None
    port: int | None = None
    multi_az: bool = False
    availability_zone: str | None = None
    secondary_availability_zone: str | None = None
    replica_source: str | None = None
    replicas: tuple[str, ...] = ()
    latest_restorable_time: datetime | None = None
    arn: str = ""
    subnet_group: str | None = None
    security_groups: tuple[str, ...] = ()
    parameter_group: str | None = None
    deletion_protection: bool = False
    tags: tuple[tuple[str, str], ...] = ()

    @property
    def made_by_drillbook(self) -> bool:
        """Whether drillbook made it (a restore it tagged ``drillbook=<what for>``): a scratch copy."""
        return any(key == MADE_BY_TAG for key, _ in self.tags)

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> RdsInstance:
        endpoint = d.get("Endpoint") or {}
        groups = d.get("DBParameterGroups") or []
        subnet = d.get("DBSubnetGroup") or {}
        return cls(
            id=str(d["DBInstanceIdentifier"]),
            status=str(d.get("DBInstanceStatus", "unknown")),
            engine=str(d.get("Engine", "")),
            instance_class=str(d.get("DBInstanceClass", "")),
            endpoint=endpoint.get("Address"),
            port=endpoint.get("Port"),
            multi_az=bool(d.get("MultiAZ", False)),
            availability_zone=d.get("AvailabilityZone"),
            secondary_availability_zone=d.get("SecondaryAvailabilityZone"),
            replica_source=d.get("ReadReplicaSourceDBInstanceIdentifier"),
            replicas=tuple(d.get("ReadReplicaDBInstanceIdentifiers") or ()),
            latest_restorable_time=d.get("LatestRestorableTime"),
            arn=str(d.get("DBInstanceArn", "")),
            subnet_group=subnet.get("DBSubnetGroupName"),
            security_groups=tuple(
                g["VpcSecurityGroupId"] for g in d.get("VpcSecurityGroups") or () if "VpcSecurityGroupId" in g
            ),
            parameter_group=groups[0].get("DBParameterGroupName") if groups else None,
            deletion_protection=bool(d.get("DeletionProtection", False)),
            tags=tuple((str(t.get("Key", "")), str(t.get("Value", ""))) for t in d.get("TagList") or ()),
        )


@dataclass(frozen=True)
class StopRecord:
    instance_id: str
    stopped_at: datetime
    #: When AWS will start the instance again by itself unless someone starts it first.
    auto_restart_at: datetime
    snapshot_id: str | None = None


@dataclass(frozen=True)
class RebootRecord:
    instance_id: str
    failover: bool
    zone_before: str | None
    zone_after: str | None


class Rds:
    """The RDS control plane for one region. ``where`` names the config table in errors."""

    def __init__(
        self,
        aws: AwsSettings,
        *,
        where: str = "[database]",
        poll_interval: float = 10.0,
        progress: Progress | None = None,
    ) -> None:
        self.aws = aws
        self.where = where
        self.poll_interval = poll_interval
        self.progress = progress
        self.api = client(aws, "rds")

    # -- errors with what to check -----------------------------------------------------

    def hints(self, instance_id: str) -> dict[str, str]:
        return {
            "AwsNotFound": f"no RDS instance {instance_id!r} in region {self.aws.region}: check "
            f"{self.where} instance_id (and region)",
            "AwsAccessDenied": f"the AWS credentials may not act on RDS instance {instance_id!r}: grant the "
            "rds:* actions drills use (docs/staging.md) or pick another profile",
        }

    def call(self, what: str, instance_id: str, fn_name: str, **kwargs: Any) -> Any:
        return aws_call(what, getattr(self.api, fn_name), hints=self.hints(instance_id), **kwargs)

    def _wrong_state(self, exc: AwsWrongState, instance_id: str, action: str) -> AwsWrongState:
        instance = self.describe(instance_id)
        attached = instance.replicas or instance.replica_source
        if action == "stopped" and instance.status == "available" and attached:
            # Not a passing state: RDS never stops a primary with read replicas, nor a replica.
            why = (f"it has read replicas ({', '.join(instance.replicas)})" if instance.replicas
                   else f"it is a read replica of {instance.replica_source}")
            return AwsWrongState(
                f"RDS instance {instance_id!r} cannot be stopped: {why}, and RDS stops no such instance "
                f"(AWS said {exc.code}); name the read replica as the profile's [replica] role: the "
                "drills see it there and do not stop this instance",
                code=exc.code,
                operation=exc.operation,
            )
        return AwsWrongState(
            f"RDS instance {instance_id!r} is {instance.status!r}, so it cannot be {action} now "
            f"(AWS said {exc.code}); wait until it is available, or revert the drill's fault first",
            code=exc.code,
            operation=exc.operation,
        )

    # -- reading -----------------------------------------------------------------------

    def describe(self, instance_id: str) -> RdsInstance:
        out = self.call(
            f"describe RDS instance {instance_id}",
            instance_id,
            "describe_db_instances",
            DBInstanceIdentifier=instance_id,
        )
        found = out.get("DBInstances") or []
        if not found:
            raise AwsNotFound(self.hints(instance_id)["AwsNotFound"], code="DBInstanceNotFound")
        return RdsInstance.from_api(found[0])

    def exists(self, instance_id: str) -> bool:
        try:
            self.describe(instance_id)
        except AwsNotFound:
            return False
        return True

    def status(self, instance_id: str) -> str:
        try:
            return self.describe(instance_id).status
        except AwsNotFound:
            return "absent"

    # -- waiting -----------------------------------------------------------------------

    def wait_status(
        self, instance_id: str, *statuses: str, timeout: float, progress: Progress | None = None
    ) -> RdsInstance:
        """Until the instance's status is one of ``statuses`` ("absent" once it is gone)."""
        last: list[RdsInstance] = []

        def poll() -> tuple[bool, str]:
            try:
                current = self.describe(instance_id)
            except AwsNotFound:
                last.clear()
                return "absent" in statuses, "absent"
            last[:] = [current]
            return current.status in statuses, current.status

        wait_until(
            f"RDS instance {instance_id} to be {' or '.join(statuses)}",
            poll,
            timeout=timeout,
            interval=self.poll_interval,
            progress=progress or self.progress,
        )
        return last[0] if last else RdsInstance(id=instance_id, status="absent")

    # -- changing ----------------------------------------------------------------------

    def stop(
        self, instance_id: str, *, snapshot_id: str | None = None, wait: bool = True, timeout: float = 1800.0
    ) -> StopRecord:
        kwargs: dict[str, Any] = {"DBInstanceIdentifier": instance_id}
        if snapshot_id:
            kwargs["DBSnapshotIdentifier"] = snapshot_id
        try:
            self.call(f"stop RDS instance {instance_id}", instance_id, "stop_db_instance", **kwargs)
        except AwsWrongState as exc:
            raise self._wrong_state(exc, instance_id, "stopped") from exc
        stopped_at = datetime.now(UTC)
        record = StopRecord(instance_id, stopped_at, stopped_at + AUTO_RESTART_AFTER, snapshot_id)
        log.warning(
            "RDS instance %s stopped: AWS starts it again by itself at %s (after 7 days) "
            "unless it is started first",
            instance_id,
            record.auto_restart_at.isoformat(),
        )
        if wait:
            self.wait_status(instance_id, "stopped", timeout=timeout)
        return record

    def start(self, instance_id: str, *, wait: bool = True, timeout: float = 1800.0) -> RdsInstance:
        try:
            self.call(
                f"start RDS instance {instance_id}",
                instance_id,
                "start_db_instance",
                DBInstanceIdentifier=instance_id,
            )
        except AwsWrongState as exc:
            raise self._wrong_state(exc, instance_id, "started") from exc
        if wait:
            return self.wait_status(instance_id, "available", timeout=timeout)
        return self.describe(instance_id)

    def reboot(
        self, instance_id: str, *, force_failover: bool = True, wait: bool = True, timeout: float = 1800.0
    ) -> RebootRecord:
        """Reboot; with ``force_failover`` a Multi-AZ instance fails over to its standby."""
        before = self.describe(instance_id)
        if before.status != "available":
            raise AwsWrongState(
                f"RDS instance {instance_id!r} is {before.status!r}, so it cannot be rebooted now; "
                "wait until it is available",
                code="InvalidDBInstanceState",
            )
        failover = force_failover and before.multi_az
        try:
            self.call(
                f"reboot RDS instance {instance_id}",
                instance_id,
                "reboot_db_instance",
                DBInstanceIdentifier=instance_id,
                ForceFailover=failover,
            )
        except AwsWrongState as exc:
            raise self._wrong_state(exc, instance_id, "rebooted") from exc
        after = self.wait_status(instance_id, "available", timeout=timeout) if wait else before
        return RebootRecord(instance_id, failover, before.availability_zone, after.availability_zone)

    def promote(self, instance_id: str, *, wait: bool = True, timeout: float = 1800.0) -> RdsInstance:
        """Promote a read replica to a standalone instance (the DR region's new primary)."""
        current = self.describe(instance_id)
        if current.replica_source is None:
            raise AwsWrongState(
                f"RDS instance {instance_id!r} is not a read replica, so there is nothing to "
                f"promote: check {self.where} instance_id",
                code="InvalidDBInstanceState",
            )
        try:
            self.call(
                f"promote read replica {instance_id}",
                instance_id,
                "promote_read_replica",
                DBInstanceIdentifier=instance_id,
            )
        except AwsWrongState as exc:
            raise self._wrong_state(exc, instance_id, "promoted") from exc
        if wait:
            return self.wait_status(instance_id, "available", timeout=timeout)
        return self.describe(instance_id)

    def create_read_replica(
        self,
        instance_id: str,
        source: RdsInstance,
        *,
        source_region: str | None = None,
        like: RdsInstance | None = None,
        wait: bool = True,
        timeout: float = 3600.0,
    ) -> RdsInstance:
        """Create the read replica ``instance_id`` of ``source`` in this region. Cross-region
        (``source_region`` names the source's region) the source is named by its ARN and boto3
        signs the source region's request (``PreSignedUrl``). ``like``: an instance whose class,
        subnet group, security groups and parameter group the replica takes (the replica it
        replaces)."""
        kwargs: dict[str, Any] = {"DBInstanceIdentifier": instance_id}
        if source_region and source_region != self.aws.region:
            if not source.arn:
                raise AwsInvalidRequest(f"RDS instance {source.id!r} has no ARN: a cross-region read "
                                        "replica names its source by ARN", code="InvalidParameterValue")
            kwargs.update(SourceDBInstanceIdentifier=source.arn, SourceRegion=source_region)
        else:
            kwargs["SourceDBInstanceIdentifier"] = source.id
        if like is not None:
            if like.instance_class:
                kwargs["DBInstanceClass"] = like.instance_class
            if like.subnet_group:
                kwargs["DBSubnetGroupName"] = like.subnet_group
            if like.security_groups:
                kwargs["VpcSecurityGroupIds"] = list(like.security_groups)
            if like.parameter_group:
                kwargs["DBParameterGroupName"] = like.parameter_group
        try:
            self.call(f"create read replica {instance_id} of {source.id}", instance_id,
                      "create_db_instance_read_replica", **kwargs)
        except AwsWrongState as exc:
            raise self._wrong_state(exc, source.id, "replicated") from exc
        if wait:
            return self.wait_status(instance_id, "available", timeout=timeout)
        return self.describe(instance_id)

    def delete(
        self,
        instance_id: str,
        *,
        final_snapshot_id: str | None,
        keep_automated_backups: bool = True,
        wait: bool = True,
        timeout: float = 3600.0,
    ) -> None:
        """Delete with a final snapshot ``final_snapshot_id``; without one (None) only an instance
        drillbook made (tagged ``drillbook``: a scratch restore), never one of the team's. The
        automated backups are retained by default (they allow a point-in-time restore of the
        deleted instance)."""
        if final_snapshot_id == "":
            raise ValueError("a final snapshot id may not be empty (None: delete a scratch copy without one)")
        if final_snapshot_id is None and not self.describe(instance_id).made_by_drillbook:
            raise AwsWrongState(
                f"refusing to delete RDS instance {instance_id!r} without a final snapshot: drillbook "
                f"did not make it (no {MADE_BY_TAG!r} tag); give a final snapshot id",
                code="InvalidDBInstanceState",
            )
        final = {"FinalDBSnapshotIdentifier": final_snapshot_id, "SkipFinalSnapshot": False} \
            if final_snapshot_id else {"SkipFinalSnapshot": True}
        try:
            self.call(
                f"delete RDS instance {instance_id}",
                instance_id,
                "delete_db_instance",
                DBInstanceIdentifier=instance_id,
                DeleteAutomatedBackups=not keep_automated_backups,
                **final,
            )
        except AwsWrongState as exc:
            raise self._wrong_state(exc, instance_id, "deleted") from exc
        if wait:
            self.wait_status(instance_id, "absent", timeout=timeout)
