"""The service's deny list (``BLOCKED_IPS``): the source-address block Scenario 3's containment uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from drillbook.twin.postgres import free_port
from drillbook.twin.service.config import ConfigError, ServiceConfig
from tests.twin.app_plane_support import Platform, http, platform, run_service

__all__ = ["platform"]

BASE = {"PORT": "1", "DATABASE_URL": "postgresql://x@127.0.0.1/db", "REDIS_URL": "redis://127.0.0.1/0",
        "JWT_SECRET_ID": "a", "DB_PASSWORD_SECRET_ID": "b", "ENCRYPTION_KEY_SECRET_ID": "c"}


def test_addresses_and_cidr_blocks_are_parsed() -> None:
    config = ServiceConfig.from_env({**BASE, "BLOCKED_IPS": " 203.0.113.7, 198.51.100.0/24 ,,2001:db8::/32"})
    assert config.is_blocked("203.0.113.7")
    assert config.is_blocked("198.51.100.200")
    assert config.is_blocked("2001:db8::1")
    assert not config.is_blocked("203.0.113.8")
    assert not config.is_blocked(None) and not config.is_blocked("not an address")
    assert not ServiceConfig.from_env(BASE).is_blocked("203.0.113.7")


def test_a_bad_entry_is_a_configuration_error_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"BLOCKED_IPS: '10\.0\.0\.999' is not an address"):
        ServiceConfig.from_env({**BASE, "BLOCKED_IPS": "10.0.0.1,10.0.0.999"})


def test_a_blocked_source_gets_403_and_others_are_served(platform: Platform, tmp_path: Path) -> None:
    proc = run_service(platform.service_env(free_port(), BLOCKED_IPS="127.66.0.0/16"), tmp_path / "api.log")
    try:
        # The replica trusts the last X-Forwarded-For entry from a loopback peer (the front door's).
        blocked = http("POST", f"{proc.url}/api/auth/login", {"email": "a@b.c", "password": "x"},
                       headers={"X-Forwarded-For": "127.66.1.2"})
        spoofed = http("GET", f"{proc.url}/api/projects",
                       headers={"X-Forwarded-For": "127.66.1.2, 127.0.0.1"})
        health = http("GET", f"{proc.url}/api/health", headers={"X-Forwarded-For": "127.66.1.2"})
        served = http("GET", f"{proc.url}/api/projects")
    finally:
        proc.stop()
    assert (blocked.status, blocked.body["error"]) == (403, "forbidden")
    assert spoofed.status == 200  # only the entry the front door appended counts
    assert health.status == 200  # probes are never blocked
    assert served.status == 200
    assert " 403 " in proc.log.read_text()
