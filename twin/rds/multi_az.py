"""The primary's Multi-AZ standby, in the other zone, and the failover to it
(RebootDBInstance with ForceFailover).

The standby streams from the primary through its own slot, asynchronously, so a lost
standby never holds the primary's commits. A failover is orderly, as a reboot with
failover is: the primary shuts down cleanly, which sends every WAL record to its standbys,
and the standby takes over only once it has replayed the primary's shutdown checkpoint,
so no acknowledged write is lost.

The endpoint keeps its address and port, as RDS flips its DNS name: with both servers
stopped, the two data directories swap places, so the standby's data opens at the
primary's path on the primary's port, and the old primary's data comes back, in the other
zone, as the new standby. The state file's records keep their names, ports and paths, so
whoever holds them (a drill, the scheduler, ``env down``) stays right. The former standby
opens after crash recovery, on the same timeline, as RDS's standby does after a failover:
the WAL archive, the DR replica and point-in-time recovery go on as before.
"""

from __future__ import annotations

import fcntl
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from drillbook.harness.errors import DrillbookError
from drillbook.harness.polling import WaitTimeout, holds_within, wait_until
from drillbook.twin.postgres import PostgresCluster, free_port, parse_lsn
from drillbook.twin.primary import APP_DATABASE, primary_settings
from drillbook.twin.rds.inventory import other_zone, zones
from drillbook.twin.rds.plane import PRIMARY, REPLICA, STANDBY, DataPlane
from drillbook.twin.standby import SLOT as REPLICA_SLOT
from drillbook.twin.standby import build_standby, replication_lag, standby_settings
from drillbook.twin.state import LABEL_VARIABLE, ClusterRecord, EnvRecord

SLOT = "multi_az"
ROLE = "multi-az-standby"
LOCK = "multi-az.lock"


class FailoverError(DrillbookError):
    pass


@contextmanager
def exclusive(plane: DataPlane, *, wait: bool = True) -> Iterator[bool]:
    """One change to the primary and its standby at a time, in any process (a failover, the
    standby's build or restart): a failover run directly must not find the standby started
    again half-way. True if held; False if another holds it and ``wait`` is False."""
    with open(plane.layout.root / LOCK, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build(plane: DataPlane, record: EnvRecord, *, timeout: float = 600.0) -> bool:
    """Clone the running primary into the standby server and start it streaming; it is
    recorded once it runs (``env status`` never shows it half-built). False if a change is
    under way, or if the environment began to go down meanwhile (the standby is stopped)."""
    with exclusive(plane, wait=False) as held:
        if not held or STANDBY in plane.record().clusters:
            return False
        return _build(plane, record, timeout=timeout)


def restart(plane: DataPlane, record: EnvRecord, *, timeout: float = 60.0) -> None:
    """Start the standby again if it stopped (RDS replaces a failed standby)."""
    with exclusive(plane, wait=False) as held:
        standby = plane.server(record, STANDBY)
        if held and not standby.running():
            standby.start(timeout=timeout)
            standby.wait_ready(timeout=timeout)


def _build(plane: DataPlane, record: EnvRecord, *, timeout: float) -> bool:
    primary = plane.server(record, PRIMARY)
    standby = PostgresCluster(
        plane.layout.cluster(STANDBY),
        port=free_port(),
        name=STANDBY,
        dbname=APP_DATABASE,
        environ={LABEL_VARIABLE: record.label},
        log=plane.layout.log(f"postgres-{STANDBY}"),
    )
    if standby.datadir.exists():  # a build cut short by a crash
        standby.destroy()
    build_standby(primary, standby, plane.archive, slot=SLOT, timeout=timeout)
    _until_streaming(primary, standby, timeout=30.0)
    kept: list[bool] = []

    def add(env: EnvRecord) -> None:
        if env.phase == "up":
            env.clusters[STANDBY] = ClusterRecord(STANDBY, str(standby.datadir), standby.port, ROLE)
            kept.append(True)

    plane.state.update(add)
    if not kept:
        standby.stop("immediate")
    return bool(kept)


def _until_streaming(primary: PostgresCluster, standby: PostgresCluster, *, timeout: float) -> None:
    """A moment for the new standby to connect, so that it is listed streaming, not disconnected."""
    holds_within(lambda: replication_lag(primary, standby, slot=SLOT).state == "streaming", timeout=timeout,
                 interval=0.05)


def in_sync(plane: DataPlane, record: EnvRecord) -> str | None:
    """None when the standby streams from the primary; else what it is doing."""
    if STANDBY not in record.clusters:
        return "absent"
    lag = replication_lag(plane.server(record, PRIMARY), plane.server(record, STANDBY), slot=SLOT)
    return None if lag.state == "streaming" else lag.state


def failover(plane: DataPlane, record: EnvRecord, *, timeout: float = 120.0) -> None:
    """Promote the standby on the primary's path and port; the old primary becomes the standby."""
    with exclusive(plane):
        _failover(plane, record, timeout=timeout)


def _failover(plane: DataPlane, record: EnvRecord, *, timeout: float) -> None:
    primary, standby = plane.server(record, PRIMARY), plane.server(record, STANDBY)
    primary.stop("fast", timeout=timeout)
    try:
        checkpoint = shutdown_checkpoint(primary)
        wait_replayed(standby, checkpoint, timeout=timeout)
    except DrillbookError:
        primary.start(timeout=timeout)  # nothing changed: the primary goes on
        raise
    standby.stop("fast", timeout=timeout)
    swap(primary.datadir, standby.datadir)
    become_primary(primary, plane, record, timeout=timeout)
    now = zones(plane, record)[0]
    plane.update_facts(lambda facts: facts.__setitem__("primary_zone", other_zone(now)))
    become_standby(standby, primary, plane, timeout=timeout)


def shutdown_checkpoint(server: PostgresCluster) -> int:
    """The WAL position of a cleanly stopped server's shutdown checkpoint."""
    # pg_controldata's labels are translated: read them in English.
    c_locale = replace(server, environ={**server.environ, "LC_ALL": "C"})
    out = c_locale.run_tool([str(server.tool("pg_controldata")), str(server.datadir)], timeout=30).stdout
    state = re.search(r"^Database cluster state:\s+(.+)$", out, re.MULTILINE)
    location = re.search(r"^Latest checkpoint location:\s+([0-9A-F]+/[0-9A-F]+)$", out, re.MULTILINE)
    if state is None or location is None or state.group(1).strip() != "shut down":
        raise FailoverError(
            f"{server.name} did not shut down cleanly "
            f"({state.group(1).strip() if state else 'state unknown'}); no failover"
        )
    return parse_lsn(location.group(1))


def wait_replayed(standby: PostgresCluster, lsn: int, *, timeout: float) -> None:
    def replayed() -> tuple[bool, str]:
        """(past ``lsn``, what the standby replayed)."""
        try:
            seen = str(standby.sql("SELECT pg_last_wal_replay_lsn()::text", timeout=2.0)[0][0])
            return parse_lsn(seen) > lsn, seen
        except Exception as exc:  # a standby that does not answer: keep asking until the deadline
            return False, f"no answer ({exc})"

    try:
        wait_until(replayed, what="the Multi-AZ standby to replay the primary's last WAL", timeout=timeout,
                   interval=0.05, until=lambda answer: answer[0], describe=lambda answer: answer[1])
    except WaitTimeout as exc:
        raise FailoverError(
            f"the Multi-AZ standby had not replayed the primary's last WAL after {timeout:.0f}s "
            f"(replayed {exc.last_state}); the primary was started again"
        ) from None


def swap(one: Path, other: Path) -> None:
    """Exchange two data directories (both servers stopped)."""
    parked = one.with_name(one.name + ".failover")
    one.rename(parked)
    other.rename(one)
    parked.rename(other)


def become_primary(server: PostgresCluster, plane: DataPlane, record: EnvRecord, *, timeout: float) -> None:
    (server.datadir / "standby.signal").unlink(missing_ok=True)
    server.configure(primary_settings(plane.archive, archive_timeout_s=plane.archive_timeout_s(record)))
    server.start(timeout=timeout)
    server.wait_writable(timeout=timeout)
    replica = record.clusters.get(REPLICA)
    # Slots are not copied to a standby: the new primary makes them before its standbys reconnect.
    slots = [SLOT] + ([REPLICA_SLOT] if replica is not None and replica.role == "standby" else [])
    for slot in slots:
        server.sql(
            "SELECT pg_create_physical_replication_slot(%s, true) WHERE NOT EXISTS "
            "(SELECT 1 FROM pg_replication_slots WHERE slot_name = %s)",
            (slot, slot),
            timeout=10,
        )


def become_standby(
    server: PostgresCluster, primary: PostgresCluster, plane: DataPlane, *, timeout: float
) -> None:
    slots = server.datadir / "pg_replslot"
    for stale in slots.iterdir() if slots.is_dir() else ():
        shutil.rmtree(stale, ignore_errors=True)  # its old slots would hold WAL back for nobody
    server.configure(standby_settings(primary, plane.archive, slot=SLOT))
    signal_file = server.datadir / "standby.signal"
    signal_file.touch()
    server.user.own(signal_file)
    server.start(timeout=timeout)
    server.wait_ready(timeout=timeout)
