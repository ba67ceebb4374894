"""Fixtures for drillbook's own tests: real servers, started and always stopped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.environments.local.postgres import PostgresCluster
from tests.servers import HttpServer
from tests.servers import http_server as start_http_server


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[HttpServer]:
    server = start_http_server(tmp_path)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL cluster for the whole test session."""
    cluster = PostgresCluster(tmp_path_factory.mktemp("pg") / "data").init()
    cluster.start()
    try:
        cluster.wait_ready()
        yield cluster
    finally:
        cluster.stop("immediate")
