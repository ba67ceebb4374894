from __future__ import annotations

import pytest

from drillbook.faults.rds_reboot_failover import RdsRebootFailover
from drillbook.harness.environments.staging.aws.rds import Rds
from tests.environments.staging.moto_server import create_postgres, started
from tests.fault_injectors.cases import ContractCase


def make(request: pytest.FixtureRequest) -> ContractCase:
    moto = started(request)
    settings = moto.settings()
    create_postgres(settings, "contract-db", multi_az=True)
    rds = Rds(settings, poll_interval=0.05)
    fault = RdsRebootFailover(
        "contract-db", settings.region, endpoint_url=moto.url, timeout=10.0, poll_interval=0.05
    )
    # moto accepts the reboot (and checks its parameters) but has no rebooting state or standby to
    # observe, so there is no "broken" check here; the staging driver tests cover the call.
    return ContractCase(fault, steady=lambda: rds.status("contract-db") == "available")
