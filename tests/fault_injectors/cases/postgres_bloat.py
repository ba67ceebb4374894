from __future__ import annotations

import pytest

from drillbook.faults.postgres_bloat import PostgresBloat
from drillbook.harness import pg
from tests.fault_injectors.cases import ContractCase


def make(request: pytest.FixtureRequest) -> ContractCase:
    dsn = request.getfixturevalue("pg_database")
    fault = PostgresBloat("projects", rounds=4, dsn=dsn)

    def dead() -> int:
        # Exact count of dead row versions, not the asynchronous statistics.
        pg.query(dsn, "CREATE EXTENSION IF NOT EXISTS pgstattuple")
        return int(pg.query(dsn, "SELECT dead_tuple_count FROM pgstattuple('projects')")[0][0])

    def reported_dead() -> int:
        # What the DR procedures look at (statistics, flushed within about a second).
        return int(
            pg.query(dsn, "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'projects'")[0][0]
        )

    return ContractCase(fault, steady=lambda: dead() < 100, broken=lambda: reported_dead() >= 1000)
