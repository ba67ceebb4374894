from __future__ import annotations

import pytest

from drillbook.faults.database_switchover import DatabaseSwitchover
from drillbook.faults.restored_database import RestoredDatabase
from tests.fault_injectors.cases import ContractCase
from tests.local_env import shared_local_env


def make(request: pytest.FixtureRequest) -> ContractCase:
    shared = shared_local_env(request.config)
    env = shared.env
    original = env.app.env()["DATABASE_URL"]
    # A writable copy of the primary to switch over to (the workers write).
    restored = RestoredDatabase(**shared.where(), instance="contract-switch", snapshot="latest")
    restored.inject()
    request.addfinalizer(restored.revert)
    assert restored.restored is not None
    fault = DatabaseSwitchover(**shared.where(), instance="contract", port=restored.restored.port)  # type: ignore[attr-defined]

    def proxies() -> set[str]:
        return set(env.network.proxies())

    return ContractCase(
        fault,
        steady=lambda: env.app.env()["DATABASE_URL"] == original and "app-db-contract" not in proxies(),
        broken=lambda: env.app.env()["DATABASE_URL"] != original and "app-db-contract" in proxies(),
        timeout=60,
    )
