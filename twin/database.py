"""The ``database`` and ``replica`` roles of the local environment.

:class:`LocalDatabase` is the primary with its DR operations (snapshots,
restores, point-in-time recovery); :class:`LocalReplica` is the DR replica
(lag, promote, rebuild). Every server they create is recorded in the
environment's state before it starts, so ``env down`` stops it whoever made it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import psycopg

from drillbook.harness.environments.base import DatabaseInstance, Snapshot
from drillbook.harness.errors import DrillbookError, InvalidDrillConfig
from drillbook.harness.polling import WaitTimeout, wait_until
from drillbook.twin.archive import (
    ArchiveStatus,
    WalArchive,
    archive_current_wal,
    status_of,
)
from drillbook.twin.pitr import (
    RecoveryTarget,
    recover_to,
    recover_to_end,
    restore_snapshot,
)
from drillbook.twin.postgres import PostgresCluster, free_port
from drillbook.twin.primary import APP_DATABASE
from drillbook.twin.snapshots import SnapshotCatalogue
from drillbook.twin.standby import (
    SLOT,
    Lag,
    StandbyError,
    build_standby,
    replication_lag,
)
from drillbook.twin.standby import promote as promote_standby
from drillbook.twin.state import ClusterRecord, EnvRecord, StateFile

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
RESERVED = ("primary", "dr-replica")


class ClusterBook:
    """Where the environment's servers live and the record of them in the state file."""

    def __init__(self, state: StateFile, root: Path, *, environ: dict[str, str],
                 logs: Path | None = None) -> None:
        self.state = state
        self.root = root
        self.environ = environ
        self.logs = logs

    def cluster(self, record: ClusterRecord) -> PostgresCluster:
        log = None if self.logs is None else self.logs / f"postgres-{record.name}.log"
        return PostgresCluster(Path(record.datadir), port=record.port, name=record.name,
                               dbname=APP_DATABASE, environ=self.environ, log=log)

    def new(self, name: str, role: str) -> PostgresCluster:
        """A server not yet created, recorded first (so a crash in between leaves a trace)."""
        if not _NAME.match(name) or name in RESERVED:
            raise InvalidDrillConfig(f"instance name {name!r}: use lower-case letters, digits and '-' "
                                     f"(not {', '.join(RESERVED)})")
        record = ClusterRecord(name=name, datadir=str(self.root / name / "data"), port=free_port(), role=role)

        def add(env: EnvRecord) -> None:
            if name in env.clusters:
                raise InvalidDrillConfig(f"an instance called {name!r} exists; "
                                         "discard it or use another name")
            env.clusters[name] = record

        self.state.update(add)
        return self.cluster(record)

    def set_role(self, name: str, role: str) -> None:
        def change(env: EnvRecord) -> None:
            env.clusters[name].role = role

        self.state.update(change)

    def forget(self, name: str) -> None:
        def drop(env: EnvRecord) -> None:
            env.clusters.pop(name, None)

        self.state.update(drop)

    def records(self, role: str | None = None) -> list[ClusterRecord]:
        env = self.state.read()
        if env is None:
            return []
        return [r for r in env.clusters.values() if role is None or r.role == role]


class LocalInstance:
    """One server as a :class:`DatabaseInstance`; ``cluster`` has the local-only operations
    (data directory, ``pg_amcheck``, ``pg_checksums``) for faults and checks that need them."""

    def __init__(self, cluster: PostgresCluster) -> None:
        self.cluster = cluster
        self.name = cluster.name

    @property
    def port(self) -> int:
        return self.cluster.port

    def dsn(self, dbname: str | None = None) -> str:
        """A superuser DSN (no password: the superuser may connect over loopback only)."""
        return self.cluster.dsn(dbname)

    def running(self) -> bool:
        return self.cluster.running()

    def start(self, timeout: float = 60.0) -> None:
        self.cluster.start(timeout=timeout)
        self.cluster.wait_ready(timeout=timeout)

    def stop(self, mode: str = "fast", timeout: float = 60.0) -> None:
        self.cluster.stop(mode, timeout=timeout)

    def lsn(self) -> str:
        return self.cluster.lsn()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, port={self.port})"


class LocalDatabase(LocalInstance):
    """The primary and its DR operations (the ``database`` role)."""

    def __init__(self, primary: PostgresCluster, *, catalogue: SnapshotCatalogue, archive: WalArchive,
                 book: ClusterBook) -> None:
        super().__init__(primary)
        self.primary = primary
        self.catalogue = catalogue
        self.archive = archive
        self.book = book

    # -- snapshots -------------------------------------------------------------

    def snapshot(self, timeout: float = 600.0) -> Snapshot:
        return self.catalogue.take(self.primary, kind="manual", timeout=timeout)

    def snapshots(self) -> list[Snapshot]:
        return self.catalogue.list()

    # -- restores --------------------------------------------------------------

    def restore(self, snapshot: Snapshot, name: str, timeout: float = 1800.0, *,
                catalogue: SnapshotCatalogue | None = None) -> LocalInstance:
        """A new instance from ``snapshot`` (of ``catalogue``: by default the primary's)."""
        instance = self.book.new(name, "restored")
        source = catalogue or self.catalogue
        return self._build(name, lambda: restore_snapshot(source, snapshot, instance, timeout=timeout))

    def restore_latest(self, name: str, timeout: float = 1800.0) -> LocalInstance:
        """The newest snapshot plus everything already archived (the monthly restore test):
        how much a restore would give back if the primary were lost now."""
        instance = self.book.new(name, "pitr")
        return self._build(name, lambda: recover_to_end(self.catalogue, self.archive, instance,
                                                        timeout=timeout)[0])

    def restore_to_time(self, target: datetime, name: str, timeout: float = 1800.0, *,
                        inclusive: bool = True) -> LocalInstance:
        return self.restore_to(RecoveryTarget(time=target, inclusive=inclusive), name, timeout)

    def restore_to_lsn(self, lsn: str, name: str, timeout: float = 1800.0, *,
                       inclusive: bool = True) -> LocalInstance:
        return self.restore_to(RecoveryTarget(lsn=lsn, inclusive=inclusive), name, timeout)

    def restore_to(self, target: RecoveryTarget, name: str, timeout: float = 1800.0) -> LocalInstance:
        """Point-in-time recovery into a new instance. If the primary runs, its current WAL is
        archived first (as RDS does continuously), so any past target is reachable."""
        if self.primary.running():
            # A primary that cannot archive now: recover from what the archive holds.
            with contextlib.suppress(DrillbookError):
                self.archive_now(timeout=min(timeout, 60.0))
        instance = self.book.new(name, "pitr")
        return self._build(name, lambda: recover_to(self.catalogue, self.archive, target, instance,
                                                    timeout=timeout))

    def _build(self, name: str, make: Callable[[], PostgresCluster]) -> LocalInstance:
        try:
            return LocalInstance(make())
        except BaseException:
            self.book.forget(name)
            raise

    def instances(self) -> list[LocalInstance]:
        """The restored and recovered instances that exist now."""
        return [LocalInstance(self.book.cluster(r)) for r in self.book.records()
                if r.role in ("restored", "pitr")]

    def discard(self, instance: DatabaseInstance | str) -> None:
        """Stop a restored instance and delete its data (RDS delete-db-instance)."""
        name = instance if isinstance(instance, str) else instance.name
        every = {r.name: r for r in self.book.records()}
        if name not in every:
            return  # already gone: discarding twice is harmless
        records = {n: r for n, r in every.items() if r.role in ("restored", "pitr")}
        if name not in records:
            raise InvalidDrillConfig(f"{name!r} is not a restored instance; instances: "
                                     f"{', '.join(records) or 'none'}")
        self.book.cluster(records[name]).destroy()
        self.book.forget(name)

    # -- the archive -----------------------------------------------------------

    def archive_status(self, timeout: float = 5.0) -> ArchiveStatus:
        return status_of(self.primary, timeout)

    def archive_now(self, timeout: float = 60.0) -> str:
        """Archive the current WAL now (see :func:`archive_current_wal`); the segment's name."""
        return archive_current_wal(self.primary, timeout)


class LocalReplica(LocalInstance):
    """The DR replica (the ``replica`` role): a streaming standby of the primary."""

    def __init__(self, standby: PostgresCluster, *, primary: PostgresCluster, archive: WalArchive,
                 book: ClusterBook, slot: str = SLOT) -> None:
        super().__init__(standby)
        self.standby = standby
        self.primary = primary
        self.archive = archive
        self.book = book
        self.slot = slot

    def lag(self, timeout: float = 2.0) -> Lag:
        return replication_lag(self.primary, self.standby, slot=self.slot, timeout=timeout)

    def lag_s(self) -> float | None:
        return self.lag().seconds

    def lag_bytes(self) -> int | None:
        return self.lag().bytes

    def wait_caught_up(self, timeout: float = 30.0) -> None:
        """Wait until the replica has replayed everything the primary wrote."""
        try:
            wait_until(self.lag, what=f"{self.name} caught up", timeout=timeout, interval=0.05,
                       until=lambda lag: lag.bytes == 0,
                       describe=lambda lag: f"{lag.bytes} bytes / {lag.seconds}s behind ({lag.state})")
        except WaitTimeout as exc:
            raise StandbyError(f"{self.name} still {exc.last_state} after {timeout:.0f}s") from None

    def promoted(self) -> bool:
        """Running as a writable primary, or gone (deleted: as the RDS role answers); a server
        that does not answer is not (yet) promoted."""
        record = self.book.state.read()
        if record is None or self.standby.name not in record.clusters:
            return True
        if not self.standby.running():
            return False
        try:
            return not self.standby.in_recovery()
        except psycopg.Error:
            return False

    def promote(self, timeout: float = 600.0) -> LocalInstance:
        """Make the replica a writable primary (``aws rds promote-read-replica``)."""
        promote_standby(self.standby, timeout=timeout)
        self.book.set_role(self.standby.name, "promoted")
        return LocalInstance(self.standby)

    def rebuild(self, timeout: float = 600.0) -> None:
        """Throw the replica away and clone it again from the primary (after a promotion,
        or when it can no longer catch up)."""
        self.standby.destroy()
        build_standby(self.primary, self.standby, self.archive, slot=self.slot, timeout=timeout)
        self.book.set_role(self.standby.name, "standby")
