"""``drillbook readiness`` on the real local environment right after a monthly tier:
every automated item passes; a snapshot older than the database RPO fails that item."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drillbook.harness import journal
from drillbook.harness.records import Status
from drillbook.twin.environment import LocalEnvironment
from drillbook.twin.settings import LocalSettings

MONTHLY = """
import os
import shutil
import secrets
from pathlib import Path

import pytest

from drillbook import sql_probe
from drillbook.harness import pg
from drillbook.twin.environment import LocalEnvironment
from drillbook.harness.probes import Probe


@pytest.fixture(scope="module")
def local():
    return LocalEnvironment(Path(os.environ["READINESS_STATE"]) / "local")


@pytest.mark.drill(scenario="database-backup-verification", tier="monthly", component="database",
                   rto="10m", rpo="5m")
def test_backup_verification(drill, local):
    db = local.database
    drill.steady_state(sql_probe(db.dsn(), name="primary"))
    snapshot = db.snapshot()
    restored = db.restore(snapshot, "verify-" + secrets.token_hex(3))
    try:
        users = pg.query(restored.dsn("compliant"), "SELECT count(*) FROM users")[0][0]
        drill.verify("restored snapshot holds the users", users > 0)
    finally:
        db.discard(restored)


@pytest.mark.drill(scenario="session-cache-check", tier="monthly", component="cache", rto="1m")
def test_cache(drill, local):
    drill.steady_state(Probe("redis ping", lambda: local.cache.ping(timeout=1.0)))
    drill.verify("cache answers", local.cache.ping(timeout=1.0))


@pytest.mark.drill(scenario="region-failover", tier="quarterly", component="database")
def test_not_in_the_monthly_tier(drill):
    raise AssertionError("the monthly tier must not run this")
"""


@pytest.fixture(scope="module")
def project() -> Iterator[Path]:
    # Not under pytest's basetemp: every pytest session starting on the machine resets
    # /tmp/pytest-of-<user> to 0700, which would lock the server user out of its data.
    root = Path(tempfile.mkdtemp(prefix="drillbook-readiness-"))
    (root / "suite").mkdir()
    (root / "suite" / "test_monthly.py").write_text(MONTHLY)
    (root / "drillbook.toml").write_text('state_dir = "state"\n')
    environment = LocalEnvironment(root / "state" / "local", settings=LocalSettings(snapshot_interval_s=3600))
    environment.up()
    try:
        yield root
    finally:
        environment.down()
        shutil.rmtree(root, ignore_errors=True)


def drillbook(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "READINESS_STATE": str(root / "state")}
    return subprocess.run(
        [sys.executable, "-m", "drillbook", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


@pytest.fixture(scope="module")
def monthly(project: Path) -> Path:
    done = drillbook(
        project, "run", "--schedule", "monthly", "--suite", "suite", "--drill-results", "results"
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    records = journal.load(project / "results")
    assert sorted(r.drill.scenario for r in records) == [
        "database-backup-verification",
        "session-cache-check",
    ]
    assert all(r.status is Status.PASS for r in records)
    return project / "results"


def readiness(root: Path, *extra: str) -> tuple[int, dict[str, dict[str, str]]]:
    done = drillbook(
        root,
        "readiness",
        "--suite",
        "suite",
        "--results",
        "results",
        "--schedule",
        "monthly",
        "--format",
        "json",
        *extra,
    )
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, {i["key"]: i for i in json.loads(done.stdout)["items"]}


def automated(items: dict[str, dict[str, str]]) -> dict[str, str]:
    return {k: i["state"] for k, i in items.items() if i["automated"]}


def test_right_after_the_monthly_tier_every_automated_item_passes(project: Path, monthly: Path) -> None:
    code, items = readiness(project)
    assert automated(items) == {
        k: "PASS"
        for k in (
            "backup_drill",
            "snapshot",
            "wal_archive",
            "replica_lag",
            "freshness",
            "probes",
            "templates",
        )
    }, items
    assert code == 0
    assert "database-backup-verification" in items["backup_drill"]["detail"]
    assert "primary" in items["probes"]["detail"] and "redis ping" in items["probes"]["detail"]
    table = drillbook(
        project, "readiness", "--suite", "suite", "--results", "results", "--schedule", "monthly"
    )
    assert table.returncode == 0 and "READY (7/7 automated items pass, 5 to confirm by hand)" in table.stdout


def test_a_snapshot_older_than_the_database_rpo_fails_that_item(project: Path, monthly: Path) -> None:
    rpo = 30.0
    (project / "drillbook.toml").write_text(
        f'state_dir = "state"\n\n[targets.database]\nrpo = "{rpo:.0f}s"\n'
    )
    local = LocalEnvironment(project / "state" / "local")
    latest = local.database.snapshots()[0]
    age = (datetime.now(UTC) - latest.finished_at).total_seconds()
    time.sleep(max(0.0, rpo + 1 - age))  # the newest snapshot really is older than the RPO now
    local.local_database.archive_now()  # and every write is archived: only the snapshot is late
    try:
        code, items = readiness(project)
        assert code == 1
        assert items["snapshot"]["state"] == "FAIL", items["snapshot"]
        # Read through the RDS API, as on AWS: snapshot identifiers are lower case there.
        detail = items["snapshot"]["detail"]
        assert latest.id.lower() in detail.lower() and "older than 30.00s" in detail
        assert "the database RPO" in items["snapshot"]["title"]
        assert {k for k, s in automated(items).items() if s == "FAIL"} == {"snapshot"}, items

        fresh = local.database.snapshot()
        code, items = readiness(project)
        assert code == 0 and fresh.id.lower() in items["snapshot"]["detail"].lower()
    finally:
        (project / "drillbook.toml").write_text('state_dir = "state"\n')
