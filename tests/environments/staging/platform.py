"""A whole staging platform of real stand-ins, and the drillbook.toml profile that points at it:

- AWS: moto's server over HTTP (an RDS primary with a cross-region read replica, an
  evidence bucket with object lock, a hosted zone, Secrets Manager secrets);
- Kubernetes: the API emulator (nodes in two zones, the ``api`` deployment);
- the network: drillbook's toxiproxy-compatible server with an ``app-db`` proxy;
- the data plane: a local PostgreSQL standing in for the RDS data plane, reached with a
  real password (scram) through DATABASE_URL, and a real Redis;
- the health URL: a real HTTP server.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from drillbook.harness.environments.staging.aws.client import client
from drillbook.harness.environments.staging.settings import AwsSettings
from drillbook.harness.toxiproxy.server import ToxiproxyServer
from drillbook.twin.postgres import PostgresCluster
from tests.environments.staging.kube_emulator import KubeEmulator, seed_deployment, seed_nodes
from tests.environments.staging.kube_target import DEPLOYMENT, ENV, NAMESPACE, REQUIRED_ENV
from tests.environments.staging.moto_server import MotoServer, create_postgres

DATABASE_ENV = "DRILLBOOK_TEST_DATABASE_URL"
REDIS_ENV = "DRILLBOOK_TEST_REDIS_URL"
DR_SECRET = "staging/dr-database-url"
JWT_SECRET = "staging/jwt"
ZONE = "compliant.example"
BUCKET = "compliant-evidence"
APP_USER = "drill_app"

PROFILE = """
[environments.staging]
description = "the emulated staging platform"
health_url = "{health}"
health_timeout = "2s"

[environments.staging.aws]
region = "eu-west-1"
endpoint_url = "{moto}"
connect_timeout = "2s"
read_timeout = "60s"

[environments.staging.kubernetes]
api_url = "{kube}"
namespace = "compliant"
request_timeout = "5s"

[environments.staging.database]
driver = "rds"
instance_id = "compliant-db"
url_env = "{database_env}"

[environments.staging.replica]
driver = "rds"
instance_id = "compliant-dr"
url_secret = "{dr_secret}"

[environments.staging.cache]
url_env = "{redis_env}"

[environments.staging.app]
deployment = "api"
selector = "app=api"

[environments.staging.network]
url = "{toxiproxy}"
proxies = ["app-db"]

[environments.staging.object_store]
bucket = "{bucket}"
object_lock_mode = "GOVERNANCE"
object_lock_days = 1

[environments.staging.dns]
hosted_zone_id = "{zone_id}"
record = "db.{zone}"

[environments.staging.secrets]
rotate = ["{jwt_secret}"]
"""


@dataclass
class StagingPlatform:
    moto: MotoServer
    aws: AwsSettings
    kube: KubeEmulator
    toxiproxy: ToxiproxyServer
    cluster: PostgresCluster
    database_url: str  # with its password: only in the environment variable
    password: str
    redis_url: str
    health_url: str
    zone_id: str

    def profile(self) -> str:
        return PROFILE.format(
            health=self.health_url,
            moto=self.moto.url,
            kube=self.kube.url,
            database_env=DATABASE_ENV,
            dr_secret=DR_SECRET,
            redis_env=REDIS_ENV,
            toxiproxy=self.toxiproxy.url,
            bucket=BUCKET,
            zone_id=self.zone_id,
            zone=ZONE,
            jwt_secret=JWT_SECRET,
        )

    def write(self, directory: Path) -> Path:
        path = directory / "drillbook.toml"
        path.write_text(self.profile())
        return path

    def environ(self) -> dict[str, str]:
        return {
            DATABASE_ENV: self.database_url,
            REDIS_ENV: self.redis_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_CONFIG_FILE": "/nonexistent/aws-config",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
        }


def app_database(cluster: PostgresCluster) -> tuple[str, str]:
    """A database owned by a role that logs in with a real password; (dsn, password)."""
    password = "pw-" + secrets.token_hex(8)
    cluster.sql("DROP DATABASE IF EXISTS staging_app WITH (FORCE)")
    cluster.sql(f"DROP ROLE IF EXISTS {APP_USER}")
    cluster.sql(f"CREATE ROLE {APP_USER} LOGIN PASSWORD '{password}'")
    cluster.sql(f"CREATE DATABASE staging_app OWNER {APP_USER}")
    return cluster.dsn("staging_app", user=APP_USER, password=password), password


def seed_aws(aws: AwsSettings, dr_url: str) -> str:
    """The AWS side of the platform; the hosted zone's id."""
    create_postgres(aws, "compliant-db")
    client(aws, "rds").create_db_instance_read_replica(
        DBInstanceIdentifier="compliant-dr", SourceDBInstanceIdentifier="compliant-db"
    )
    client(aws, "s3").create_bucket(
        Bucket=BUCKET,
        ObjectLockEnabledForBucket=True,
        CreateBucketConfiguration={"LocationConstraint": aws.region},
    )
    sm = client(aws, "secretsmanager")
    sm.create_secret(Name=DR_SECRET, SecretString=dr_url)
    sm.create_secret(Name=JWT_SECRET, SecretString="jwt-" + secrets.token_hex(8))
    zone = client(aws, "route53").create_hosted_zone(Name=ZONE, CallerReference=secrets.token_hex(6))
    return str(zone["HostedZone"]["Id"]).rsplit("/", 1)[-1]


def build(
    moto: MotoServer,
    cluster: PostgresCluster,
    redis_url: str,
    health_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[StagingPlatform]:
    database_url, password = app_database(cluster)
    aws = moto.settings()
    zone_id = seed_aws(aws, database_url)
    emulator = KubeEmulator(required_env=REQUIRED_ENV).start()
    toxiproxy = ToxiproxyServer(port=0).start()
    try:
        api = emulator.api_client()
        seed_nodes(api, {"az-a": 2, "az-b": 1})
        seed_deployment(api, NAMESPACE, DEPLOYMENT, replicas=4, env=ENV)
        from drillbook.harness.toxiproxy.client import ToxiproxyClient

        ToxiproxyClient(toxiproxy.url).create_proxy("app-db", f"127.0.0.1:{cluster.port}")
        platform = StagingPlatform(
            moto, aws, emulator, toxiproxy, cluster, database_url, password, redis_url, health_url, zone_id
        )
        for key, value in platform.environ().items():
            monkeypatch.setenv(key, value)
        yield platform
    finally:
        toxiproxy.stop()
        emulator.stop()
