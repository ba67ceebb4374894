"""Delete an RDS DB instance, always with a final snapshot; revert restores from it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from drillbook.faults.base import Fault
from drillbook.harness.environments.staging.aws.rds import Rds
from drillbook.harness.environments.staging.aws.rds_snapshots import RdsSnapshots, RestoreOptions
from drillbook.harness.environments.staging.settings import AwsSettings
from drillbook.harness.errors import FaultError, InvalidDrillConfig


class RdsDelete(Fault):
    """Deletes one RDS DB instance (the database is lost), keeping a final snapshot.

    Only behind an explicit flag: ``allow_delete=True`` must be passed. The final
    snapshot can never be skipped. What a restored instance needs and a snapshot
    does not carry (class, subnet group, security groups, parameter group,
    Multi-AZ) is read from the instance when the fault is built and kept in
    ``restore``. Revert waits until the deletion is over, then restores the final
    snapshot under the same identifier (same endpoint) and waits until it is
    available. The final snapshot is kept as evidence, and so are the automated
    backups unless ``keep_automated_backups=False``.
    """

    name = "rds_delete"
    blast_radius = "one RDS DB instance and its data since the final snapshot is taken (none is lost)"
    rollback = "restore the final snapshot under the same identifier and wait until it is available"

    def __init__(
        self,
        instance_id: str,
        region: str,
        *,
        allow_delete: bool = False,
        final_snapshot_id: str | None = None,
        restore: dict[str, Any] | None = None,
        keep_automated_backups: bool = True,
        endpoint_url: str | None = None,
        profile: str | None = None,
        timeout: float = 3600.0,
        poll_interval: float = 10.0,
    ) -> None:
        if allow_delete is not True:
            raise InvalidDrillConfig(
                f"rds_delete deletes RDS instance {instance_id!r} (a final snapshot is kept and restored on "
                "revert): pass allow_delete=True to confirm this is what the drill wants"
            )
        self.instance_id = instance_id
        self.region = region
        self.keep_automated_backups = keep_automated_backups
        self.endpoint_url = endpoint_url
        self.profile = profile
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.final_snapshot_id = (
            final_snapshot_id or f"{instance_id}-drillbook-final-{datetime.now(UTC):%Y%m%d%H%M%S}"
        )
        if restore is None:
            options = RestoreOptions.like(self._rds().describe(instance_id))
            restore = {
                "instance_class": options.instance_class,
                "subnet_group": options.subnet_group,
                "security_groups": list(options.security_groups),
                "parameter_group": options.parameter_group,
                "multi_az": options.multi_az,
            }
        self.restore = restore

    def _rds(self) -> Rds:
        aws = AwsSettings(region=self.region, endpoint_url=self.endpoint_url, profile=self.profile)
        return Rds(aws, where=f"fault {self.name} instance_id", poll_interval=self.poll_interval)

    def _options(self) -> RestoreOptions:
        r = self.restore
        return RestoreOptions(
            instance_class=r.get("instance_class"),
            subnet_group=r.get("subnet_group"),
            security_groups=tuple(r.get("security_groups") or ()),
            parameter_group=r.get("parameter_group"),
            multi_az=r.get("multi_az"),
            tags=(("drillbook", "restored-by-rds_delete-revert"),),
        )

    def inject(self) -> None:
        rds = self._rds()
        if rds.describe(self.instance_id).deletion_protection:
            raise FaultError(
                f"RDS instance {self.instance_id!r} has deletion protection on: the drill cannot "
                "delete it (turn it off for staging drills, never for production)"
            )
        rds.delete(
            self.instance_id,
            final_snapshot_id=self.final_snapshot_id,
            keep_automated_backups=self.keep_automated_backups,
            wait=False,
        )

    def revert(self) -> None:
        rds = self._rds()
        status = rds.status(self.instance_id)
        if status not in ("absent", "deleting"):
            if status != "available":
                rds.wait_status(self.instance_id, "available", timeout=self.timeout)
            return  # never deleted, or already restored
        if status == "deleting":
            rds.wait_status(self.instance_id, "absent", timeout=self.timeout)
        snapshots = RdsSnapshots(rds)
        if not snapshots.exists(self.final_snapshot_id):
            raise FaultError(
                f"RDS instance {self.instance_id!r} is gone and its final snapshot "
                f"{self.final_snapshot_id!r} does not exist: restore it from the latest snapshot "
                "by hand (`aws rds describe-db-snapshots`)"
            )
        snapshots.wait_available(self.final_snapshot_id, timeout=self.timeout)
        snapshots.restore(
            self.final_snapshot_id, self.instance_id, options=self._options(), timeout=self.timeout
        )

    def describe(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "region": self.region,
            "allow_delete": True,
            "final_snapshot_id": self.final_snapshot_id,
            "restore": dict(self.restore),
            "keep_automated_backups": self.keep_automated_backups,
            "endpoint_url": self.endpoint_url,
            "profile": self.profile,
            "timeout": self.timeout,
            "poll_interval": self.poll_interval,
        }
