"""Fixtures of the staging driver tests: moto's server over HTTP, the Kubernetes emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.environments.staging.settings import AwsSettings
from tests.environments.staging.kube_target import KubeTarget, target
from tests.environments.staging.moto_server import MotoServer, fake_credentials


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


@pytest.fixture
def kube_target() -> Iterator[KubeTarget]:
    """The emulator, or a real cluster with KUBECONFIG and DRILLBOOK_REAL_K8S=1."""
    yield from target()
