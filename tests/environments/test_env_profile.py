"""``drillbook env profile``: a staging profile whose endpoints are the running twin's, loaded by
the profile loader like any other, and a drill that runs on staging passes with it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from drillbook.harness import journal
from drillbook.harness.config import find_config
from drillbook.harness.environments import capabilities as caps
from drillbook.harness.environments.staging.environment import StagingEnvironment
from drillbook.harness.environments.staging.settings import DeploymentSettings, load_staging
from drillbook.harness.polling import holds_within
from drillbook.harness.suite import reference_path
from tests.local_env import SharedEnv

ROOT = Path(__file__).resolve().parents[2]
DRILLS = reference_path()


def drillbook(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "drillbook", *args], cwd=cwd, env=environ, text=True,
                          capture_output=True, timeout=120, stdin=subprocess.DEVNULL)


def test_without_a_running_twin_it_says_to_start_one(tmp_path: Path) -> None:
    done = drillbook("env", "profile", "--state-dir", str(tmp_path / "state"), cwd=tmp_path)
    assert done.returncode != 0 and "drillbook env up" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_profile_of_the_twin_runs_the_staging_drills(local_env: SharedEnv, tmp_path: Path) -> None:
    """The deployment drill, and backup verification through the RDS role: the latest restorable
    point into a scratch instance, amcheck through SQL, pg_checksums not run (no data directory)."""
    done = drillbook("env", "profile", "--state-dir", str(local_env.state_dir), "--name", "twin",
                     "--grant", caps.SUPERUSER, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    tables = ("app", "workers", "app_dr", "workers_dr", "network", "dns", "secrets", "object_store", "cache",
              "replica")
    for line in ('driver = "rds"', "kubeconfig = ", "config_file = ",
                 *(f"[environments.twin.{t}]" for t in tables)):
        assert line in text, text
    assert "password" not in text.lower().replace("db-password", "")
    (tmp_path / "drillbook.toml").write_text(text)

    config = find_config(tmp_path)
    settings = load_staging(config, "twin")
    assert set(settings.roles) == {"database", "backups", *tables}
    assert settings.profile.capabilities == {caps.SUPERUSER} and settings.profile.poll_interval == 0.2
    assert isinstance(settings.roles["app"], DeploymentSettings) and settings.roles["app"].deployment == "api"
    dr_pool = settings.roles["app_dr"]  # the DR region's cluster: the kubeconfig's other context
    assert isinstance(dr_pool, DeploymentSettings)
    assert (dr_pool.deployment, dr_pool.kube.context) == ("api-dr", "drillbook-local-dr")
    env = StagingEnvironment(settings)
    # RDS says "modifying" while the twin builds the Multi-AZ standby after `env up`.
    assert holds_within(env.database.running, timeout=180.0, interval=1.0)
    assert env.cache.ping() and env.dns.resolve("api.compliant.example")

    ini = tmp_path / "pytest.ini"
    ini.write_text("[pytest]\n")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", str(DRILLS / "test_deployment.py"),
         str(DRILLS / "test_backup_verification.py"), "-c", str(ini), "--rootdir",
         str(tmp_path), "-p", "no:cacheprovider", "-q", "--drill-env", "twin", "--drill-state-dir",
         str(tmp_path / "state"), "-W", "ignore::UserWarning"],
        # No AWS_* variables and no ~/.aws: the profile's config_file (the twin's) is enough.
        cwd=tmp_path, env={**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
                           "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)},
        text=True, capture_output=True, timeout=300, stdin=subprocess.DEVNULL,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    deployment, backup = journal.load_dicts(tmp_path / "drill-results")
    for record in (deployment, backup):
        assert record["status"] == "PASS" and record["environment"]["kind"] == "staging"
        assert record["environment"]["name"] == "twin"
        assert record["environment"]["capabilities"] == [caps.SUPERUSER]
    assert backup["drill"]["scenario"] == "backup-verification"
    not_run = [(n["part"], n["capability"]) for n in backup["not_run"]]
    assert not_run == [("pg_checksums", caps.DATA_DIRECTORY)]
    checks = {v["name"]: v["passed"] for v in backup["verification"]}
    assert checks["amcheck: no corruption in the restored copy"] and checks["no NULL users.email"]
    (scratch,) = backup["changes"]
    assert scratch["name"] == "restored_database" and scratch["reverted_at"]
    assert not env.database.rds.exists(scratch["params"]["instance"])  # type: ignore[attr-defined]


@pytest.mark.parametrize(("args", "says"), [
    (["--grant", "twin.internals"], "unknown capability 'twin.internals'"),  # withdrawn
    (["--grant", "disk"], "unknown capability 'disk'"),
    (["--name", "a b"], "a profile name is letters"),
])
def test_bad_arguments_are_refused_clearly(tmp_path: Path, args: list[str], says: str) -> None:
    done = drillbook("env", "profile", "--state-dir", str(tmp_path / "state"), *args, cwd=tmp_path)
    assert done.returncode != 0 and says in done.stderr and "Traceback" not in done.stderr


def run_on_profile(local_env: SharedEnv, tmp_path: Path, *selection: str) -> list[dict[str, Any]]:
    """The drills ``selection`` (pytest arguments) run with the twin's generated profile; their records."""
    done = drillbook("env", "profile", "--state-dir", str(local_env.state_dir), "--name", "twin",
                     "--grant", caps.SUPERUSER, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (tmp_path / "drillbook.toml").write_text(done.stdout)
    env = StagingEnvironment(load_staging(find_config(tmp_path), "twin"))
    assert holds_within(env.database.running, timeout=180.0, interval=1.0)
    ini = tmp_path / "pytest.ini"
    ini.write_text("[pytest]\n")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", *selection, "-c", str(ini), "--rootdir", str(tmp_path),
         "-p", "no:cacheprovider", "-q", "-rs", "--drill-env", "twin", "--drill-hard-timeout", "150s",
         "-o", "faulthandler_timeout=200", "--drill-results", str(tmp_path / "drill-results"),
         "--drill-state-dir",
         str(tmp_path / "state"), "-W", "ignore::UserWarning"],
        # The caller's PYTHONPATH entries are kept after this tree.
        cwd=tmp_path, text=True, capture_output=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])},
        timeout=300, stdin=subprocess.DEVNULL,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    return journal.load_dicts(tmp_path / "drill-results")


def test_the_profile_of_the_twin_runs_the_corruption_drills(local_env: SharedEnv, tmp_path: Path) -> None:
    """Scenario 2 through the RDS, Kubernetes and Secrets Manager drivers: 2B restores the latest
    snapshot into a new RDS instance and switches the application to it (the secret it reads,
    then a rollout); 2C the same through a point-in-time restore; the heap-page drill is
    skipped naming database.data_directory."""
    records = run_on_profile(local_env, tmp_path, str(DRILLS / "test_database_corruption.py"))
    by_option = {r["drill"]["option"]: r for r in records}
    assert all(r["status"] == "PASS" for r in records), {o: r["reasons"] for o, r in by_option.items()}
    assert all(r["environment"]["kind"] == "staging" for r in records)
    assert not any(o.startswith("2D") for o in by_option)  # skipped: database.data_directory
    assert {"2A minor corruption", "2B table lost (DROP), restore from snapshot",
            "2C table lost, point-in-time recovery"} <= set(by_option), sorted(by_option)
    restore = by_option["2B table lost (DROP), restore from snapshot"]
    pitr = by_option["2C table lost, point-in-time recovery"]
    for record, operation in ((restore, "RestoreDBInstanceFromDBSnapshot"),
                              (pitr, "RestoreDBInstanceToPointInTime")):
        assert record["measured"]["rto_s"] > 0 and record["measured"]["lost_writes"] is not None
        called = {(c["service"], c["operation"]) for c in record["calls"]}
        assert ("rds", operation) in called and ("kubernetes", "patch deployments") in called, called
        assert ("rds", "DeleteDBInstance") in called  # the old-instance switch back discards the copy
