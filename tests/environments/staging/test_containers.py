"""The ``containers`` profile (testcontainers: PostgreSQL, toxiproxy, moto in Docker).

Its end-to-end test needs a Docker engine and skips, saying so, where none answers
(this development machine has only the ``docker`` client, no engine). What does not
need Docker is tested everywhere: the profile builds, and without an engine ``up``
fails with a clear error and leaves nothing behind.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from drillbook.harness.config import load_config
from drillbook.harness.environments.containers.engine import ContainersUnavailable, engine_problem
from drillbook.harness.environments.factory import build_environment
from drillbook.harness.environments.lifecycle import Lifecycle

PROFILE = '[environments.containers]\ndriver = "containers"\n'
NO_ENGINE = engine_problem()


def build(tmp_path: Path) -> object:
    (tmp_path / "drillbook.toml").write_text(PROFILE)
    return build_environment("containers", load_config(tmp_path / "drillbook.toml"), tmp_path / ".drillbook")


def test_the_profile_builds_a_containers_environment(tmp_path: Path) -> None:
    from drillbook.harness.environments.containers.environment import ContainersEnvironment

    env = build(tmp_path)
    assert isinstance(env, ContainersEnvironment) and isinstance(env, Lifecycle)
    assert not env.is_up() and env.status() == []
    assert env.versions()["postgresql"].startswith("postgres:15")


@pytest.mark.skipif(NO_ENGINE is None, reason="a Docker engine answers here: the up test below runs instead")
def test_without_a_docker_engine_up_fails_clearly(tmp_path: Path) -> None:
    env = build(tmp_path)
    assert isinstance(env, Lifecycle)
    with pytest.raises(ContainersUnavailable, match="the containers environment needs Docker: "):
        env.up()
    assert not (tmp_path / ".drillbook" / "containers" / "containers.json").exists()
    done = subprocess.run(
        [sys.executable, "-m", "drillbook", "env", "up", "--env", "containers"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "needs Docker" in done.stderr and (
        "no Docker engine answers" in done.stderr or "testcontainers is not installed" in done.stderr
    )


@pytest.fixture
def containers(tmp_path: Path) -> Iterator[object]:
    if NO_ENGINE is not None:
        pytest.skip(f"the containers profile needs a Docker engine: {NO_ENGINE}")
    env = build(tmp_path)
    assert isinstance(env, Lifecycle)
    assert env.up(progress=print)
    try:
        yield env
    finally:
        report = env.down()
        assert report.clean


def test_up_gives_every_role_and_down_removes_everything(containers: object) -> None:
    from drillbook.harness import pg
    from drillbook.harness.environments.containers.environment import ContainersEnvironment

    env = containers
    assert isinstance(env, ContainersEnvironment)
    assert all(c.health == "healthy" for c in env.status())
    assert pg.query(env.database.dsn(), "SELECT 1")[0][0] == 1
    assert pg.query(env.proxied_database_url, "SELECT 1")[0][0] == 1  # through the real toxiproxy
    assert env.network.proxies() == ["app-db"]
    evidence = env.role("object_store").upload_evidence("e.txt", b"evidence")
    assert evidence.sse == "AES256"
    env.dns.upsert("db.compliant.example", "10.0.0.5")
    assert env.dns.resolve("db.compliant.example") == "10.0.0.5"
