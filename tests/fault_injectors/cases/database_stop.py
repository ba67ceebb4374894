from __future__ import annotations

import pytest

from drillbook.faults.database_stop import DatabaseStop
from tests.fault_injectors.cases import ContractCase
from tests.local_env import shared_local_env


def make(request: pytest.FixtureRequest) -> ContractCase:
    """The twin's primary has the DR region's read replica, and RDS stops no instance with one:
    through the environment's database role (the RDS API), the fault is refused, saying why and
    what to do, and nothing stops. (Its stop and start through the RDS API, on an instance RDS
    may stop, are tests/twin/rds's; 1A and explore ask first: ``control_planes.unstoppable_because``.)"""
    shared = shared_local_env(request.config)
    database = shared.env.database

    def accepting() -> bool:
        return database.running() and shared.env.local_database.primary.ready()

    return ContractCase(
        DatabaseStop(**shared.where()), steady=accepting, broken=lambda: not database.running(), timeout=60,
        refused="read replica",
    )
