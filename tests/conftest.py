"""Fixtures for drillbook's own tests: real servers, started and always stopped."""

from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from drillbook.harness import pg
from drillbook.twin.postgres import PostgresCluster
from tests.local_env import SharedEnv, shared_local_env
from tests.servers import HttpServer
from tests.servers import http_server as start_http_server
from tests.twin.dataplane_support import server_tmp

# boto3 without credentials asks the EC2 instance metadata service (169.254.169.254), which
# does not exist here: a test must never wait on it. moto accepts any credentials.
for _name, _value in (("AWS_EC2_METADATA_DISABLED", "true"), ("AWS_ACCESS_KEY_ID", "testing"),
                      ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_DEFAULT_REGION", "us-east-1")):
    os.environ.setdefault(_name, _value)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: three workers for every two cores. A third of a worker's time goes to
    waiting on the processes its tests start and stop (PostgreSQL, the supervisor's pods,
    drills in a subprocess): on 2 cores, 2 workers kept the CPUs 62 % busy and the suite
    took 1249 s, 3 workers took 1050 s (issue #16). ``-n N`` sets it outright."""
    return max(1, len(os.sched_getaffinity(0)) * 3 // 2)


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[HttpServer]:
    server = start_http_server(tmp_path)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL cluster for the whole test session."""
    with server_tmp("session-pg") as base:
        cluster = PostgresCluster(base / "data").init()
        cluster.start()
        try:
            cluster.wait_ready()
            yield cluster
        finally:
            cluster.stop("immediate")


MINI_SCHEMA = """
CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text NOT NULL DEFAULT '',
                    updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE projects (id bigserial PRIMARY KEY, owner_id bigint NOT NULL REFERENCES users (id),
                       name text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX projects_owner_id_idx ON projects (owner_id);
INSERT INTO users (email, name) SELECT 'user' || g || '@example.com', 'User ' || g
    FROM generate_series(1, 50) g;
INSERT INTO projects (owner_id, name) SELECT 1 + g % 50, 'Project ' || g FROM generate_series(1, 500) g;
"""


@pytest.fixture
def pg_database(pg_cluster: PostgresCluster, request: pytest.FixtureRequest) -> str:
    """A fresh database with small users/projects tables; returns its DSN."""
    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name.lower())[-50:]
    pg_cluster.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    pg_cluster.sql(f'CREATE DATABASE "{name}"')
    pg.query(pg_cluster.dsn(name), MINI_SCHEMA)
    return pg_cluster.dsn(name)


@pytest.fixture(scope="session")
def local_env(request: pytest.FixtureRequest) -> SharedEnv:
    """The reference platform, up once for the whole test session."""
    return shared_local_env(request.config)


@pytest.fixture(scope="session")
def _kubernetes_models_imported() -> None:
    """Import every model of the kubernetes client, once.

    pytester forgets the modules imported while its test (or an inline run) ran. The
    kubernetes client imports its models lazily and caches them on its package, so a
    forgotten model module would be imported again later as a second class, and pydantic
    then rejects the first class's instances ("Input should be a valid dictionary or
    instance of V1ObjectMeta"). Imported before any pytester snapshot, none is forgotten.
    """
    try:
        import kubernetes.client.models as models
    except ImportError:
        return
    for module in pkgutil.iter_modules(models.__path__):
        importlib.import_module(f"{models.__name__}.{module.name}")


@pytest.fixture
def pytester(_kubernetes_models_imported: None, pytester: pytest.Pytester) -> pytest.Pytester:
    """pytest's own ``pytester``, with the kubernetes models imported first (see above)."""
    return pytester
