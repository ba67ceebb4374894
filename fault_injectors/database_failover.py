"""Fail the environment's primary over to its Multi-AZ standby (``aws rds reboot-db-instance
--force-failover``), found by the environment's name like the other role faults."""

from __future__ import annotations

import time
from typing import Any

from drillbook.faults._env import open_environment
from drillbook.faults.base import Fault
from drillbook.harness.environments.staging.aws.errors import AwsWrongState
from drillbook.harness.environments.staging.aws.rds import Rds
from drillbook.harness.environments.staging.settings import AwsSettings
from drillbook.harness.errors import FaultError

#: The twin is an emulator (moto): it takes any credentials.
EMULATOR = True


class DatabaseFailover(Fault):
    """Reboots the environment's primary with ForceFailover through its RDS API: the Multi-AZ
    standby becomes the primary behind the same endpoint, and every connection breaks while
    it takes over. The instance comes from the endpoints the environment publishes
    (``Environment.access()``: the twin's RDS and its primary instance).

    ``inject`` returns once RDS accepted the reboot. A standby that is not streaming yet (just
    rebuilt by the previous failover) is waited for, up to ``ready_timeout``, as the RDS error
    says to. There is nothing to undo: revert waits while the failover is under way, until the
    instance is available again (the old primary is now the standby; failing back is another
    failover).
    """

    name = "database_failover"
    #: RebootDBInstance's ForceFailover (database_reboot: a plain reboot).
    force_failover = True
    blast_radius = "the primary database: every connection drops while the standby takes over"
    rollback = "nothing to undo: wait until the instance is available (the old primary is now the standby)"

    def __init__(
        self,
        env_name: str,
        state_dir: str,
        timeout: float = 120.0,
        ready_timeout: float = 60.0,
        poll_interval: float = 0.2,
    ) -> None:
        self.env_name, self.state_dir = env_name, state_dir
        self.timeout, self.ready_timeout, self.poll_interval = timeout, ready_timeout, poll_interval

    def _target(self) -> tuple[Rds, str]:
        endpoints = open_environment(self.env_name, self.state_dir).access().get("endpoints") or {}
        aws, database = endpoints.get("aws") or {}, endpoints.get("database") or {}
        if not aws.get("endpoint_url") or not database.get("instance_id"):
            raise FaultError(
                f"environment {self.env_name!r} publishes no RDS endpoint and primary instance "
                "(env status --json: access.endpoints); on AWS use rds_reboot_failover with the instance id"
            )
        settings = AwsSettings(region=str(aws["region"]), endpoint_url=str(aws["endpoint_url"]),
                               emulator_credentials=EMULATOR)
        rds = Rds(settings, where=f"fault {self.name}", poll_interval=self.poll_interval)
        return rds, str(database["instance_id"])

    def inject(self) -> None:
        rds, instance = self._target()
        if self.force_failover and not rds.describe(instance).multi_az:
            raise FaultError(f"RDS instance {instance!r} is not Multi-AZ: no standby to fail over to")
        deadline = time.monotonic() + self.ready_timeout
        while True:
            try:
                rds.reboot(instance, force_failover=self.force_failover, wait=False, timeout=self.timeout)
                return
            except AwsWrongState:
                # Not available yet, or its standby not streaming again after the last failover.
                if time.monotonic() > deadline:
                    raise
                time.sleep(self.poll_interval)

    def revert(self) -> None:
        rds, instance = self._target()
        status = rds.status(instance)
        if status == "absent":
            raise FaultError(f"RDS instance {instance!r} of environment {self.env_name!r} no longer exists")
        # Only a failover under way is this fault's to wait for: an instance stopped by another
        # fault (reverted after this one, newest first) would be waited for in vain.
        if status == "rebooting":
            rds.wait_status(instance, "available", timeout=self.timeout)

    def describe(self) -> dict[str, Any]:
        return {
            "env_name": self.env_name,
            "state_dir": self.state_dir,
            "timeout": self.timeout,
            "ready_timeout": self.ready_timeout,
            "poll_interval": self.poll_interval,
        }
