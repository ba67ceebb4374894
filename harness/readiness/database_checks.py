"""Checks of the database's recovery point: the newest snapshot, the WAL archive, the replica.

They use the roles only (``snapshots()``, ``dsn()``, ``lag_s()``), so they run
against any environment whose database is PostgreSQL; a role the environment
does not provide makes its item a manual one, a role that does not answer
makes it fail.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from drillbook.harness import pg
from drillbook.harness.durations import format_duration
from drillbook.harness.environments.base import Environment
from drillbook.harness.readiness.model import Item, failed, manual, passed

BACKUP_LINE = "Backup systems tested monthly"
REPLICA_LINE = "Multi-AZ/region deployment configured"

ARCHIVE_QUERY = (
    "SELECT current_setting('archive_mode'), a.last_archived_wal, a.last_archived_time, a.failed_count, "
    "a.last_failed_wal, a.last_failed_time, pg_walfile_name(pg_current_wal_lsn()), now() "
    "FROM pg_stat_archiver a"
)


def snapshot_fresh(env: Environment, *, now: datetime, max_age_s: float, limit_source: str) -> Item:
    title = f"latest snapshot within {format_duration(max_age_s)} ({limit_source})"
    if not env.has("database"):
        return _no_role(env, "database", "snapshot", title, BACKUP_LINE)
    try:
        snapshots = env.database.snapshots()
    except Exception as exc:
        return failed("snapshot", title, BACKUP_LINE, f"cannot list snapshots: {type(exc).__name__}: {exc}")
    usable = [s for s in snapshots if s.verified is not False]
    if not usable:
        broken = f" ({len(snapshots)} failed verification)" if snapshots else ""
        return failed("snapshot", title, BACKUP_LINE, f"no usable snapshot{broken}: take one")
    latest = usable[0]  # the role lists newest first
    age = (now - latest.finished_at).total_seconds()
    detail = f"{latest.id} finished {format_duration(age)} ago, " + (
        "verified" if latest.verified else "not verified"
    )
    facts = {"snapshot": latest.id, "finished_at": latest.finished_at.isoformat(), "age_s": round(age, 1)}
    if age > max_age_s:
        return failed(
            "snapshot",
            title,
            BACKUP_LINE,
            f"{detail}: older than {format_duration(max_age_s)}; take a snapshot or fix the schedule",
            **facts,
        )
    return passed("snapshot", title, BACKUP_LINE, detail, **facts)


def wal_archived(env: Environment, *, rpo_s: float, timeout: float = 5.0) -> Item:
    """Nothing written longer ago than the RPO is missing from the WAL archive.

    Writes not yet archived sit in segments after the last archived one; they
    were written after that segment was closed, so ``now - last_archived_time``
    bounds (up to the archiving delay) how old the oldest of them can be.
    """
    title = f"archived WAL within the database RPO ({format_duration(rpo_s)})"
    if not env.has("database"):
        return _no_role(env, "database", "wal_archive", title, BACKUP_LINE)
    try:
        row = pg.query(env.database.dsn(), ARCHIVE_QUERY, timeout=timeout)[0]
    except Exception as exc:
        return failed(
            "wal_archive", title, BACKUP_LINE, f"cannot read pg_stat_archiver: {type(exc).__name__}: {exc}"
        )
    mode, last_wal, last_time, failures, failed_wal, failed_time, current_wal, db_now = row
    facts: dict[str, Any] = {
        "last_archived_wal": last_wal,
        "current_wal": current_wal,
        "failed_count": int(failures),
    }
    if mode not in ("on", "always"):
        return failed(
            "wal_archive", title, BACKUP_LINE, f"archive_mode is {mode}: WAL is not archived", **facts
        )
    if last_wal is None or last_time is None:
        return failed("wal_archive", title, BACKUP_LINE, "no WAL segment was ever archived", **facts)
    facts["last_archived_at"] = last_time.isoformat()
    if failed_time is not None and failed_time > last_time:
        return failed(
            "wal_archive",
            title,
            BACKUP_LINE,
            f"archiving fails since {failed_time.isoformat()} (segment {failed_wal}); check "
            "archive_command and the archive's free space",
            **facts,
        )
    exposure = (db_now - last_time).total_seconds()
    if current_wal <= last_wal:
        return passed(
            "wal_archive",
            title,
            BACKUP_LINE,
            f"every WAL segment written is archived (last {last_wal}, {format_duration(exposure)} ago)",
            **facts,
        )
    facts["exposure_s"] = round(exposure, 1)
    detail = f"WAL since {last_wal} not archived yet; last archive {format_duration(exposure)} ago"
    if exposure > rpo_s:
        return failed(
            "wal_archive",
            title,
            BACKUP_LINE,
            f"{detail}: writes older than the RPO could be lost; check archive_timeout and the archiver",
            **facts,
        )
    return passed("wal_archive", title, BACKUP_LINE, detail, **facts)


def replica_lag(env: Environment, *, rpo_s: float) -> Item:
    title = f"replica lag within the database RPO ({format_duration(rpo_s)})"
    if not env.has("replica"):
        return _no_role(env, "replica", "replica_lag", title, REPLICA_LINE)
    try:
        lag = env.replica.lag_s()
    except Exception as exc:
        return failed("replica_lag", title, REPLICA_LINE, f"cannot read the lag: {type(exc).__name__}: {exc}")
    if lag is None:
        return failed(
            "replica_lag",
            title,
            REPLICA_LINE,
            "the replica's lag is unknown: it is down, promoted or not replicating",
        )
    detail = f"{env.replica.name} is {format_duration(lag)} behind"  # type: ignore[attr-defined]
    if lag > rpo_s:
        return failed("replica_lag", title, REPLICA_LINE, f"{detail}: more than the RPO", lag_s=lag)
    return passed("replica_lag", title, REPLICA_LINE, detail, lag_s=lag)


def _no_role(env: Environment, role: str, key: str, title: str, line: str) -> Item:
    up = getattr(env, "is_up", None)
    if callable(up) and not up():
        return failed(key, title, line, f"the {env.name} environment is not up: run `drillbook env up`")
    return manual(key, title, line, f"the {env.name} environment provides no {role} role: check it by hand")
