"""Monthly backup verification (DR procedures, "DR Testing Schedule": "Database Backup
Verification (30 minutes)": restore the latest backup to a test environment, verify
data integrity, document the results).

Nothing is broken: at the fault instant the primary is *assumed* lost (a no-op
fault records the moment). The latest restorable point (RDS: the latest automated
snapshot plus its logs, ``UseLatestRestorableTime``; locally the newest snapshot plus
every archived WAL segment) is restored into a scratch instance through the database
role; integrity is checked through SQL (amcheck, row counts, the DR procedures' NULL
checks) and, where the environment has ``database.data_directory``, page by page with
pg_checksums (elsewhere that part is reported as not run); the scratch instance is
deleted at the end. Measured: the
restore time (``rto_s``: until the scratch instance answers K checks in a row) and
the restorable recovery point (``rpo_s``: the acknowledged-write ledger, written
through the service until the fault, reconciled against the scratch copy; it is
how far behind the primary a restore would leave us).
"""

from __future__ import annotations

import pytest

from drillbook import sql_probe
from drillbook.drills import steps
from drillbook.drills.context import Context
from drillbook.drills.platform import Platform
from drillbook.drills.service_ledger import ServiceLedgerStore
from drillbook.drills.twin_access import cluster_of
from drillbook.faults.noop import NoopFault
from drillbook.faults.restored_database import RestoredDatabase
from drillbook.harness import pg
from drillbook.harness.drill import ACTIVATION, ASSESSMENT, DETECTION, RESTORATION, VERIFICATION, Drill
from drillbook.harness.environments.base import Environment
from drillbook.harness.environments.capabilities import DATA_DIRECTORY
from drillbook.harness.phases import expected_phases
from drillbook.harness.reference_app import TEST_USER_EMAIL, TEST_USER_PASSWORD
from drillbook.harness.runbook import Runbook, Step
from drillbook.harness.sql_integrity import amcheck
from drillbook.twin.integrity import checksums

#: How long the restored copy may take to answer once it accepts connections.
RESTORED_ANSWER_S = 30.0
BACKUP_TEST = expected_phases("backup-verification")


@pytest.fixture(autouse=True)
def _the_service_answers(env: Environment, platform: Platform) -> None:
    """Skipped before the drill starts (no record) where there is no API to write the ledger through."""
    if not platform.has_api:
        pytest.skip(f"environment {env.name!r} has no app_url: the ledger writes through the service's API")


def choose_backup(ctx: Context) -> str:
    """DR procedures: ``aws rds describe-db-snapshots`` (newest first)."""
    snapshots = ctx.env.database.snapshots()
    if not snapshots:
        raise RuntimeError("no snapshot exists: backups are not being taken")
    latest = snapshots[0]
    ctx.found["snapshot"] = latest
    age = (ctx.drill.clock.wall() - latest.finished_at).total_seconds()
    ctx.drill.extra["snapshot"] = {
        "id": latest.id,
        "finished_at": latest.finished_at.isoformat(),
        "age_s": round(age, 3),
        "size_bytes": latest.size_bytes,
        "verified": latest.verified,
    }
    return f"{latest.id}: {age:.0f}s old, {latest.size_bytes} bytes, verified={latest.verified}"


def restore(ctx: Context) -> str:
    """The latest restorable point into a scratch instance (``aws rds
    restore-db-instance-to-point-in-time --use-latest-restorable-time``;
    ./scripts/test-database-restore.sh)."""
    name = f"restore-test-{ctx.drill.record_id[-10:].lower().replace('_', '-')}"
    change = ctx.drill.apply(RestoredDatabase(**ctx.where(), instance=name, end_of_archive=True,
                                             timeout=steps.RESTORE_TIMEOUT_S))
    assert isinstance(change, RestoredDatabase) and change.restored is not None
    ctx.found["instance"] = change.restored
    return f"restored into {name}"


def restored_answers(ctx: Context) -> str:
    instance = ctx.found.get("instance")
    probes = [
        sql_probe(
            lambda: instance.dsn("compliant") if instance else "postgresql://nowhere:1/x",
            "SELECT count(*) FROM users",
            name="restored copy answers",
        )
    ]
    # The restore waited for the copy to accept connections: a copy that cannot answer
    # now (a corrupt page, a missing table) will not heal by waiting for the hard timeout.
    rto = ctx.drill.await_recovery(timeout=RESTORED_ANSWER_S, probes=probes)
    ctx.drill.extra["restore_s"] = rto
    return f"the restored copy answers, {rto:.2f}s after the decision to restore"


def integrity_amcheck(ctx: Context) -> str:
    """amcheck through SQL (works on RDS): every B-tree index against its heap, every heap."""
    report = amcheck(ctx.found["instance"].dsn("compliant"))
    ctx.drill.verify("amcheck: no corruption in the restored copy", (report.passed, report.detail[:300]))
    return report.detail


def row_counts(ctx: Context) -> str:
    """Every table restored and non-empty; never more rows than the primary has now."""
    instance = ctx.found["instance"]
    restored = steps.table_counts(ctx, instance.dsn("compliant"))
    primary = steps.table_counts(ctx, ctx.env.database.dsn("compliant"))
    ctx.drill.extra["row_counts"] = {"restored": restored, "primary": primary}
    for table in steps.DATA_TABLES:
        r, p = restored[table], primary[table]
        ok = isinstance(r, int) and isinstance(p, int) and 0 < r <= p
        ctx.drill.verify(f"row count {table}", (ok, f"restored {r}, primary {p}"))
    return f"restored {restored}, primary {primary}"


def null_checks(ctx: Context) -> str:
    """DR procedures: ``SELECT COUNT(*) FROM users WHERE email IS NULL; -- Should be 0`` (and names)."""
    dsn = ctx.found["instance"].dsn("compliant")
    for table, column in (("users", "email"), ("projects", "name")):
        nulls = pg.query(dsn, f"SELECT count(*) FROM {table} WHERE {column} IS NULL", timeout=10.0)[0][0]
        ctx.drill.verify(f"no NULL {table}.{column}", (nulls == 0, f"{nulls} NULL"))
    return "NULL checks done"


def integrity_checksums(ctx: Context) -> str:
    """pg_checksums reads every page of the stopped copy (./scripts/verify-backup-integrity.sh)."""
    instance = ctx.found["instance"]
    instance.stop("fast")
    report = checksums(cluster_of(ctx.env, instance))
    ctx.drill.verify("pg_checksums: every page of the restored copy", (report.passed, report.detail[-300:]))
    return report.detail.splitlines()[-1] if report.detail else ""


def reconcile(ctx: Context) -> str:
    rec = ctx.drill.reconcile()
    ctx.drill.extra["restorable_recovery_point_s"] = rec.rpo_s
    return f"the restored copy is {rec.rpo_s:.2f}s behind the primary ({rec.lost_writes} writes)"


BACKUP_TEST_RUNBOOK = Runbook(
    name="Monthly Database Backup Verification",
    overview="Restore the latest backup (snapshot plus archived WAL) into a scratch instance and verify "
    "it: integrity, counts, NULL checks. Record the restore time and the recovery point.",
    prerequisites=("snapshots and WAL archiving of the primary", "room for a scratch instance"),
    expected_phases=BACKUP_TEST,
    steps=[
        Step(
            "choose the latest backup",
            ASSESSMENT,
            choose_backup,
            commands="aws rds describe-db-snapshots --db-instance-identifier compliant-prod",
        ),
        Step(
            "restore into a scratch instance",
            ACTIVATION,
            restore,
            estimated="15m",
            role="Database Admin",
            commands="./scripts/test-database-restore.sh",
        ),
        Step("restored copy answers", RESTORATION, restored_answers),
        Step("amcheck", VERIFICATION, integrity_amcheck, commands="./scripts/verify-backup-integrity.sh"),
        Step("row counts", VERIFICATION, row_counts),
        Step("NULL checks", VERIFICATION, null_checks),
        Step("recovery point", VERIFICATION, reconcile),
        Step("pg_checksums", VERIFICATION, integrity_checksums, requires=DATA_DIRECTORY),
    ],
    verification="amcheck and pg_checksums clean; every table restored; no NULL emails or names.",
    rollback="Discard the scratch instance.",
)


@pytest.mark.drill(
    scenario="backup-verification",
    option="monthly restore test",
    tier="monthly",
    rto="30m",
    rpo="5m",
    severity=3,
    component="database",
)
def test_backup_verification(drill: Drill, env: Environment, platform: Platform) -> None:
    ctx = Context(drill, env, platform)
    drill.steady_state(platform.health_probe(), platform.database_probe())

    def what_the_restore_holds() -> str:
        instance = ctx.found.get("instance")
        return instance.dsn("compliant") if instance is not None else platform.app_dsn()

    ledger = drill.ledger(
        ServiceLedgerStore(
            platform.url, what_the_restore_holds, email=TEST_USER_EMAIL, password=TEST_USER_PASSWORD
        )
    )
    ctx.found["ledgers"] = [ledger]
    steps.wait_for_acks(ctx, 20)
    drill.inject(NoopFault("restore test: the primary is assumed lost now (nothing is changed)"))
    ledger.stop()  # the writes that count are those before the instant of the assumed loss
    with drill.phase(DETECTION, expected=BACKUP_TEST[DETECTION]):
        drill.note("restore test declared", "the primary is healthy; a restore is tested")
    BACKUP_TEST_RUNBOOK.run(drill, ctx)
