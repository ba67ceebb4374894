from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from drillbook.faults.database_switchover import DatabaseSwitchover
from drillbook.faults.restored_database import RestoredDatabase
from tests.fault_injectors.cases import ContractCase
from tests.local_env import shared_local_env


def make(request: pytest.FixtureRequest) -> ContractCase:
    shared = shared_local_env(request.config)
    env = shared.env
    original = env.app.env()["DATABASE_URL"]
    # A writable copy of the primary to switch over to (the workers write), made through the
    # environment's database role as a drill makes it (an RDS restore, its own endpoint).
    restored = RestoredDatabase(**shared.where(), instance="contract-switch", snapshot="latest")
    restored.inject()
    request.addfinalizer(restored.revert)
    assert restored.restored is not None
    endpoint = urlsplit(restored.restored.dsn())
    assert endpoint.hostname and endpoint.port
    fault = DatabaseSwitchover(**shared.where(), instance="contract", host=endpoint.hostname,
                               port=endpoint.port)

    def serving_port() -> int | None:
        return urlsplit(env.app.env()["DATABASE_URL"]).port

    return ContractCase(
        fault,
        steady=lambda: env.app.env()["DATABASE_URL"] == original,
        broken=lambda: serving_port() == endpoint.port,
        timeout=60,
    )
