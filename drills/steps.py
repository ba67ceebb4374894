"""Runbook step actions the scenarios share. Each takes the step :class:`Context`."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from drillbook.drills.context import Context
from drillbook.faults.database_switchover import DatabaseSwitchover
from drillbook.faults.deployment_env import DeploymentEnv
from drillbook.faults.deployment_scale import DeploymentScale
from drillbook.faults.restored_database import RestoredDatabase
from drillbook.harness import pg

DATA_TABLES = ("users", "projects", "audit_log")
#: A restore or PITR of the local platform takes seconds (1 GB: ~4 s): one that has not
#: finished in two minutes is stuck, and the drill fails then instead of waiting 30 minutes.
RESTORE_TIMEOUT_S = 120.0


def await_detection(ctx: Context) -> str:
    detect = ctx.drill.await_detection(timeout="60s")
    return f"detected {detect:.2f}s after the fault"


def stop_writes_read_only(ctx: Context) -> str:
    """DR procedures: ``kubectl set env deployment/backend READ_ONLY_MODE=true``, every replica at
    once (Recreate): "prevent further corruption" does not wait for a rolling update."""
    ctx.found["read_only"] = ctx.drill.apply(
        DeploymentEnv(**ctx.where(), deployment="app", values={"READ_ONLY_MODE": "true"}, strategy="Recreate")
    )
    return "API in read-only mode"


def stop_writes_scale_to_zero(ctx: Context) -> str:
    """DR procedures: ``kubectl scale deployment/backend --replicas=0`` (and the workers)."""
    for deployment in ("app", "workers"):
        ctx.drill.apply(DeploymentScale(**ctx.where(), deployment=deployment, replicas=0))
    return "API and workers scaled to zero"


def table_counts(ctx: Context, dsn: str | None = None) -> dict[str, int | str]:
    """The DR procedures' "Check table integrity" / "Check for missing data" counts."""
    counts: dict[str, int | str] = {}
    target = dsn or ctx.platform.app_dsn()
    for table in DATA_TABLES:
        try:
            counts[table] = int(pg.query(target, f"SELECT count(*) FROM {table}", timeout=10.0)[0][0])
        except Exception as exc:
            counts[table] = f"error: {type(exc).__name__}"
    return counts


def assess_damage(ctx: Context) -> str:
    ctx.found["counts_after_fault"] = counts = table_counts(ctx)
    dead = pg.query(
        ctx.platform.app_dsn(),
        "SELECT relname, n_dead_tup FROM pg_stat_user_tables WHERE n_dead_tup > 1000",
        timeout=10.0,
    )
    ctx.found["dead_tuples"] = {str(r[0]): int(r[1]) for r in dead}
    return f"counts {counts}; tables with > 1000 dead tuples: {ctx.found['dead_tuples'] or 'none'}"


def restore_latest_snapshot(ctx: Context) -> str:
    """DR procedures, Option B: ``aws rds restore-db-instance-from-db-snapshot`` (latest)."""
    name = f"restored-{ctx.drill.record_id[-10:].lower().replace('_', '-')}"
    change = ctx.drill.apply(
        RestoredDatabase(**ctx.where(), instance=name, snapshot="latest", timeout=RESTORE_TIMEOUT_S)
    )
    assert isinstance(change, RestoredDatabase) and change.restored is not None
    ctx.found["instance"] = change.restored
    ctx.found["snapshot"] = change.snapshot
    return f"snapshot {change.snapshot} restored into {name}"


def restore_to_time(ctx: Context, target_wall: Any) -> str:
    name = f"pitr-{ctx.drill.record_id[-10:].lower().replace('_', '-')}"
    change = ctx.drill.apply(
        RestoredDatabase(**ctx.where(), instance=name, target_time=target_wall.isoformat(),
                         timeout=RESTORE_TIMEOUT_S)
    )
    assert isinstance(change, RestoredDatabase) and change.restored is not None
    ctx.found["instance"] = change.restored
    return f"point-in-time recovery to {target_wall.isoformat()} into {name}"


def verify_restored(ctx: Context) -> str:
    """DR procedures: ``psql $NEW_DB -c "SELECT version();"`` and the user count."""
    instance = ctx.found.get("instance")
    if instance is None:
        raise RuntimeError("no restored instance to verify (the restore did not happen)")
    dsn = instance.dsn("compliant")
    version = pg.query(dsn, "SELECT version()", timeout=10.0)[0][0]
    ctx.found["counts_restored"] = counts = table_counts(ctx, dsn)
    return f"{str(version).split(',')[0]}; counts {counts}"


def switchover(ctx: Context) -> str:
    """DR procedures, "Switchover to Restored Database": stop, repoint, restart, verify."""
    instance = ctx.found.get("instance")
    if instance is None:
        raise RuntimeError("no restored instance to switch over to")
    # The new release also leaves read-only mode: the data is back. Switching back (the revert)
    # restores the pre-incident release, read-only mode as it was before the drill set it, not
    # the read-only release in between: one rollout when the drill ends instead of two (the
    # read-only change's own revert then finds nothing to do).
    endpoint = urlsplit(instance.dsn())
    change = DatabaseSwitchover(
        **ctx.where(), instance=instance.name, host=endpoint.hostname or "127.0.0.1",
        port=endpoint.port or 5432, also_set={"READ_ONLY_MODE": None},
    )
    read_only = ctx.found.get("read_only")
    if isinstance(read_only, DeploymentEnv) and "app" in change.previous:
        change.previous["app"].update(read_only.previous)
    ctx.drill.apply(change)
    return f"DATABASE_URL repointed at {instance.name}, read-only mode off; API and workers restarted"


def await_recovery(ctx: Context) -> str:
    rto = ctx.drill.await_recovery()
    return f"steady state holds again, {rto:.2f}s after the fault"


def smoke_checks(ctx: Context) -> str:
    """DR procedures' "Verify Recovery": health, authentication, the database."""
    results = []
    for name, probe in ctx.platform.smoke_checks():
        passed = ctx.drill.verify(f"smoke: {name}", probe)
        results.append(f"{name} {'ok' if passed else 'FAILED'}")
    return ", ".join(results)


def no_null_names(ctx: Context) -> str:
    """DR procedures: ``SELECT COUNT(*) FROM users WHERE email IS NULL; -- Should be 0`` and projects."""
    dsn = ctx.platform.app_dsn()
    for table, column in (("users", "email"), ("projects", "name")):
        nulls = pg.query(dsn, f"SELECT count(*) FROM {table} WHERE {column} IS NULL", timeout=10.0)[0][0]
        ctx.drill.verify(f"no NULL {table}.{column}", (nulls == 0, f"{nulls} NULL"))
    return "NULL checks done"


def reconcile_data(ctx: Context) -> str:
    """DR procedures, "Data Reconciliation": compare row counts of the old and the new database
    and list the rows created after the snapshot (they need manual recovery)."""
    old_dsn = ctx.env.database.dsn("compliant")
    new_dsn = ctx.platform.app_dsn()
    old, new = table_counts(ctx, old_dsn), table_counts(ctx, new_dsn)
    missing: list[Any] = []
    try:
        newest = pg.query(new_dsn, "SELECT max(created_at) FROM users", timeout=10.0)[0][0]
        if newest is not None:
            missing = pg.query(
                old_dsn,
                "SELECT id, email, created_at FROM users WHERE created_at > %s ORDER BY id",
                (newest,),
                timeout=10.0,
            )
    except Exception as exc:  # the old database may be the one that is broken
        missing = [f"cannot read the old database: {type(exc).__name__}"]
    ctx.found["reconciliation"] = {"old_counts": old, "new_counts": new, "users_created_after": len(missing)}
    ctx.drill.extra["data_reconciliation"] = ctx.found["reconciliation"]
    return f"old {old} / new {new}; {len(missing)} users created after the restore point"


#: Acknowledged writes that show the ledger works before a fault (0.3 s of writes
#: at the default 100 ms interval).
BASELINE_ACKS = 3


def wait_for_acks(ctx: Context, count: int = BASELINE_ACKS, timeout: float = 20.0) -> None:
    for ledger in ctx.found.get("ledgers", []):
        if not ledger.wait_for_acks(count, timeout):
            raise RuntimeError(f"the ledger got fewer than {count} acknowledgements in {timeout:.0f}s")


def sleep(seconds: float) -> None:
    time.sleep(seconds)


def wall_minus(ctx: Context, seconds: float) -> Any:
    assert ctx.drill.t_fault is not None
    return ctx.drill.clock.wall(ctx.drill.t_fault) - timedelta(seconds=seconds)
