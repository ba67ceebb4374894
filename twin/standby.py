"""The DR replica: a streaming standby of the primary, in the "DR region".

Built by ``pg_basebackup`` through a replication slot (at ``env up``, by a copy of the
primary's files before its first start), so the primary keeps the WAL it has not received;
it also reads the archive when it falls behind. Its ``archive_mode`` is off, so that once
promoted it never writes a second timeline into the primary's archive. Lag is read from the
primary's ``pg_stat_replication`` when the primary answers, else from the standby alone.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from typing import Any

from drillbook.harness.errors import DrillbookError
from drillbook.twin import pg_template
from drillbook.twin.archive import WalArchive
from drillbook.twin.postgres import ClusterError, PostgresCluster

SLOT = "dr_replica"


class StandbyError(DrillbookError):
    pass


@dataclass(frozen=True)
class Lag:
    """Replication lag: 0 when the standby has replayed everything the primary wrote;
    otherwise ``bytes`` of WAL not replayed and ``seconds``, an upper bound: the age of
    the newest transaction replayed. ``None`` fields are unknown (a server did not answer)."""

    seconds: float | None
    bytes: int | None
    state: str  # streaming, catchup, startup, disconnected, down, promoted
    source: str  # "primary" or "standby": where the figures were read


def standby_settings(primary: PostgresCluster, archive: WalArchive, *, slot: str = SLOT) -> dict[str, Any]:
    conninfo = f"host={primary.host} port={primary.port} user=postgres application_name={slot}"
    return {
        "hot_standby": "on",
        "hot_standby_feedback": "on",
        "archive_mode": "off",
        "primary_conninfo": f"'{conninfo}'",
        "primary_slot_name": f"'{slot}'",
        "restore_command": "'" + archive.restore_command().replace("'", "''") + "'",
        "recovery_target_timeline": "'latest'",
        # Reported often, so the lag the primary shows is fresh.
        "wal_receiver_status_interval": "'1s'",
        "track_commit_timestamp": "on",
    }


def build_standby(primary: PostgresCluster, standby: PostgresCluster, archive: WalArchive, *,
                  slot: str = SLOT, timeout: float = 600.0, move_if_taken: bool = False) -> PostgresCluster:
    """Clone the running primary into ``standby.datadir`` (which must not exist), configure it
    as a standby streaming through ``slot`` and start it (on another port if its own was taken
    meanwhile and ``move_if_taken``: see :meth:`PostgresCluster.start`)."""
    if standby.datadir.exists():
        raise StandbyError(f"{standby.datadir} exists; rebuild() removes the old standby first")
    drop_slot(primary, slot)
    standby.prepare_parent()
    try:
        standby.run_tool(
            [str(standby.tool("pg_basebackup")), "-d", primary.dsn("postgres"), "-D",
             str(standby.datadir),
             "-X", "stream", "-c", "fast", "-C", "-S", slot, "--no-password", "--no-manifest"],
            timeout=timeout)
    except ClusterError as exc:
        shutil.rmtree(standby.datadir, ignore_errors=True)
        drop_slot(primary, slot)
        raise StandbyError(f"cloning {primary.name} into {standby.name} failed: {exc}") from exc
    return start_standby(primary, standby, archive, slot=slot, timeout=timeout, move_if_taken=move_if_taken)


def copy_before_first_start(primary: PostgresCluster, standby: PostgresCluster) -> None:
    """Copy the primary's data directory, before its first start, to ``standby.datadir``.

    A cleanly shut down cluster copied while stopped is a base backup (PostgreSQL's "cold"
    one): it ends at a shutdown checkpoint, so the copy is consistent the moment it starts, and
    streaming brings it everything the primary writes after. At ``env up`` this takes a tenth
    of a second where ``pg_basebackup`` of the running primary takes seconds (a checkpoint, a
    second server process, fsyncs), beside the first snapshot's own. Start it with
    :func:`start_standby` once the primary runs and :func:`create_slot` has made its slot.
    """
    if primary.running():
        raise StandbyError(f"{primary.name} is running: a copy of its files is not a backup; "
                           "use build_standby")
    if standby.datadir.exists():
        raise StandbyError(f"{standby.datadir} exists; remove the old standby first")
    standby.prepare_parent()
    if not pg_template.copy_into(primary.datadir, standby.datadir):
        raise StandbyError(f"copying {primary.datadir} to {standby.datadir} failed")


def copy_template(primary: PostgresCluster, standby: PostgresCluster) -> None:
    """Copy the initdb output the primary began as (its :attr:`~PostgresCluster.template`) to
    ``standby.datadir``: the same files as a copy of the primary before its first start, save
    the settings :func:`start_standby` writes, so the same cold base backup; but it may be made
    while the primary starts and runs (the standby then replays the primary's whole history,
    from its WAL or the archive). Raises :class:`StandbyError` when the primary has no template
    (then :func:`copy_before_first_start`, before it starts)."""
    if primary.template is None:
        raise StandbyError(f"{primary.name} did not begin as a kept initdb output; copy it before it starts")
    if standby.datadir.exists():
        raise StandbyError(f"{standby.datadir} exists; remove the old standby first")
    standby.prepare_parent()
    if not pg_template.materialize(primary.template, standby.datadir):
        raise StandbyError(f"copying {primary.template} to {standby.datadir} failed")
    standby.write_hba()
    standby.user.own(standby.datadir)


def create_slot(primary: PostgresCluster, slot: str = SLOT, timeout: float = 10.0) -> None:
    """A physical replication slot that keeps WAL from now on (``immediately_reserve``)."""
    primary.sql("SELECT pg_create_physical_replication_slot(%s, true) WHERE NOT EXISTS "
                "(SELECT 1 FROM pg_replication_slots WHERE slot_name = %s)", (slot, slot), timeout=timeout)


def start_standby(primary: PostgresCluster, standby: PostgresCluster, archive: WalArchive, *,
                  slot: str = SLOT, timeout: float = 600.0, move_if_taken: bool = False) -> PostgresCluster:
    """Configure a copy of the primary's data (a base backup) as a standby streaming through
    ``slot``, and start it."""
    standby.configure(standby_settings(primary, archive, slot=slot))
    signal_file = standby.datadir / "standby.signal"
    signal_file.touch()
    standby.user.own(signal_file)
    standby.start(timeout=timeout, move_if_taken=move_if_taken)
    standby.wait_ready(timeout=timeout)
    return standby


def drop_slot(primary: PostgresCluster, slot: str = SLOT, timeout: float = 10.0) -> None:
    """Drop the replication slot if it exists and no standby uses it."""
    primary.sql("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                "WHERE slot_name = %s AND NOT active", (slot,), timeout=timeout)


def replication_lag(primary: PostgresCluster, standby: PostgresCluster, *, slot: str = SLOT,
                    timeout: float = 2.0) -> Lag:
    if not standby.running():
        return Lag(None, None, "down", "standby")
    try:
        if not standby.in_recovery(timeout=timeout):
            return Lag(None, None, "promoted", "standby")
    except Exception:
        return Lag(None, None, "down", "standby")
    try:
        rows = primary.sql(
            "SELECT state, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint, "
            "EXTRACT(epoch FROM replay_lag)::float8 FROM pg_stat_replication "
            "WHERE application_name = %s", (slot,), timeout=timeout)
    except Exception:
        rows = None
    if rows:
        state, behind, replay_lag = rows[0]
        if behind is not None and int(behind) <= 0:
            return Lag(0.0, 0, str(state), "primary")
        # replay_lag stays at its last sample while replay is stalled; the age of the
        # newest replayed commit keeps growing, so the larger of the two is the bound.
        measured = [v for v in (replay_lag, _standby_seconds(standby, timeout)) if v is not None]
        seconds = max(float(v) for v in measured) if measured else None
        return Lag(seconds, None if behind is None else int(behind), str(state), "primary")
    # The primary is down or the standby is not connected: what the standby alone knows.
    row = standby.sql(
        "SELECT pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::bigint, "
        "EXTRACT(epoch FROM now() - pg_last_xact_replay_timestamp())::float8", timeout=timeout)[0]
    behind, seconds = row
    return Lag(None if seconds is None else float(seconds), None if behind is None else int(behind),
               "disconnected", "standby")


def _standby_seconds(standby: PostgresCluster, timeout: float) -> float | None:
    value = standby.sql("SELECT EXTRACT(epoch FROM now() - pg_last_xact_replay_timestamp())::float8",
                        timeout=timeout)[0][0]
    return None if value is None else float(value)


def promote(standby: PostgresCluster, timeout: float = 600.0) -> PostgresCluster:
    """End recovery on the standby: it becomes a writable primary on a new timeline."""
    if not standby.running():
        raise StandbyError(f"{standby.name} is not running; start it before promoting it")
    if not standby.in_recovery():
        return standby
    standby.promote(timeout=timeout)
    standby.wait_writable(timeout=timeout)
    return standby
