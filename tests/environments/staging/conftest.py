"""Fixtures of the staging driver tests: moto's server over HTTP, the Kubernetes emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drillbook.harness.environments.staging.settings import AwsSettings
from drillbook.twin.postgres import PostgresCluster
from tests.environments.staging.kube_target import KubeTarget, kinds, target
from tests.environments.staging.moto_server import MotoServer, fake_credentials
from tests.environments.staging.platform import StagingPlatform, build
from tests.servers import HttpServer


@pytest.fixture(scope="session")
def moto_session() -> Iterator[MotoServer]:
    server = MotoServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def moto(moto_session: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    """moto's server, emptied, with fake credentials in the environment."""
    fake_credentials(monkeypatch)
    moto_session.reset()
    return moto_session


@pytest.fixture
def aws(moto: MotoServer) -> AwsSettings:
    return moto.settings()


@pytest.fixture(params=kinds())
def kube_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KubeTarget]:
    """The emulator and the twin, or a real cluster with KUBECONFIG and DRILLBOOK_REAL_K8S=1."""
    yield from target(request.param, request, tmp_path)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from drillbook.twin.redis import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def staging_platform(
    moto: MotoServer,
    pg_cluster: PostgresCluster,
    redis_url: str,
    http_server: HttpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[StagingPlatform]:
    """Every role of a staging profile, on real stand-ins (see platform.py)."""
    yield from build(moto, pg_cluster, redis_url, http_server.url, monkeypatch)
