from __future__ import annotations

import pytest

from drillbook.faults.rds_stop import RdsStop
from drillbook.harness.environments.staging.aws.rds import Rds
from tests.environments.staging.moto_server import create_postgres, started
from tests.fault_injectors.cases import ContractCase


def make(request: pytest.FixtureRequest) -> ContractCase:
    moto = started(request)
    settings = moto.settings()
    create_postgres(settings, "contract-db")
    rds = Rds(settings, poll_interval=0.05)
    request.getfixturevalue("recwarn")  # the seven-day auto-restart warning is expected
    fault = RdsStop("contract-db", settings.region, endpoint_url=moto.url, timeout=10.0, poll_interval=0.05)
    return ContractCase(
        fault,
        steady=lambda: rds.status("contract-db") == "available",
        broken=lambda: rds.status("contract-db") in ("stopping", "stopped"),
    )
