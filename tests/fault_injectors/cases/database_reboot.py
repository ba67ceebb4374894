from __future__ import annotations

import pytest

from drillbook.faults.database_reboot import DatabaseReboot
from drillbook.harness import pg
from tests.fault_injectors.cases import ContractCase
from tests.local_env import shared_local_env


def make(request: pytest.FixtureRequest) -> ContractCase:
    shared = shared_local_env(request.config)
    primary = shared.env.local_database.primary
    started = str(pg.query(primary.dsn(), "SELECT pg_postmaster_start_time()", timeout=5.0)[0][0])

    def restarted() -> bool:
        # The same server (no failover), started again by the reboot.
        now = str(pg.query(primary.dsn(), "SELECT pg_postmaster_start_time()", timeout=2.0)[0][0])
        return now != started

    def steady() -> bool:
        return shared.env.database.running() and primary.ready()

    return ContractCase(DatabaseReboot(**shared.where(), poll_interval=0.1), steady=steady, broken=restarted,
                        timeout=120)
