"""The staging environment built from a drillbook.toml profile: every role through its
driver, on the emulated platform (platform.py); the PostgreSQL data plane on any
DATABASE_URL, resolved from a reference and redacted everywhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from drillbook.harness import pg
from drillbook.harness.config import load_config
from drillbook.harness.environments.base import (
    DatabaseRole,
    DeploymentRole,
    DnsRole,
    ObjectStoreRole,
    SecretsRole,
)
from drillbook.harness.environments.factory import build_environment
from drillbook.harness.environments.staging.database import (
    NoControlPlane,
    RdsDatabase,
    UrlDatabase,
    with_endpoint,
)
from drillbook.harness.environments.staging.environment import StagingEnvironment
from drillbook.harness.environments.staging.secretref import SecretUnavailable
from drillbook.harness.ledger.postgres import PostgresLedgerStore
from drillbook.harness.probes import sql_probe
from drillbook.harness.redact import redact, redact_text
from tests.environments.staging.platform import DATABASE_ENV, JWT_SECRET, StagingPlatform


@pytest.fixture
def env(staging_platform: StagingPlatform, tmp_path: Path) -> StagingEnvironment:
    config = load_config(staging_platform.write(tmp_path))
    built = build_environment("staging", config, tmp_path / ".drillbook")
    assert isinstance(built, StagingEnvironment)
    built.poll_interval = 0.05
    return built


def test_every_role_is_provided_by_its_driver(env: StagingEnvironment) -> None:
    assert sorted(env.configured()) == sorted(
        ["database", "replica", "cache", "app", "network", "object_store", "dns", "secrets", "backups"]
    )
    assert isinstance(env.database, RdsDatabase) and isinstance(env.database, DatabaseRole)
    assert isinstance(env.app, DeploymentRole)
    assert isinstance(env.object_store, ObjectStoreRole) and isinstance(env.dns, DnsRole)
    assert isinstance(env.secrets, SecretsRole)
    fingerprint = env.fingerprint()
    assert fingerprint["roles"]["database"] == "rds:compliant-db" and fingerprint["production"] is False
    with pytest.raises(Exception, match="provides no 'workers' role"):
        env.workers  # noqa: B018
    with pytest.raises(Exception, match="has no app_url: set app_url"):
        env.front_door_url  # noqa: B018


def test_the_database_url_comes_from_the_variable_and_is_redacted(
    env: StagingEnvironment, staging_platform: StagingPlatform
) -> None:
    dsn = env.database.dsn()
    assert dsn == staging_platform.database_url  # the password is in it: the server checks it (scram)
    assert pg.query(dsn, "SELECT current_user")[0][0] == "drill_app"
    password = staging_platform.password
    assert password not in redact_text(f"connecting with {password} to {dsn}")
    assert password not in str(redact({"dsn": dsn, "note": f"pw {password}"}))
    probe = sql_probe(env.database.dsn, name="database")
    assert probe.run().passed
    assert all(p.run().passed for p in env.steady_probes())  # health URL, database, cache


def test_a_wrong_password_fails_and_the_error_does_not_leak_it(
    env: StagingEnvironment, staging_platform: StagingPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = staging_platform.database_url.replace(staging_platform.password, "wrong-password-123")
    monkeypatch.setenv(DATABASE_ENV, wrong)
    result = sql_probe(env.database.dsn, name="database").run()
    assert not result.passed and "password authentication failed" in result.detail
    assert "wrong-password-123" not in result.detail


def test_the_ledger_writes_through_the_resolved_url(env: StagingEnvironment) -> None:
    store = PostgresLedgerStore(env.database.dsn)
    store.prepare("staging-run")
    for seq in range(1, 6):
        store.write("staging-run", seq, timeout=2.0)
    assert store.present("staging-run", timeout=2.0) == {1, 2, 3, 4, 5}
    store.close()


def test_the_replica_url_comes_from_secrets_manager(
    env: StagingEnvironment, staging_platform: StagingPlatform
) -> None:
    dsn = env.replica.dsn()
    assert dsn == staging_platform.database_url
    assert staging_platform.password not in redact_text(dsn)
    assert env.replica.lag_s() is None  # a primary stands in for it: not in recovery
    promoted = env.replica.promote(timeout=10)
    assert promoted.running()


def test_an_unset_variable_names_the_key_and_the_fix(
    env: StagingEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DATABASE_ENV)
    with pytest.raises(
        SecretUnavailable,
        match=rf"\[environments.staging.database\] url_env: environment "
        rf"variable {DATABASE_ENV} is not set; export {DATABASE_ENV}=",
    ):
        env.database.dsn()


def test_rds_control_plane_through_the_role(env: StagingEnvironment) -> None:
    database = env.role("database")
    assert isinstance(database, RdsDatabase) and database.running()
    snapshot = database.snapshot(timeout=10)
    assert (
        snapshot.id.startswith("drillbook-compliant-db-") and snapshot.detail["instance_id"] == "compliant-db"
    )
    assert snapshot.id in [s.id for s in database.snapshots()]
    restored = database.restore(snapshot, "compliant-db-restored", timeout=10)
    assert restored.running() and restored.name == "compliant-db-restored"
    host = restored.describe().endpoint
    assert host and host in restored.dsn()  # same credentials, the restored instance's endpoint
    assert env.role("backups").latest() is not None
    database.stop(timeout=10)
    assert not database.running()
    database.start(timeout=10)
    assert database.running()


def test_kubernetes_network_storage_dns_and_secrets_roles(env: StagingEnvironment) -> None:
    assert len(env.app.replicas()) == 4
    env.app.wait_available(timeout=20)
    assert env.network.proxies() == ["app-db"] and env.network.api_url().startswith("http://")
    assert env.cache.ping() and env.cache.dbsize() >= 0
    evidence = env.role("object_store").upload_evidence("run/evidence.txt", b"evidence")
    assert evidence.lock_mode == "GOVERNANCE" and evidence.sse == "AES256"
    env.dns.upsert("db.compliant.example", "compliant-db.eu-west-1.rds.example")
    assert env.dns.resolve("db.compliant.example") == "compliant-db.eu-west-1.rds.example"
    before = env.secrets.get(JWT_SECRET)
    env.role("secrets").rotate(JWT_SECRET)
    assert env.secrets.get(JWT_SECRET) != before


def test_a_postgres_only_database_has_no_control_plane(
    staging_platform: StagingPlatform, tmp_path: Path
) -> None:
    (tmp_path / "drillbook.toml").write_text(f'[environments.anypg.database]\nurl_env = "{DATABASE_ENV}"\n')
    env = build_environment("anypg", load_config(tmp_path / "drillbook.toml"), tmp_path)
    assert isinstance(env.database, UrlDatabase)
    assert env.database.running() and env.database.dsn("postgres").endswith("/postgres")
    with pytest.raises(NoControlPlane, match='cannot stop it; use driver = "rds" with instance_id'):
        env.database.stop()


def test_with_endpoint_keeps_the_credentials() -> None:
    assert (
        with_endpoint("postgresql://u:p@old:5432/app?sslmode=require", "new.host", 6432)
        == "postgresql://u:p@new.host:6432/app?sslmode=require"
    )
    assert with_endpoint("postgresql://u@h/app", None, None, "other") == "postgresql://u@h/other"


def test_a_data_fault_runs_on_the_url_by_reference(
    env: StagingEnvironment, staging_platform: StagingPlatform, tmp_path: Path
) -> None:
    """The drill suite's PostgreSQL data faults take the database by its variable's name."""
    import json

    from drillbook.faults.postgres_table_loss import PostgresTableLoss

    dsn = env.database.dsn()
    pg.query(
        dsn,
        "DROP TABLE IF EXISTS projects; CREATE TABLE projects (id serial PRIMARY KEY, name text); "
        "INSERT INTO projects (name) SELECT 'p' || g FROM generate_series(1, 50) g",
    )
    fault = PostgresTableLoss("projects", str(tmp_path / "projects.dump"), mode="drop", dsn_env=DATABASE_ENV)
    assert staging_platform.password not in json.dumps(fault.describe())
    fault.inject()
    assert pg.query(dsn, "SELECT to_regclass('projects') IS NULL")[0][0] is True
    fault.revert()
    assert pg.query(dsn, "SELECT count(*) FROM projects")[0][0] == 50


def test_the_control_planes_are_the_database_instance_and_the_apps_cluster(env: StagingEnvironment) -> None:
    """What the faults that call RDS and Kubernetes directly are given (Scenario 4): no secret."""
    planes = env.control_planes()
    assert planes.rds_instance == "compliant-db"
    assert planes.aws["region"] and planes.aws["endpoint_url"]
    assert planes.kube["namespace"] and (planes.kube["kubeconfig"] or planes.kube["api_url"])
    assert redact(planes.aws) == planes.aws and redact(planes.kube) == planes.kube


def test_a_dr_pool_and_a_dr_target_are_read_from_the_profile(
    staging_platform: StagingPlatform, tmp_path: Path
) -> None:
    """1B's DR pool: [app_dr]/[workers_dr] in the DR cluster's context; [dns] dr_target."""
    path = staging_platform.write(tmp_path)
    text = path.read_text()
    assert "[environments.staging.dns]\n" in text
    text = text.replace("[environments.staging.dns]\n",
                        '[environments.staging.dns]\ndr_target = "api-dr.us-west-2.elb.amazonaws.com"\n')
    text += ('\n[environments.staging.app_dr]\ndeployment = "api-dr"\nselector = "app=api-dr"\n'
             'context = "dr-west-2"\n')
    path.write_text(text)
    built = build_environment("staging", load_config(path), tmp_path / ".drillbook")
    assert isinstance(built, StagingEnvironment)
    assert built.has("app_dr") and not built.has("workers_dr")
    settings = built.settings.roles["app_dr"]
    assert settings.deployment == "api-dr" and settings.kube.context == "dr-west-2"
    assert built.dns.dr_target == "api-dr.us-west-2.elb.amazonaws.com"
    assert built.dns.record == built.settings.roles["dns"].record
