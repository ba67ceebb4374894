"""What ``drillbook env status`` shows: each component with pid, port, health and detail."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from drillbook.harness.environments.lifecycle import ComponentStatus
from drillbook.twin import moto_server, processes
from drillbook.twin.postgres import PostgresCluster
from drillbook.twin.rds import multi_az
from drillbook.twin.snapshots import SnapshotCatalogue
from drillbook.twin.standby import SLOT, replication_lag
from drillbook.twin.state import ClusterRecord, EnvRecord, ProcessRecord

if TYPE_CHECKING:
    from drillbook.twin.environment import LocalEnvironment

HEALTHY, UNHEALTHY, DOWN = "healthy", "unhealthy", "down"
#: Standby roles and the slot each streams through: the DR replica, the primary's Multi-AZ standby.
STANDBY_SLOTS = {"standby": SLOT, multi_az.ROLE: multi_az.SLOT}


def collect(env: LocalEnvironment, record: EnvRecord) -> list[ComponentStatus]:
    rows = [_cluster(env, record, c) for c in record.clusters.values()]
    rows += [_process(env, p) for p in record.processes.values()]
    return rows + env.app_status()


def _cluster(env: LocalEnvironment, record: EnvRecord, entry: ClusterRecord) -> ComponentStatus:
    cluster = PostgresCluster(Path(entry.datadir), port=entry.port, name=entry.name)
    pid = cluster.pid()
    if pid is None:
        return ComponentStatus(entry.name, f"postgres {entry.role}", None, entry.port, DOWN)
    health = HEALTHY if cluster.ready(timeout=2.0) else UNHEALTHY
    detail = ""
    if entry.role == "primary":
        detail = _primary_detail(env, cluster)
    elif entry.role in STANDBY_SLOTS:
        primary = next((c for c in record.clusters.values() if c.role == "primary"), None)
        if primary is not None:
            lag = replication_lag(PostgresCluster(Path(primary.datadir), port=primary.port), cluster,
                                  slot=STANDBY_SLOTS[entry.role])
            seconds = "?" if lag.seconds is None else f"{lag.seconds:.2f}s"
            size = "?" if lag.bytes is None else f"{lag.bytes}B"
            detail = f"lag {seconds} / {size} ({lag.state})"
            if lag.state in ("down", "disconnected"):
                health = UNHEALTHY
    else:
        detail = entry.role
    return ComponentStatus(entry.name, f"postgres {entry.role}", pid, entry.port, health, detail)


def _primary_detail(env: LocalEnvironment, cluster: PostgresCluster) -> str:
    latest = SnapshotCatalogue(env.layout.snapshots).latest()
    if latest is None:
        snap = "no snapshot"
    else:
        age = (datetime.now(UTC) - latest.finished_at).total_seconds()
        snap = f"last snapshot {latest.id} ({age:.0f}s ago, verified={latest.verified})"
    try:
        row = cluster.sql("SELECT last_archived_wal, failed_count FROM pg_stat_archiver", timeout=2.0)[0]
        archived = f"archived up to {row[0]}" + (f", {row[1]} failures" if row[1] else "")
    except Exception:
        archived = "archiver unknown"
    return f"{snap}; {archived}"


def _process(env: LocalEnvironment, proc: ProcessRecord) -> ComponentStatus:
    pid, _ticks = processes.current(proc)
    if not processes.alive(proc):
        return ComponentStatus(proc.name, proc.name, None, proc.port, DOWN)
    health, detail = env.component_health(proc)
    return ComponentStatus(proc.name, proc.name, pid, proc.port, health, detail)


def default_health(proc: ProcessRecord) -> tuple[str, str]:
    """Health of the processes this module knows; alive and listening for the others."""
    if proc.name == "moto" and proc.port:
        return (HEALTHY, moto_server.url(proc.port)) if moto_server.ready(proc.port) else (UNHEALTHY, "")
    if proc.port and not processes.listening([proc.port]):
        return UNHEALTHY, f"not listening on {proc.port}"
    return HEALTHY, ""
