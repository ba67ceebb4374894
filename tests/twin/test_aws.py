"""moto's server in its own process, bootstrapped with the reference platform's resources,
driven through the object_store, dns and secrets roles."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from drillbook.harness.environments.base import DnsRole, ObjectStoreRole, SecretsRole
from drillbook.harness.redact import redact_text
from drillbook.twin import moto_server, processes
from drillbook.twin.aws import (
    AwsEndpoint,
    AwsError,
    Route53Dns,
    S3ObjectStore,
    SecretsManagerSecrets,
)
from drillbook.twin.aws_platform import PlatformAws, bootstrap
from drillbook.twin.postgres import free_port

PLATFORM = PlatformAws()


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsEndpoint]:
    port = free_port()
    logs = tmp_path_factory.mktemp("moto")
    proc = processes.spawn("moto", moto_server.argv(port), label="test-aws", port=port, log=logs / "moto.log")
    try:
        moto_server.wait_ready(port, timeout=60, alive=lambda: processes.alive(proc))
        found = AwsEndpoint(moto_server.url(port), connect_timeout=2, read_timeout=10)
        bootstrap(found, PLATFORM)
        yield found
    finally:
        processes.stop(proc)
    assert not processes.listening([port])


def test_the_buckets_exist_with_versioning_on(endpoint: AwsEndpoint) -> None:
    store = S3ObjectStore(endpoint)
    assert isinstance(store, ObjectStoreRole)
    assert set(PLATFORM.buckets) <= set(store.buckets())
    assert {b: store.versioning(b) for b in PLATFORM.buckets} == {b: "Enabled" for b in PLATFORM.buckets}
    first = store.put(PLATFORM.evidence_bucket, "incident/evidence.tar.gz", b"one", sse=True)
    second = store.put(PLATFORM.evidence_bucket, "incident/evidence.tar.gz", b"two", sse=True)
    assert first["sse"] == "AES256" and first["version_id"] != second["version_id"]
    assert store.list(PLATFORM.evidence_bucket, "incident/") == ["incident/evidence.tar.gz"]
    assert store.get(PLATFORM.evidence_bucket, "incident/evidence.tar.gz") == b"two"


def test_the_api_record_points_at_the_primary_pool_and_an_upsert_moves_it(endpoint: AwsEndpoint) -> None:
    dns = Route53Dns(endpoint)
    assert isinstance(dns, DnsRole)
    assert dns.resolve(PLATFORM.api_record) == PLATFORM.primary_target
    dns.upsert(PLATFORM.api_record, PLATFORM.dr_target, wait=True, timeout=30)
    try:
        assert dns.resolve(PLATFORM.api_record) == PLATFORM.dr_target
    finally:
        dns.upsert(PLATFORM.api_record, PLATFORM.primary_target, wait=True, timeout=30)
    assert dns.resolve(f"nothing.{PLATFORM.domain}") is None
    with pytest.raises(AwsError, match=r"no Route 53 hosted zone holds api\.elsewhere\.example"):
        dns.resolve("api.elsewhere.example")


def test_the_secrets_exist_and_values_read_are_redacted(endpoint: AwsEndpoint) -> None:
    vault = SecretsManagerSecrets(endpoint)
    assert isinstance(vault, SecretsRole)
    assert set(PLATFORM.secret_ids) <= set(vault.ids())
    password = vault.get(PLATFORM.db_password_secret_id)
    assert len(password) >= 24
    assert password not in redact_text(f"connecting with {password}")
    vault.put(PLATFORM.jwt_secret_id, "rotated-jwt-secret-value")
    assert vault.get(PLATFORM.jwt_secret_id) == "rotated-jwt-secret-value"
    with pytest.raises(AwsError, match="ResourceNotFoundException"):
        vault.get("compliant/production/nope")


def test_an_endpoint_that_does_not_answer_fails_fast_with_a_clear_error(tmp_path: Path) -> None:
    dead = AwsEndpoint(f"http://127.0.0.1:{free_port()}", connect_timeout=0.5, read_timeout=0.5,
                       max_attempts=1)
    began = time.monotonic()
    with pytest.raises(AwsError, match="get secret compliant/production/jwt-secret"):
        SecretsManagerSecrets(dead).get(PLATFORM.jwt_secret_id)
    assert time.monotonic() - began < 10
