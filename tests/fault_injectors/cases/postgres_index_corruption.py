from __future__ import annotations

import pytest

from drillbook.faults.postgres_index_corruption import PostgresIndexCorruption
from drillbook.harness import pg
from tests.fault_injectors.cases import ContractCase

INSERT = (
    "INSERT INTO projects (owner_id, name) SELECT 7, 'written while unindexed' FROM generate_series(1, 20)"
)


def make(request: pytest.FixtureRequest) -> ContractCase:
    dsn = request.getfixturevalue("pg_database")
    fault = PostgresIndexCorruption("projects_owner_id_idx", during_sql=INSERT, dsn=dsn)

    def through_index_matches_heap() -> bool:
        with pg.connect(dsn) as conn:
            pg.execute(conn, "SET enable_seqscan = off")
            indexed = pg.execute(conn, "SELECT count(*) FROM projects WHERE owner_id = 7")[0][0]
            pg.execute(
                conn, "SET enable_seqscan = on; SET enable_indexscan = off; SET enable_bitmapscan = off"
            )
            heap = pg.execute(conn, "SELECT count(*) FROM projects WHERE owner_id = 7")[0][0]
        return bool(indexed == heap)

    return ContractCase(
        fault,
        steady=lambda: through_index_matches_heap() and fault.intact(),
        broken=lambda: not through_index_matches_heap() and not fault.intact(),
    )
