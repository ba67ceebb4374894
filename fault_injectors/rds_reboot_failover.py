"""Reboot an RDS DB instance with a forced failover to its Multi-AZ standby."""

from __future__ import annotations

from typing import Any

from drillbook.faults.base import Fault
from drillbook.harness.environments.staging.aws.rds import Rds
from drillbook.harness.environments.staging.settings import AwsSettings
from drillbook.harness.errors import FaultError


class RdsRebootFailover(Fault):
    """Reboots one RDS DB instance with ForceFailover: the Multi-AZ standby becomes the
    primary, and connections break until DNS points at it (typically 60-120 s).

    An instance that is not Multi-AZ is refused unless ``require_multi_az=False``
    (then it is a plain reboot). ``inject`` returns once AWS accepted the reboot.
    There is nothing to undo: revert waits until the instance is available again
    (the old primary stays the standby; failing back is another failover).
    """

    name = "rds_reboot_failover"
    blast_radius = "one RDS DB instance: every connection to it drops during the failover"
    rollback = "nothing to undo: wait until the instance is available (the old primary is now the standby)"

    def __init__(
        self,
        instance_id: str,
        region: str,
        *,
        endpoint_url: str | None = None,
        profile: str | None = None,
        config_file: str | None = None,
        require_multi_az: bool = True,
        timeout: float = 1800.0,
        poll_interval: float = 10.0,
        emulator: bool = False,
    ) -> None:
        self.instance_id = instance_id
        self.region = region
        self.endpoint_url = endpoint_url
        self.profile = profile
        self.config_file = config_file
        self.require_multi_az = require_multi_az
        self.timeout = timeout
        self.poll_interval = poll_interval
        #: The endpoint is an emulator that takes any credentials (the twin's moto): fixed dummy
        #: ones are used, none read.
        self.emulator = emulator
        self.zone_before: str | None = None

    def _rds(self) -> Rds:
        aws = AwsSettings(region=self.region, endpoint_url=self.endpoint_url, profile=self.profile,
                          config_file=self.config_file, emulator_credentials=self.emulator)
        return Rds(aws, where=f"fault {self.name} instance_id", poll_interval=self.poll_interval)

    def inject(self) -> None:
        rds = self._rds()
        instance = rds.describe(self.instance_id)
        if self.require_multi_az and not instance.multi_az:
            raise FaultError(
                f"RDS instance {self.instance_id!r} is not Multi-AZ, so a reboot cannot fail over: "
                "enable Multi-AZ, or pass require_multi_az=False for a plain reboot"
            )
        record = rds.reboot(self.instance_id, force_failover=True, wait=False, timeout=self.timeout)
        self.zone_before = record.zone_before

    def revert(self) -> None:
        rds = self._rds()
        if rds.status(self.instance_id) == "absent":
            raise FaultError(f"RDS instance {self.instance_id!r} no longer exists in {self.region}")
        rds.wait_status(self.instance_id, "available", timeout=self.timeout)

    def describe(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "region": self.region,
            "endpoint_url": self.endpoint_url,
            "profile": self.profile,
            "config_file": self.config_file,
            "require_multi_az": self.require_multi_az,
            "timeout": self.timeout,
            "poll_interval": self.poll_interval,
            "emulator": self.emulator,
        }
