"""The ``database`` and ``replica`` roles in staging: any PostgreSQL by URL (the data plane,
through psycopg), and, with ``driver = "rds"``, its RDS instance (the control plane:
stop/start, snapshots, restores, point-in-time restores, promotion, and the read replica
created again after one).

The URL comes from a reference (an environment variable or a Secrets Manager secret),
is read at the moment of use and registered for redaction. A restored or promoted RDS
instance is reached with the same credentials at its own endpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

from drillbook.harness import pg
from drillbook.harness.environments.base import DatabaseInstance, Snapshot
from drillbook.harness.environments.staging.aws.errors import AwsNotFound
from drillbook.harness.environments.staging.aws.rds import Rds, RdsInstance
from drillbook.harness.environments.staging.aws.rds_snapshots import RdsSnapshot, RdsSnapshots, RestoreOptions
from drillbook.harness.environments.staging.secretref import SecretReader, SecretRef
from drillbook.harness.environments.staging.settings import DatabaseSettings
from drillbook.harness.errors import DrillbookError, InvalidDrillConfig


class NoControlPlane(DrillbookError):
    """The ``postgres`` driver reaches the database only by URL: it cannot stop or snapshot it."""


def with_endpoint(dsn: str, host: str | None, port: int | None, dbname: str | None = None) -> str:
    """``dsn`` pointed at another host/port (and database), credentials kept."""
    parts = urlsplit(dsn)
    if parts.scheme not in ("postgres", "postgresql"):
        raise InvalidDrillConfig("the database URL must be a postgresql:// URL to be repointed")
    netloc = parts.netloc
    if host is not None:
        userinfo = netloc.rsplit("@", 1)[0] + "@" if "@" in netloc else ""
        netloc = f"{userinfo}{host}:{port or 5432}"
    path = f"/{dbname}" if dbname is not None else parts.path
    return urlunsplit((parts.scheme, netloc, path, parts.query, parts.fragment))


class UrlDatabase:
    """Any PostgreSQL by URL: ``dsn()``, ``running()``, replica lag and ``pg_promote()``."""

    def __init__(
        self,
        name: str,
        url: SecretRef,
        *,
        read_secret: SecretReader | None = None,
        connect_timeout: float = 5.0,
    ) -> None:
        self.name = name
        self.url = url
        self.read_secret = read_secret
        self.connect_timeout = connect_timeout

    def dsn(self, dbname: str | None = None) -> str:
        value = self.url.resolve(self.read_secret)
        return value if dbname is None else with_endpoint(value, None, None, dbname)

    def running(self) -> bool:
        try:
            pg.query(self.dsn(), "SELECT 1", timeout=self.connect_timeout)
        except Exception:  # down is an answer here, not an error
            return False
        return True

    def _no_control(self, what: str) -> NoControlPlane:
        return NoControlPlane(
            f"{self.url.where}: the postgres driver reaches {self.name!r} only by URL, so it "
            f'cannot {what}; use driver = "rds" with instance_id for control-plane drills'
        )

    def start(self, timeout: float = 60.0) -> None:
        raise self._no_control("start it")

    def stop(self, mode: str = "fast", timeout: float = 60.0) -> None:
        raise self._no_control("stop it")

    def snapshot(self, timeout: float = 600.0) -> Snapshot:
        raise self._no_control("snapshot it")

    def snapshots(self) -> list[Snapshot]:
        raise self._no_control("list its snapshots")

    def restore(self, snapshot: Snapshot, name: str, timeout: float = 1800.0) -> UrlDatabase:
        raise self._no_control("restore a snapshot")

    def restore_to_time(self, target: datetime, name: str, timeout: float = 1800.0) -> UrlDatabase:
        raise self._no_control("restore to a point in time")

    def restore_latest(self, name: str, timeout: float = 1800.0) -> UrlDatabase:
        raise self._no_control("restore its latest restorable point")

    def discard(self, instance: DatabaseInstance | str) -> None:
        raise self._no_control("delete an instance")

    def lag_s(self) -> float | None:
        """Replay lag of a standby, from the standby itself (None on a primary or when unknown)."""
        rows = pg.query(
            self.dsn(),
            "SELECT CASE WHEN pg_is_in_recovery() THEN "
            "extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END",
            timeout=self.connect_timeout,
        )
        value = rows[0][0] if rows else None
        return None if value is None else max(0.0, float(value))

    def promote(self, timeout: float = 600.0) -> UrlDatabase:
        """``pg_promote()``: works on any PostgreSQL standby the URL's user may promote."""
        seconds = max(1, int(timeout))
        rows = pg.query(self.dsn(), f"SELECT pg_promote(true, {seconds})", timeout=timeout + 5)
        if not rows or rows[0][0] is not True:
            raise DrillbookError(f"pg_promote() on {self.name!r} did not finish within {seconds}s")
        return self


class RdsInstanceRole:
    """One RDS instance (the primary, a restored copy, a promoted replica) as a DatabaseInstance."""

    def __init__(
        self,
        rds: Rds,
        instance_id: str,
        url: SecretRef | None,
        *,
        read_secret: SecretReader | None = None,
        connect_timeout: float = 5.0,
        wait_timeout: float = 1800.0,
    ) -> None:
        self.rds = rds
        self.name = instance_id
        self.url = url
        self.read_secret = read_secret
        self.connect_timeout = connect_timeout
        self.wait_timeout = wait_timeout
        self._endpoint: tuple[str | None, int | None] | None = None

    def describe(self) -> RdsInstance:
        return self.rds.describe(self.name)

    def dsn(self, dbname: str | None = None) -> str:
        if self.url is None:
            raise InvalidDrillConfig(
                f"{self.rds.where}: no URL for RDS instance {self.name!r}: set url_env = "
                '"DATABASE_URL" (or url_secret) to use its data plane'
            )
        base = self.url.resolve(self.read_secret)
        if self._endpoint is None:
            return base if dbname is None else with_endpoint(base, None, None, dbname)
        host, port = self._endpoint
        return with_endpoint(base, host, port, dbname)

    def running(self) -> bool:
        return self.rds.status(self.name) == "available"

    def start(self, timeout: float = 1800.0) -> None:
        if self.rds.status(self.name) != "available":
            self.rds.start(self.name, timeout=timeout)

    def stop(self, mode: str = "fast", timeout: float = 1800.0) -> None:
        """RDS only stops cleanly: ``mode`` is accepted for the role's signature."""
        self.rds.stop(self.name, timeout=timeout)


class RdsDatabase(RdsInstanceRole):
    """The primary RDS instance with its snapshots, restores and point-in-time restores."""

    def __init__(
        self, rds: Rds, settings: DatabaseSettings, *, read_secret: SecretReader | None = None
    ) -> None:
        assert settings.instance_id is not None
        super().__init__(
            rds,
            settings.instance_id,
            settings.url,
            read_secret=read_secret,
            connect_timeout=settings.connect_timeout,
            wait_timeout=settings.wait_timeout,
        )
        self.prefix = settings.snapshot_prefix
        self.snaps = RdsSnapshots(rds)

    def snapshot(self, timeout: float = 3600.0) -> Snapshot:
        started = datetime.now(UTC)
        snap = self.snaps.create(
            self.name, f"{self.prefix}-{self.name}-{started:%Y%m%d%H%M%S}", timeout=timeout
        )
        return _snapshot(snap, started, datetime.now(UTC))

    def snapshots(self) -> list[Snapshot]:
        return [
            _snapshot(s, s.created, s.created) for s in self.snaps.list(self.name) if s.status == "available"
        ]

    def _restored(self, instance: RdsInstance) -> RdsInstanceRole:
        role = RdsInstanceRole(
            self.rds,
            instance.id,
            self.url,
            read_secret=self.read_secret,
            connect_timeout=self.connect_timeout,
            wait_timeout=self.wait_timeout,
        )
        role._endpoint = (instance.endpoint, instance.port)
        return role

    def restore(self, snapshot: Snapshot, name: str, timeout: float = 3600.0) -> RdsInstanceRole:
        options = RestoreOptions.like(self.describe(), drillbook="restore")
        return self._restored(self.snaps.restore(snapshot.id, name, options=options, timeout=timeout))

    def restore_to_time(self, target: datetime, name: str, timeout: float = 3600.0) -> RdsInstanceRole:
        options = RestoreOptions.like(self.describe(), drillbook="pitr")
        return self._restored(
            self.snaps.restore_to_time(self.name, name, restore_time=target, options=options, timeout=timeout)
        )

    def restore_latest(self, name: str, timeout: float = 3600.0) -> RdsInstanceRole:
        options = RestoreOptions.like(self.describe(), drillbook="restore-test")
        return self._restored(self.snaps.restore_to_time(self.name, name, options=options, timeout=timeout))

    def discard(self, instance: DatabaseInstance | str) -> None:
        """Delete a scratch instance: without a final snapshot when drillbook made it (its
        ``drillbook`` tag: a restore), else keeping one, ``<id>-final``."""
        name = instance if isinstance(instance, str) else instance.name
        if name == self.name:
            raise InvalidDrillConfig(f"refusing to discard the primary {name!r}: only restored instances")
        if self.rds.exists(name):
            scratch = self.rds.describe(name).made_by_drillbook
            self.rds.delete(name, final_snapshot_id=None if scratch else f"{name}-final",
                            timeout=self.wait_timeout)


class RdsReplica(RdsInstanceRole):
    """A cross-region read replica: lag from the replica itself, promotion through RDS, and,
    after a promotion, the read replica created again from ``source`` (the primary's role)."""

    def __init__(
        self,
        rds: Rds,
        instance_id: str,
        url: SecretRef | None,
        *,
        source: Callable[[], RdsInstanceRole] | None = None,
        read_secret: SecretReader | None = None,
        connect_timeout: float = 5.0,
        wait_timeout: float = 1800.0,
    ) -> None:
        super().__init__(rds, instance_id, url, read_secret=read_secret, connect_timeout=connect_timeout,
                         wait_timeout=wait_timeout)
        self.source = source

    def lag_s(self) -> float | None:
        if self.url is None:
            return None
        return UrlDatabase(
            self.name, self.url, read_secret=self.read_secret, connect_timeout=self.connect_timeout
        ).lag_s()

    def promote(self, timeout: float = 1800.0) -> RdsInstanceRole:
        instance = self.rds.promote(self.name, timeout=timeout)
        return RdsInstanceRole(
            self.rds,
            instance.id,
            self.url,
            read_secret=self.read_secret,
            connect_timeout=self.connect_timeout,
            wait_timeout=self.wait_timeout,
        )

    def promoted(self) -> bool:
        """Available and no longer replicating (or gone: a rebuild cut short after the delete)."""
        try:
            current = self.rds.describe(self.name)
        except AwsNotFound:
            return True
        return current.status == "available" and current.replica_source is None

    def rebuild(self, timeout: float = 3600.0) -> None:
        """The read replica again after a promotion, as on RDS: the promoted instance deleted
        (its data kept in a final snapshot, ``<id>-promoted-<time>``), then
        CreateDBInstanceReadReplica of the source under the same identifier, so its endpoint
        (and the URL naming it) stays. A replica that still replicates is left as it is."""
        if self.source is None:
            raise InvalidDrillConfig(
                f"{self.rds.where}: the read replica {self.name!r} was promoted and cannot be created "
                'again without its source: configure [database] with driver = "rds" and instance_id'
            )
        primary = self.source()
        like: RdsInstance | None = None
        if self.rds.exists(self.name):
            like = self.describe()
            if like.replica_source is not None:
                return
            final = f"{self.name}-promoted-{datetime.now(UTC):%Y%m%d%H%M%S}"
            self.rds.delete(self.name, final_snapshot_id=final, timeout=timeout)
        self.rds.create_read_replica(self.name, primary.describe(), source_region=primary.rds.aws.region,
                                     like=like, timeout=timeout)


def _snapshot(snap: RdsSnapshot, started: datetime | None, finished: datetime | None) -> Snapshot:
    now = datetime.now(UTC)
    return Snapshot(
        id=snap.id,
        started_at=started or now,
        finished_at=finished or now,
        size_bytes=snap.size_gb * 1024**3 if snap.size_gb else None,
        verified=None,
        detail={
            "instance_id": snap.instance_id,
            "kind": snap.kind,
            "engine": snap.engine,
            "encrypted": snap.encrypted,
            "arn": snap.arn,
        },
    )
