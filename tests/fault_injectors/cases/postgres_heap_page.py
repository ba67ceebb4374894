from __future__ import annotations

import contextlib

import pytest

from drillbook.faults.postgres_heap_page import PostgresHeapPage
from drillbook.harness import pg
from drillbook.twin.postgres import PostgresCluster
from tests.conftest import MINI_SCHEMA
from tests.fault_injectors.cases import ContractCase
from tests.twin.dataplane_support import server_tmp


def make(request: pytest.FixtureRequest) -> ContractCase:
    # Its own cluster: the fault restarts the server.
    tmp = request.getfixturevalue("tmp_path")
    stack = contextlib.ExitStack()
    request.addfinalizer(stack.close)
    base = stack.enter_context(server_tmp("heap-page"))
    cluster = PostgresCluster(base / "pg").init().start()
    stack.callback(cluster.stop, "immediate")
    cluster.wait_ready()
    pg.query(cluster.dsn(), MINI_SCHEMA)
    fault = PostgresHeapPage(str(cluster.datadir), cluster.port, "users", str(tmp / "page.bin"))

    def readable() -> bool:
        return pg.query(cluster.dsn(), "SELECT count(*) FROM users")[0][0] == 50

    def broken() -> bool:
        try:
            pg.query(cluster.dsn(), "SELECT count(*) FROM users")
        except Exception as exc:
            return "invalid page" in str(exc) or "checksum" in str(exc)
        return False

    return ContractCase(fault, steady=readable, broken=broken)
