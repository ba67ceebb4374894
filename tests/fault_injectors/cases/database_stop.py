from __future__ import annotations

import pytest

from drillbook.faults.database_stop import DatabaseStop
from tests.fault_injectors.cases import ContractCase
from tests.local_env import shared_local_env


def make(request: pytest.FixtureRequest) -> ContractCase:
    shared = shared_local_env(request.config)
    database = shared.env.database

    def accepting() -> bool:
        return database.running() and shared.env.local_database.primary.ready()

    return ContractCase(
        DatabaseStop(**shared.where()), steady=accepting, broken=lambda: not database.running(), timeout=60
    )
