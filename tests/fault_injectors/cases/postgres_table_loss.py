from __future__ import annotations

import pytest
from psycopg import errors as pg_errors

from drillbook.faults.postgres_table_loss import PostgresTableLoss
from drillbook.harness import pg
from tests.fault_injectors.cases import ContractCase


def make(request: pytest.FixtureRequest) -> ContractCase:
    dsn = request.getfixturevalue("pg_database")
    tmp = request.getfixturevalue("tmp_path")
    fault = PostgresTableLoss("projects", str(tmp / "projects.dump"), mode="drop", dsn=dsn)

    def rows() -> int:
        return int(pg.query(dsn, "SELECT count(*) FROM projects")[0][0])

    def steady() -> bool:
        return rows() == 500

    def broken() -> bool:
        try:
            return rows() == 0
        except pg_errors.UndefinedTable:
            return True

    return ContractCase(fault, steady=steady, broken=broken)
