"""moto's real HTTP server in a thread of the test process, on a free loopback port.

Clients reach it over HTTP through ``endpoint_url`` exactly as they reach AWS; moto
makes every state change instant, so it checks the calls, not the timing.
"""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from drillbook.harness.environments.staging.settings import AwsSettings

REGION = "eu-west-1"


class MotoServer:
    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        # werkzeug logs every request at INFO: keep test output readable.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"

    def reset(self) -> None:
        request = urllib.request.Request(self.url + "/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def settings(self, region: str = REGION, **overrides: object) -> AwsSettings:
        values: dict[str, object] = {
            "region": region,
            "endpoint_url": self.url,
            "connect_timeout": 2.0,
            "read_timeout": 60.0,
            "max_attempts": 2,
        }
        values.update(overrides)
        return AwsSettings(**values)  # type: ignore[arg-type]

    def stop(self) -> None:
        self._server.stop()


def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto accepts any credentials; never let a test pick up a machine's real ones."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/drillbook-aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/drillbook-aws-credentials")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@contextmanager
def moto_server() -> Iterator[MotoServer]:
    server = MotoServer()
    try:
        yield server
    finally:
        server.stop()


def started(request: pytest.FixtureRequest) -> MotoServer:
    """A moto server for one test (contract cases): fake credentials, stopped at teardown."""
    fake_credentials(request.getfixturevalue("monkeypatch"))
    server = MotoServer()
    request.addfinalizer(server.stop)
    # moto's state is per process, shared by every server in it: start from nothing.
    server.reset()
    return server


def create_postgres(settings: AwsSettings, instance_id: str, *, multi_az: bool = True) -> None:
    """A PostgreSQL RDS instance in moto (its master password is a throwaway for moto)."""
    from drillbook.harness.environments.staging.aws.client import client

    client(settings, "rds").create_db_instance(
        DBInstanceIdentifier=instance_id,
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        AllocatedStorage=20,
        MasterUsername="drillbook",
        MasterUserPassword="moto-throwaway-1",
        MultiAZ=multi_az,
        Tags=[{"Key": "drillbook-test", "Value": "1"}],
    )
