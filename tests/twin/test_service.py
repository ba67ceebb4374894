"""The Compliant API as a real process against real PostgreSQL, Redis and moto."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import botocore.auth
import pytest
import redis
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from drillbook.harness.polling import wait_until
from drillbook.twin.passwords import hash_password
from drillbook.twin.postgres import free_port
from drillbook.twin.service import tokens
from drillbook.twin.service.awssecrets import (
    Credentials,
    SecretError,
    SecretsClient,
    sign,
)
from tests.twin.app_plane_support import (
    USER_EMAIL,
    USER_PASSWORD,
    WORKER_MODULE,
    Platform,
    ServiceProcess,
    http,
    login,
    platform,
    run_service,
)

__all__ = ["platform"]


@pytest.fixture
def service(platform: Platform, tmp_path: Path) -> Iterator[ServiceProcess]:
    proc = run_service(platform.service_env(free_port(), APP_VERSION="1.0.0", REPLICA_NAME="api-test"),
                       tmp_path / "api.log")
    try:
        yield proc
    finally:
        proc.stop()


def audit_rows(platform: Platform, since: datetime, event_type: str) -> list[tuple[object, ...]]:
    return platform.sql(
        "SELECT user_id, host(ip_address), user_agent, endpoint, table_name, record_id "
        "FROM audit_log WHERE event_type = %s AND created_at >= %s ORDER BY id",
        (event_type, since),
    )


def now(platform: Platform) -> datetime:
    value = platform.sql("SELECT clock_timestamp()")[0][0]
    assert isinstance(value, datetime)
    return value


def test_health_is_200_with_detail_when_database_and_redis_answer(service: ServiceProcess) -> None:
    answer = http("GET", f"{service.url}/api/health")
    assert answer.status == 200, answer.body
    assert answer.body["status"] == "ok"
    assert answer.body["version"] == "1.0.0"
    assert answer.body["checks"]["database"]["ok"] is True
    assert answer.body["checks"]["database"]["writable"] is True
    assert answer.body["checks"]["redis"]["ok"] is True


@pytest.mark.parametrize("broken", ["REDIS_URL", "DATABASE_URL"])
def test_health_is_503_naming_the_dependency_that_is_down(
    platform: Platform, tmp_path: Path, broken: str
) -> None:
    dead = free_port()  # nothing listens there: a real refused connection
    url = (f"redis://127.0.0.1:{dead}/0" if broken == "REDIS_URL"
           else f"postgresql://compliant_app@127.0.0.1:{dead}/compliant")
    proc = run_service(platform.service_env(free_port(), **{broken: url}), tmp_path / "api.log")
    try:
        started = time.monotonic()
        answer = http("GET", f"{proc.url}/api/health")
        elapsed = time.monotonic() - started
    finally:
        proc.stop()
    assert answer.status == 503
    down = "redis" if broken == "REDIS_URL" else "database"
    up = "database" if down == "redis" else "redis"
    assert answer.body["checks"][down]["ok"] is False
    assert answer.body["checks"][down]["error"]
    assert answer.body["checks"][up]["ok"] is True
    assert elapsed < 8.0  # bounded by the health timeouts, not by TCP's


def test_login_keeps_a_session_in_redis_and_audits_it(platform: Platform, service: ServiceProcess) -> None:
    since = now(platform)
    answer = http("POST", f"{service.url}/api/auth/login",
                  {"email": USER_EMAIL, "password": USER_PASSWORD},
                  headers={"User-Agent": "drill-test/1", "X-Forwarded-For": "203.0.113.7"})
    assert answer.status == 200, answer.body
    token = answer.body["token"]
    assert answer.body["token_type"] == "Bearer"
    sid = json.loads(tokens._unb64(token.split(".")[1]))["sid"]
    client = redis.Redis.from_url(platform.redis_url, socket_timeout=2)
    try:
        stored = client.get(f"session:{sid}")
        ttl = client.ttl(f"session:{sid}")
    finally:
        client.close()
    assert stored is not None and json.loads(stored)["user_id"] == platform.user_id
    assert 0 < ttl <= 3600
    rows = audit_rows(platform, since, "login")
    assert rows[-1] == (platform.user_id, "203.0.113.7", "drill-test/1", "POST /api/auth/login", "users",
                        platform.user_id)


def test_wrong_password_is_401_and_audited_as_login_failed(
    platform: Platform, service: ServiceProcess
) -> None:
    since = now(platform)
    answer = http("POST", f"{service.url}/api/auth/login", {"email": USER_EMAIL, "password": "nope"})
    assert answer.status == 401
    assert answer.body["error"] == "invalid_credentials"
    assert audit_rows(platform, since, "login_failed")[-1][0] == platform.user_id


def test_projects_crud_is_authenticated_audited_and_enqueues_a_job(
    platform: Platform, service: ServiceProcess
) -> None:
    since = now(platform)
    assert http("POST", f"{service.url}/api/projects", {"name": "anonymous"}).status == 401
    bad = http("POST", f"{service.url}/api/projects", {"name": "forged"}, token="a.b.c")
    assert (bad.status, bad.body["error"]) == (401, "invalid_token")

    token = login(service.url)
    created = http("POST", f"{service.url}/api/projects", {"name": "Flood cover"}, token=token)
    assert created.status == 201, created.body
    project_id = created.body["project"]["id"]
    assert created.body["project"]["owner_id"] == platform.user_id

    listed = http("GET", f"{service.url}/api/projects?limit=500&owner_id={platform.user_id}")
    assert project_id in [p["id"] for p in listed.body["projects"]]
    assert http("GET", f"{service.url}/api/projects/{project_id}").body["project"]["name"] == "Flood cover"

    patched = http("PATCH", f"{service.url}/api/projects/{project_id}", {"name": "Flood cover v2"},
                   token=token)
    assert patched.status == 200 and patched.body["project"]["name"] == "Flood cover v2"
    assert http("DELETE", f"{service.url}/api/projects/{project_id}", token=token).status == 200
    assert http("GET", f"{service.url}/api/projects/{project_id}").status == 404

    for event, endpoint in (("create", "POST /api/projects"),
                            ("update", f"PATCH /api/projects/{project_id}"),
                            ("delete", f"DELETE /api/projects/{project_id}")):
        rows = audit_rows(platform, since, event)
        assert (platform.user_id, "127.0.0.1", endpoint, "projects", project_id) in [
            (r[0], r[1], r[3], r[4], r[5]) for r in rows
        ], (event, rows)
    assert audit_rows(platform, since, "read")
    jobs = platform.sql("SELECT payload FROM jobs WHERE kind = 'project_created' AND created_at >= %s",
                        (since,))
    assert {"project_id": project_id} in [j[0] for j in jobs]


def test_an_unknown_address_is_audited_under_a_keyed_pseudonym(
    platform: Platform, service: ServiceProcess
) -> None:
    since = now(platform)
    email = "Nobody@Example.com"
    assert http("POST", f"{service.url}/api/auth/login", {"email": email, "password": "x"}).status == 401
    rows = platform.sql("SELECT user_id, detail FROM audit_log WHERE event_type = 'login_failed' "
                        "AND created_at >= %s ORDER BY id", (since,))
    key = platform.client("secretsmanager").get_secret_value(
        SecretId=platform.secret_id("encryption-key"))["SecretString"]
    expected = hmac.new(key.encode(), email.lower().encode(), hashlib.sha256).hexdigest()
    assert rows[-1] == (None, {"email_hmac": expected})
    assert email.lower() not in json.dumps(rows[-1][1]).lower()


def test_the_security_queries_of_the_dr_procedures_run_on_audit_log(
    platform: Platform, service: ServiceProcess
) -> None:
    login(service.url)
    recent = platform.sql(
        "SELECT user_id, ip_address, created_at, user_agent FROM audit_log "
        "WHERE event_type = 'login' AND created_at > NOW() - INTERVAL '1 hour' ORDER BY created_at DESC")
    assert recent and recent[0][0] == platform.user_id
    platform.sql("SELECT table_name, COUNT(*) AS access_count FROM audit_log "
                 "WHERE user_id IN (%s) GROUP BY table_name", (platform.user_id,))
    platform.sql("SELECT user_id, endpoint, COUNT(*) AS requests FROM audit_log WHERE event_type = 'read' "
                 "GROUP BY user_id, endpoint HAVING COUNT(*) > 1000")
    platform.sql("SELECT DISTINCT user_id, ip_address, user_agent, created_at FROM audit_log "
                 "WHERE created_at BETWEEN NOW() - INTERVAL '1 hour' AND NOW() ORDER BY created_at")


def test_flushing_redis_revokes_every_session(platform: Platform, service: ServiceProcess) -> None:
    token = login(service.url)
    assert http("POST", f"{service.url}/api/projects", {"name": "before flush"}, token=token).status == 201
    client = redis.Redis.from_url(platform.redis_url, socket_timeout=2)
    try:
        client.flushdb()
    finally:
        client.close()
    answer = http("POST", f"{service.url}/api/projects", {"name": "after flush"}, token=token)
    assert (answer.status, answer.body["error"]) == (401, "session_expired")


def test_a_suspended_account_can_neither_log_in_nor_write(
    platform: Platform, service: ServiceProcess
) -> None:
    email = f"mallory-{time.monotonic_ns()}@example.com"
    platform.sql("INSERT INTO users (email, name, password_hash) VALUES (%s, 'Mallory', %s)",
                 (email, hash_password("pw")))
    token = login(service.url, email, "pw")
    platform.sql("UPDATE users SET status = 'suspended', updated_at = NOW(), "
                 "suspension_reason = 'Security incident' WHERE email = %s", (email,))
    answer = http("POST", f"{service.url}/api/projects", {"name": "exfil"}, token=token)
    assert (answer.status, answer.body["error"]) == (403, "account_suspended")
    again = http("POST", f"{service.url}/api/auth/login", {"email": email, "password": "pw"})
    assert (again.status, again.body["error"]) == (403, "account_suspended")


def test_read_only_mode_refuses_writes_with_503_and_serves_reads(platform: Platform, tmp_path: Path) -> None:
    proc = run_service(platform.service_env(free_port(), READ_ONLY_MODE="true"), tmp_path / "api.log")
    try:
        token = login(proc.url)
        write = http("POST", f"{proc.url}/api/projects", {"name": "blocked"}, token=token)
        read = http("GET", f"{proc.url}/api/projects")
        health = http("GET", f"{proc.url}/api/health")
    finally:
        proc.stop()
    assert (write.status, write.body["error"]) == (503, "read_only")
    assert "READ_ONLY_MODE" in write.body["message"]
    assert read.status == 200
    assert health.status == 200 and health.body["read_only_mode"] is True


@pytest.mark.parametrize("missing", ["DATABASE_URL", "JWT_SECRET_ID", "PORT"])
def test_a_missing_environment_variable_exits_78_naming_it(
    platform: Platform, tmp_path: Path, missing: str
) -> None:
    env = platform.service_env(free_port())
    del env[missing]
    proc = run_service(env, tmp_path / "api.log", wait=False)
    assert proc.process.wait(30) == 78
    assert f"missing required environment variable {missing}" in proc.output()


def test_an_image_can_require_more_variables(platform: Platform, tmp_path: Path) -> None:
    proc = run_service(platform.service_env(free_port()), tmp_path / "api.log", "--require",
                       "FEATURE_FLAGS_URL", wait=False)
    assert proc.process.wait(30) == 78
    assert "FEATURE_FLAGS_URL" in proc.output()


def test_an_unknown_secret_exits_1_naming_the_secret_not_a_value(platform: Platform, tmp_path: Path) -> None:
    env = platform.service_env(free_port(), JWT_SECRET_ID="compliant/nowhere/jwt-secret")
    proc = run_service(env, tmp_path / "api.log", wait=False)
    assert proc.process.wait(30) == 1
    assert "compliant/nowhere/jwt-secret" in proc.output()
    assert "ResourceNotFoundException" in proc.output()
    assert platform.db_password not in proc.output()


def test_rotated_secrets_apply_after_restart_and_old_tokens_are_rejected(
    platform: Platform, tmp_path: Path
) -> None:
    env = platform.service_env(free_port())
    first = run_service(env, tmp_path / "first.log")
    try:
        old_token = login(first.url)
        old_kid = http("GET", f"{first.url}/api/health").body["jwt_kid"]
        platform.rotate_secret("jwt-secret")
        # Not restarted yet: the running replica still uses the secret it read at start.
        assert http("POST", f"{first.url}/api/projects", {"name": "still ok"}, token=old_token).status == 201
    finally:
        first.stop()
    second = run_service(env, tmp_path / "second.log")
    try:
        assert http("GET", f"{second.url}/api/health").body["jwt_kid"] != old_kid
        rejected = http("POST", f"{second.url}/api/projects", {"name": "stale token"}, token=old_token)
        fresh = http("POST", f"{second.url}/api/projects", {"name": "new token"}, token=login(second.url))
    finally:
        second.stop()
    assert (rejected.status, rejected.body["error"]) == (401, "invalid_token")
    assert fresh.status == 201


def test_sigterm_stops_the_service_cleanly(service: ServiceProcess) -> None:
    assert service.stop() == 0
    assert "stopped (SIGTERM)" in service.output()


def test_the_worker_processes_enqueued_jobs(
    platform: Platform, service: ServiceProcess, tmp_path: Path
) -> None:
    # The platform is shared by the session: a supervised plane of another test may be running
    # its own workers on the same queue. They compete (FOR UPDATE SKIP LOCKED), so this worker
    # starts first, polls faster than theirs, and must take at least one of several jobs.
    token = login(service.url)
    worker = run_service(platform.service_env(free_port(), REPLICA_NAME="workers-test",
                                              WORKER_INTERVAL_S="0.05"),
                         tmp_path / "worker.log", module=WORKER_MODULE)
    try:
        ids = [str(http("POST", f"{service.url}/api/projects", {"name": f"for the worker {i}"},
                        token=token).body["project"]["id"]) for i in range(10)]
        rows = wait_until(
            lambda: platform.sql(
                "SELECT status, processed_by FROM jobs WHERE payload->>'project_id' = ANY(%s)", (ids,)),
            what="the jobs of 10 new projects to be done", timeout=20, interval=0.1,
            until=lambda found: len(found) == len(ids) and all(status == "done" for status, _ in found))
        health = wait_until(lambda: http("GET", f"{worker.url}/api/health"),
                            what="the worker's health", timeout=10, interval=0.1,
                            until=lambda answer: answer.status == 200)  # the first cycle may be finishing
    finally:
        worker.stop()
    assert "workers-test" in {by for _, by in rows}, rows
    assert all(str(by).startswith("workers-") for _, by in rows), rows
    assert health.body["processed"] >= 1, health.body


def test_secrets_requests_are_signed_exactly_as_botocore_signs_them(monkeypatch: pytest.MonkeyPatch) -> None:
    moment = datetime(2024, 1, 18, 12, 30, 0, tzinfo=UTC)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: moment)  # pin botocore's clock
    url = "http://127.0.0.1:5000/"
    body = json.dumps({"SecretId": "compliant/production/jwt-secret"}).encode()
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "secretsmanager.GetSecretValue"}
    ours = sign("POST", url, headers, body, credentials=Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI", "tok"),
                region="us-west-2", service="secretsmanager", now=moment)
    request = AWSRequest(method="POST", url=url, data=body, headers=dict(headers))
    botocore_auth = SigV4Auth(BotoCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI", "tok"), "secretsmanager",
                              "us-west-2")
    botocore_auth.add_auth(request)
    assert ours["Authorization"] == request.headers["Authorization"]


def test_the_secrets_client_reads_moto_and_names_a_missing_secret(platform: Platform) -> None:
    client = SecretsClient.from_env(platform.service_env(0), timeout=3)
    assert client.get(platform.secret_id("db-password")) == platform.db_password
    with pytest.raises(SecretError, match="ResourceNotFoundException"):
        client.get("no/such/secret")
