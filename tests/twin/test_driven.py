"""The environment named ``local`` hands drills the staging drivers, pointed at the twin's APIs
(issue #14, one code path): RDS through boto3, the deployments through the official Kubernetes
client, Route 53, Secrets Manager, S3, toxiproxy, Redis; what it can do beyond them is the twin's."""

from __future__ import annotations

from pathlib import Path

import pytest

from drillbook.drills.twin_access import cluster_of
from drillbook.harness.config import Config
from drillbook.harness.environments import capabilities as caps
from drillbook.harness.environments.base import RoleUnavailable
from drillbook.harness.environments.factory import build_environment
from drillbook.harness.environments.staging.aws.route53 import Route53Records
from drillbook.harness.environments.staging.aws.s3 import S3Store
from drillbook.harness.environments.staging.aws.secrets import SecretsManager
from drillbook.harness.environments.staging.backups import RdsBackups
from drillbook.harness.environments.staging.cache import RedisCache
from drillbook.harness.environments.staging.database import RdsDatabase, RdsReplica
from drillbook.harness.environments.staging.k8s.role import KubeDeployment
from drillbook.harness.environments.staging.network import ToxiproxyNetwork
from drillbook.twin.driven import DrivenLocalEnvironment
from drillbook.twin.environment import LocalEnvironment
from tests.local_env import SharedEnv

DRIVERS = {
    "database": RdsDatabase,
    "replica": RdsReplica,
    "backups": RdsBackups,
    "cache": RedisCache,
    "app": KubeDeployment,
    "workers": KubeDeployment,
    "app_dr": KubeDeployment,
    "workers_dr": KubeDeployment,
    "network": ToxiproxyNetwork,
    "dns": Route53Records,
    "secrets": SecretsManager,
    "object_store": S3Store,
}


@pytest.fixture(scope="module")
def env(local_env: SharedEnv) -> DrivenLocalEnvironment:
    built = build_environment("local", Config(), local_env.state_dir)
    assert isinstance(built, DrivenLocalEnvironment)
    built.settle()
    return built


def test_every_role_of_the_local_environment_is_a_staging_driver(env: DrivenLocalEnvironment) -> None:
    found = {role: type(env.role(role)) for role in DRIVERS if env.has(role)}
    assert found == DRIVERS


def test_the_drivers_reach_the_twins_real_servers(env: DrivenLocalEnvironment, local_env: SharedEnv) -> None:
    assert env.database.running()
    assert env.database.name == "compliant-prod"  # the RDS instance id, not the twin's cluster name
    replicas = env.app.replicas()
    assert replicas and all(r.ready for r in replicas), replicas
    twin_pods = {r.name for r in local_env.env.app.replicas()}
    assert {r.name for r in replicas} == twin_pods  # the supervisor's pods, read through the Kubernetes API
    assert env.cache.ping(timeout=2.0)
    assert set(env.network.proxies()) >= {"app-db", "app-cache"}


def test_it_keeps_the_twins_capabilities_lifecycle_and_poll_interval(env: DrivenLocalEnvironment) -> None:
    assert env.name == "local"
    assert env.capabilities == caps.LOCAL
    assert env.poll_interval == pytest.approx(0.05)
    assert env.is_up()
    assert {row.name for row in env.status()} >= {"primary", "redis", "moto"}
    assert env.front_door_url.startswith("http://127.0.0.1:")
    assert env.control_planes().rds_instance == "compliant-prod"


def test_a_data_directory_is_found_behind_an_instance_of_the_rds_api(env: DrivenLocalEnvironment) -> None:
    cluster = cluster_of(env, env.database)
    assert (Path(cluster.datadir) / "PG_VERSION").is_file()
    assert cluster.port == env.twin.local_database.primary.port


def test_an_endpoint_the_twin_does_not_serve_has_no_data_directory(env: DrivenLocalEnvironment) -> None:
    with pytest.raises(RoleUnavailable, match="port 1"):
        env.cluster_serving("postgresql://postgres@127.0.0.1:1/compliant")


def test_the_twin_behind_it_is_the_lifecycle(env: DrivenLocalEnvironment) -> None:
    assert isinstance(env.twin, LocalEnvironment)
    assert env.twin.state_dir == env.state_dir


def test_settle_waits_for_the_primary_the_rds_api_calls_available(env: DrivenLocalEnvironment) -> None:
    env.settle()
    assert env.database.rds.status(env.database.name) == "available"  # type: ignore[attr-defined]


def test_roles_before_the_environment_is_up_name_the_fix(tmp_path: Path) -> None:
    env = build_environment("local", Config(), tmp_path)
    env.settle()  # nothing to wait for
    assert not env.has("database")
    with pytest.raises(RoleUnavailable, match="database"):
        env.role("database")
