from __future__ import annotations

import pytest

from drillbook.faults.rds_delete import RdsDelete
from drillbook.harness.environments.staging.aws.rds import Rds
from tests.environments.staging.moto_server import create_postgres, started
from tests.fault_injectors.cases import ContractCase


def make(request: pytest.FixtureRequest) -> ContractCase:
    moto = started(request)
    settings = moto.settings()
    create_postgres(settings, "contract-db")
    rds = Rds(settings, poll_interval=0.05)
    fault = RdsDelete(
        "contract-db",
        settings.region,
        allow_delete=True,
        endpoint_url=moto.url,
        final_snapshot_id="contract-db-final",
        timeout=10.0,
        poll_interval=0.05,
        # moto names automated snapshots by the minute: a retained one would collide
        # with the one the restore creates within the same minute (AWS uses timestamps).
        keep_automated_backups=False,
    )
    return ContractCase(
        fault,
        steady=lambda: rds.status("contract-db") == "available",
        broken=lambda: rds.status("contract-db") in ("deleting", "absent"),
    )
