"""``drillbook env check``: the preflight over a whole emulated staging platform."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from drillbook.harness.config import load_config
from drillbook.harness.environments.factory import build_environment
from drillbook.harness.environments.preflight import NOT_READY, READY, UNKNOWN, preflight, ready, table
from drillbook.harness.environments.staging.environment import StagingEnvironment
from drillbook.twin.postgres import free_port
from tests.environments.staging.platform import DATABASE_ENV, StagingPlatform


def env_from(platform: StagingPlatform, directory: Path, profile: str | None = None) -> StagingEnvironment:
    path = directory / "drillbook.toml"
    path.write_text(profile if profile is not None else platform.profile())
    env = build_environment("staging", load_config(path), directory)
    assert isinstance(env, StagingEnvironment)
    return env


def by_check(results: list) -> dict[tuple[str, str], tuple[str, str]]:  # type: ignore[type-arg]
    return {(r.role, r.check): (r.status, r.detail) for r in results}


def test_a_healthy_platform_is_ready(staging_platform: StagingPlatform, tmp_path: Path) -> None:
    results = preflight(env_from(staging_platform, tmp_path), timeout=10)
    checks = by_check(results)
    assert checks[("health", "health URL answers")][0] == READY
    assert checks[("references", "database url reference")] == (
        READY,
        f"${DATABASE_ENV} is set (value not shown)",
    )
    assert checks[("database", "RDS instance compliant-db")][0] == READY
    assert checks[("database", "SQL connection")][0] == READY
    assert checks[("replica", "RDS instance compliant-dr")][0] == READY
    assert checks[("app", "RBAC permissions")] == (READY, "12 verbs allowed (SelfSubjectAccessReview)")
    assert checks[("app", "deployment api")][0] == READY
    assert checks[("network", "proxies exist")] == (READY, "app-db")
    assert checks[("object_store", "object lock")][0] == READY
    assert checks[("dns", f"hosted zone {staging_platform.zone_id}")][0] == READY
    assert checks[("secrets", "AWS credentials")][0] == READY
    assert checks[("cache", "Redis PING")][0] == READY
    # moto cannot simulate IAM policies: said so, not guessed.
    assert checks[("database", "RDS permissions (IAM simulation)")][0] in (READY, UNKNOWN)
    assert ready(results)
    text = table(results)
    assert text.splitlines()[0].split() == ["ROLE", "CHECK", "STATUS", "TIME", "DETAIL"]
    assert staging_platform.password not in text


def test_what_is_not_ready_is_named(
    staging_platform: StagingPlatform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    staging_platform.kube.denied = {("patch", "nodes"), ("create", "pods/eviction")}
    monkeypatch.delenv(DATABASE_ENV)
    profile = staging_platform.profile().replace('proxies = ["app-db"]', 'proxies = ["app-db", "app-cache"]')
    profile = profile.replace('instance_id = "compliant-db"', 'instance_id = "no-such-db"', 1)
    results = preflight(env_from(staging_platform, tmp_path, profile), timeout=10)
    checks = by_check(results)
    status, detail = checks[("app", "RBAC permissions")]
    assert status == NOT_READY and "create pods/eviction" in detail and "patch nodes" in detail
    status, detail = checks[("network", "proxies exist")]
    assert status == NOT_READY and "missing proxies app-cache" in detail
    status, detail = checks[("database", "RDS instance no-such-db")]
    assert status == NOT_READY and "check [environments.staging.database] instance_id" in detail
    status, detail = checks[("references", "database url reference")]
    assert status == NOT_READY and f"environment variable {DATABASE_ENV} is not set" in detail
    assert not ready(results)


def test_unreachable_endpoints_fail_within_the_timeout(
    staging_platform: StagingPlatform, tmp_path: Path
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    profile = staging_platform.profile()
    profile = profile.replace(staging_platform.kube.url, dead).replace(staging_platform.toxiproxy.url, dead)
    profile = profile.replace(staging_platform.health_url, dead + "/health")
    started = time.monotonic()
    results = preflight(env_from(staging_platform, tmp_path, profile), timeout=2)
    assert time.monotonic() - started < 60
    checks = by_check(results)
    assert checks[("app", "API server reachable")][0] == NOT_READY
    assert "did not answer within 2s" in checks[("app", "API server reachable")][1]
    assert checks[("network", "toxiproxy API")][0] == NOT_READY
    assert checks[("health", "health URL answers")][0] == NOT_READY
    assert ("app", "deployment api") not in checks  # nothing more is asked of an unreachable server


def cli(
    directory: Path, *args: str, environ: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRILLBOOK_TEST_")}
    env.update(environ or {})
    return subprocess.run(
        [sys.executable, "-m", "drillbook", *args],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_command_prints_the_table_and_exits_by_readiness(
    staging_platform: StagingPlatform, tmp_path: Path
) -> None:
    staging_platform.write(tmp_path)
    done = cli(
        tmp_path, "env", "check", "--env", "staging", "--timeout", "10s", environ=staging_platform.environ()
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "staging: ready" in done.stdout and "Traceback" not in done.stderr
    assert staging_platform.password not in done.stdout + done.stderr
    as_json = cli(tmp_path, "env", "check", "--env", "staging", "--json", environ=staging_platform.environ())
    rows = json.loads(as_json.stdout)
    assert {r["role"] for r in rows} >= {"database", "app", "network", "object_store", "dns", "secrets"}
    missing = cli(tmp_path, "env", "check", "--env", "staging")  # no DATABASE_URL, no AWS credentials
    assert missing.returncode == 1 and "NOT READY" in missing.stdout and "Traceback" not in missing.stderr
