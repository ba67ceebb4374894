"""Real components for the app plane's tests: PostgreSQL, Redis and moto's server (own process).

``Platform`` is the data plane the service needs, built the way the local
environment builds it (the ``compliant`` database and role, the secrets, the
Route 53 zone with the API record), but without the DR replica and archive,
so the app plane's tests start fast. One platform serves a whole test session;
:func:`shared_platform` hands it out and stops it at the end.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig

from drillbook.harness import pg, procs
from drillbook.twin import moto_server
from drillbook.twin.app_plane import GOOD_VERSION, AppPlane, SecretRefs, start_app_plane
from drillbook.twin.passwords import hash_password
from drillbook.twin.postgres import PostgresCluster, free_port
from drillbook.twin.primary import APP_DATABASE, APP_USER, create_app_database
from drillbook.twin.processes import labelled, listening
from drillbook.twin.redis import RedisServer
from drillbook.twin.supervisor import BackoffPolicy, Deployment

REGION = "us-east-1"
DOMAIN = "compliant.test"
RECORD = f"api.{DOMAIN}"
USER_EMAIL = "alice@example.com"
USER_PASSWORD = "correct horse battery staple"
SERVICE_MODULE = "drillbook.twin.service"
WORKER_MODULE = "drillbook.twin.service.worker"
AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION}


@dataclass
class Platform:
    cluster: PostgresCluster
    redis: RedisServer
    moto: subprocess.Popen[bytes]
    aws_endpoint: str
    hosted_zone_id: str
    prefix: str
    user_id: int = 0
    db_password: str = field(default="", repr=False)

    @property
    def database_url(self) -> str:
        return f"postgresql://{APP_USER}@127.0.0.1:{self.cluster.port}/{APP_DATABASE}"

    @property
    def admin_dsn(self) -> str:
        return self.cluster.dsn(APP_DATABASE)

    @property
    def redis_url(self) -> str:
        return self.redis.url

    def secret_id(self, name: str) -> str:
        return f"{self.prefix}/{name}"

    @property
    def secret_ids(self) -> dict[str, str]:
        return {
            "JWT_SECRET_ID": self.secret_id("jwt-secret"),
            "DB_PASSWORD_SECRET_ID": self.secret_id("db-password"),
            "ENCRYPTION_KEY_SECRET_ID": self.secret_id("encryption-key"),
        }

    def service_env(self, port: int, **extra: str) -> dict[str, str]:
        return {"PORT": str(port), "DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url,
                "AWS_ENDPOINT_URL": self.aws_endpoint, **AWS_ENV, **self.secret_ids, **extra}

    def client(self, service: str) -> Any:
        return boto3.client(
            service, region_name=REGION, endpoint_url=self.aws_endpoint,
            aws_access_key_id="testing", aws_secret_access_key="testing",
            config=BotoConfig(connect_timeout=2, read_timeout=5, retries={"max_attempts": 1}),
        )

    def sql(self, query: str, params: tuple[Any, ...] | None = None) -> list[tuple[Any, ...]]:
        return pg.query(self.admin_dsn, query, params, timeout=10)

    def rotate_secret(self, name: str) -> str:
        value = secrets.token_urlsafe(32)
        self.client("secretsmanager").put_secret_value(SecretId=self.secret_id(name), SecretString=value)
        return value

    def upsert_record(self, value: str) -> None:
        self.client("route53").change_resource_record_sets(
            HostedZoneId=self.hosted_zone_id,
            ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
                "Name": RECORD, "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": value}]}}]},
        )

    def stop(self) -> None:
        _stop_moto(self.moto)
        self.redis.stop()
        self.cluster.stop("immediate")


def _start_moto(log: Path) -> tuple[subprocess.Popen[bytes], str]:
    # Its own process: moto's backends are global to a process, and other tests in this one
    # reset theirs (POST /moto-api/reset), which would wipe these secrets and this zone.
    port = free_port()
    with log.open("ab") as out:
        proc = subprocess.Popen(moto_server.argv(port), stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        moto_server.wait_ready(port, timeout=60.0, alive=lambda: proc.poll() is None)
    except BaseException:
        _stop_moto(proc)
        raise
    return proc, moto_server.url(port)


def _stop_moto(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


def start_platform(base: Path) -> Platform:
    """PostgreSQL with the schema and one user, Redis, moto with the secrets and the zone."""
    cluster = PostgresCluster(base / "pg" / "data").init()
    redis = RedisServer(base / "redis")
    started: list[Any] = []
    try:
        cluster.start()
        started.append(cluster)
        cluster.wait_ready()
        db_password = secrets.token_urlsafe(24)
        create_app_database(cluster, db_password)
        redis.start()
        started.append(redis)
        moto, aws_endpoint = _start_moto(base / "moto.log")
        started.append(moto)
        platform = Platform(cluster, redis, moto, aws_endpoint, "",
                            f"drillbook-test-{uuid.uuid4().hex[:8]}/production", db_password=db_password)
        sm = platform.client("secretsmanager")
        for name, value in (("jwt-secret", secrets.token_urlsafe(32)), ("db-password", db_password),
                            ("encryption-key", secrets.token_urlsafe(32))):
            sm.create_secret(Name=platform.secret_id(name), SecretString=value)
        zone = platform.client("route53").create_hosted_zone(
            Name=f"{DOMAIN}.", CallerReference=uuid.uuid4().hex)
        platform.hosted_zone_id = zone["HostedZone"]["Id"].rsplit("/", 1)[-1]
        platform.user_id = int(platform.sql(
            "INSERT INTO users (email, name, password_hash) VALUES (%s, 'Alice', %s) "
            "ON CONFLICT (email) DO UPDATE SET status = 'active' RETURNING id",
            (USER_EMAIL, hash_password(USER_PASSWORD)))[0][0])
        return platform
    except BaseException:
        for thing in reversed(started):
            if isinstance(thing, PostgresCluster):
                thing.stop("immediate")
            elif isinstance(thing, subprocess.Popen):
                _stop_moto(thing)
            else:
                thing.stop()
        raise


_PLATFORM = pytest.StashKey[Platform]()


def shared_platform(request: pytest.FixtureRequest) -> Platform:
    """One platform per test session (also for the fault contract cases), stopped at its end."""
    config = request.config
    if _PLATFORM not in config.stash:
        # Outside pytest's temp tree: any pytest session starting on this machine resets
        # /tmp/pytest-of-<user> to 0700, which would lock the PostgreSQL user out mid-run.
        base = Path(tempfile.mkdtemp(prefix="drillbook-appplane-", dir="/tmp"))
        base.chmod(0o755)
        platform = start_platform(base)
        config.stash[_PLATFORM] = platform
        config.add_cleanup(lambda: shutil.rmtree(base, ignore_errors=True))
        config.add_cleanup(platform.stop)
    return config.stash[_PLATFORM]


@pytest.fixture
def platform(request: pytest.FixtureRequest) -> Platform:
    return shared_platform(request)


# -- one service process --------------------------------------------------------

@dataclass
class ServiceProcess:
    """A replica of the service run directly (no supervisor), for the service's own tests."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        return self.process.returncode


def run_service(env: dict[str, str], log: Path, *args: str, module: str = SERVICE_MODULE,
                wait: bool = True) -> ServiceProcess:
    port = int(env.get("PORT", "0"))
    with log.open("ab") as out:
        process = subprocess.Popen([sys.executable, "-m", module, *args], env={**_base_env(), **env},
                                   stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    service = ServiceProcess(process, port, log)
    if wait:
        deadline = time.monotonic() + 30
        while http_ok(f"{service.url}/livez") is False:
            if process.poll() is not None or time.monotonic() > deadline:
                service.stop()
                raise AssertionError(f"service did not start: {service.output()}")
            time.sleep(0.02)
    return service


def _base_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "PYTHONPATH", "VIRTUAL_ENV", "PYENV_VERSION", "SYSTEMROOT")
    return {k: v for k, v in os.environ.items() if k in keep}


def http_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except (OSError, ValueError):
        return False


# -- the app plane ----------------------------------------------------------------

#: Quick back-off and probes, so the tests see several restarts in seconds.
FAST_BACKOFF = BackoffPolicy(base_s=0.3, cap_s=4.0, reset_after_s=30.0)


def start_plane(platform: Platform, state_dir: Path, **options: Any) -> AppPlane:
    kwargs: dict[str, Any] = {
        "database_url": platform.database_url, "redis_url": platform.redis_url,
        "aws_endpoint": platform.aws_endpoint, "hosted_zone_id": platform.hosted_zone_id,
        "record_name": RECORD, "secrets": SecretRefs(platform.secret_id("jwt-secret"),
                                                     platform.secret_id("db-password"),
                                                     platform.secret_id("encryption-key")),
        "backoff": FAST_BACKOFF, "timeout": 90.0,
    }
    kwargs.update(options)
    return start_app_plane(state_dir, **kwargs)


def wait_for(check: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except Exception as exc:  # not yet
            last = exc
        else:
            if last:
                return last
        time.sleep(0.05)
    raise AssertionError(f"{what} not reached within {timeout:.0f}s (last: {last!r})")


def pods(deployment: Deployment) -> list[dict[str, Any]]:
    return list(deployment.status()["pods"])


def assert_nothing_left(plane: AppPlane, pids: list[int], ports: list[int]) -> None:
    leftovers = [pid for pid in pids if procs.alive(pid)]
    assert not leftovers, f"still running: {leftovers}"
    assert not listening(ports), f"still listening: {listening(ports)}"
    assert not labelled(plane.label), f"labelled leftovers: {labelled(plane.label)}"


def plane_pids(plane: AppPlane) -> list[int]:
    """The plane's processes and its pods' (from the saved state: the supervisor may be dead)."""
    saved = json.loads((plane.state_dir / "supervisor" / "state.json").read_text())
    return [p.pid for p in plane.processes] + [pod["pid"] for pod in saved["pods"] if pod["pid"]]


_PLANE = pytest.StashKey[AppPlane]()


def shared_plane(request: pytest.FixtureRequest) -> AppPlane:
    """One app plane for the fault contract cases (each case reverts what it did)."""
    config = request.config
    if _PLANE not in config.stash:
        platform = shared_platform(request)
        base = Path(tempfile.mkdtemp(prefix="drillbook-plane-"))
        started = start_plane(platform, base / "app")
        config.stash[_PLANE] = started
        config.add_cleanup(lambda: shutil.rmtree(base, ignore_errors=True))
        config.add_cleanup(lambda: _stop(started))
    return config.stash[_PLANE]


def _stop(plane: AppPlane) -> None:
    plane.stop()


def plane_steady(plane: AppPlane) -> bool:
    """Every deployment complete on the good version, no zone cordoned, the front door serving."""
    overview = plane.supervisor.status()
    if any(z["cordoned"] for z in overview["zones"]):
        return False
    for deployment in overview["deployments"]:
        if deployment["rollout"] != "complete" or deployment["version"] != GOOD_VERSION:
            return False
    return http("GET", f"{plane.front_door_url}/api/health", timeout=3).status == 200


@pytest.fixture
def plane(platform: Platform, tmp_path: Path) -> Iterator[AppPlane]:
    started = start_plane(platform, tmp_path / "app")
    try:
        yield started
    finally:
        stop_and_check(started)


def stop_and_check(plane: AppPlane) -> None:
    """Stop the plane whatever state a test left it in, then check nothing is left."""
    try:
        pids, ports = plane_pids(plane), plane.ports()
    finally:
        report = plane.stop()
    assert report.clean, report
    assert_nothing_left(plane, pids, ports)


# -- HTTP helpers ---------------------------------------------------------------

@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


def http(method: str, url: str, body: dict[str, Any] | None = None, *, token: str | None = None,
         timeout: float = 10.0, headers: dict[str, str] | None = None) -> Answer:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Answer(response.status, json.loads(response.read() or b"{}"), dict(response.headers))
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            parsed = json.loads(raw or b"{}")
        except ValueError:
            parsed = {"raw": raw.decode(errors="replace")}
        return Answer(exc.code, parsed, dict(exc.headers))


def login(base_url: str, email: str = USER_EMAIL, password: str = USER_PASSWORD) -> str:
    answer = http("POST", f"{base_url}/api/auth/login", {"email": email, "password": password})
    assert answer.status == 200, answer.body
    return str(answer.body["token"])
