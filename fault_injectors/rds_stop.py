"""Stop an RDS DB instance: the database is down until it is started again."""

from __future__ import annotations

import warnings
from typing import Any

from drillbook.faults.base import Fault
from drillbook.harness.environments.staging.aws.rds import Rds
from drillbook.harness.environments.staging.settings import AwsSettings
from drillbook.harness.errors import FaultError


class RdsAutoRestart(UserWarning):
    """AWS starts a stopped RDS instance again by itself after seven days."""


class RdsStop(Fault):
    """Stops one RDS DB instance (StopDBInstance), optionally snapshotting it first.

    The instance refuses connections from the moment it starts stopping, so by
    default ``inject`` returns as soon as AWS accepted the stop (``wait=True``
    waits for ``stopped``). AWS starts a stopped instance by itself after seven
    days: ``inject`` warns with the time (:class:`RdsAutoRestart`), and keeps it
    in ``auto_restart_at``. Revert waits for a stopping instance to be stopped,
    starts it and waits until it is available; an available instance is left alone.
    """

    name = "rds_stop"
    blast_radius = "one RDS DB instance: every client of that database"
    rollback = "start the instance (StartDBInstance) and wait until it is available"

    def __init__(
        self,
        instance_id: str,
        region: str,
        *,
        endpoint_url: str | None = None,
        profile: str | None = None,
        snapshot_id: str | None = None,
        wait: bool = False,
        timeout: float = 1800.0,
        poll_interval: float = 10.0,
    ) -> None:
        self.instance_id = instance_id
        self.region = region
        self.endpoint_url = endpoint_url
        self.profile = profile
        self.snapshot_id = snapshot_id
        self.wait = wait
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.auto_restart_at: str | None = None

    def _rds(self) -> Rds:
        aws = AwsSettings(region=self.region, endpoint_url=self.endpoint_url, profile=self.profile)
        return Rds(aws, where=f"fault {self.name} instance_id", poll_interval=self.poll_interval)

    def inject(self) -> None:
        record = self._rds().stop(
            self.instance_id, snapshot_id=self.snapshot_id, wait=self.wait, timeout=self.timeout
        )
        self.auto_restart_at = record.auto_restart_at.isoformat()
        warnings.warn(
            RdsAutoRestart(
                f"RDS instance {self.instance_id} is stopped: AWS starts it again by itself at "
                f"{self.auto_restart_at} unless it is started first"
            ),
            stacklevel=2,
        )

    def revert(self) -> None:
        rds = self._rds()
        status = rds.status(self.instance_id)
        if status == "absent":
            raise FaultError(
                f"RDS instance {self.instance_id!r} no longer exists in {self.region}: "
                "nothing to start; restore it from a snapshot"
            )
        if status == "stopping":
            status = rds.wait_status(self.instance_id, "stopped", "available", timeout=self.timeout).status
        if status == "stopped":
            rds.start(self.instance_id, wait=True, timeout=self.timeout)
        elif status != "available":
            rds.wait_status(self.instance_id, "available", timeout=self.timeout)

    def describe(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "region": self.region,
            "endpoint_url": self.endpoint_url,
            "profile": self.profile,
            "snapshot_id": self.snapshot_id,
            "wait": self.wait,
            "timeout": self.timeout,
            "poll_interval": self.poll_interval,
        }
