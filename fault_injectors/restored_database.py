"""A database instance restored by a runbook (from a snapshot, or to a point in time)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from psycopg import sql

from drillbook.faults._env import open_environment
from drillbook.faults.base import Change
from drillbook.harness import pg
from drillbook.harness.environments.base import DatabaseInstance
from drillbook.harness.errors import InvalidDrillConfig
from drillbook.harness.reference_app import APP_USER
from drillbook.harness.scram import scram_sha256_verifier


class RestoredDatabase(Change):
    """Restores a new instance ``instance``: from ``snapshot`` (an id, or ``"latest"``),
    to ``target_time`` (ISO 8601, point-in-time recovery from the archive), to
    ``target_lsn``, or with ``end_of_archive`` the newest snapshot plus every archived
    segment (no target). A recovery change, not a fault: revert discards the instance
    (``rds delete-db-instance``) once the drill is over.
    """

    name = "restored_database"
    blast_radius = "none (a new instance beside the primary)"
    rollback = "discard the restored instance"

    def __init__(
        self,
        env_name: str,
        state_dir: str,
        instance: str,
        snapshot: str | None = None,
        target_time: str | None = None,
        target_lsn: str | None = None,
        end_of_archive: bool = False,
        timeout: float = 1800.0,
    ) -> None:
        if sum(x is not None for x in (snapshot, target_time, target_lsn)) + end_of_archive != 1:
            raise InvalidDrillConfig(
                "give exactly one of snapshot, target_time, target_lsn or end_of_archive"
            )
        self.env_name, self.state_dir, self.instance = env_name, state_dir, instance
        self.end_of_archive = end_of_archive
        self.snapshot, self.target_time, self.target_lsn, self.timeout = (
            snapshot,
            target_time,
            target_lsn,
            timeout,
        )
        self.restored: DatabaseInstance | None = None

    def inject(self) -> None:
        database = open_environment(self.env_name, self.state_dir).database
        if self.snapshot is not None:
            snapshots = database.snapshots()
            chosen = (
                snapshots[0]
                if self.snapshot == "latest" and snapshots
                else next((s for s in snapshots if s.id == self.snapshot), None)
            )
            if chosen is None:
                raise InvalidDrillConfig(
                    f"no snapshot {self.snapshot!r}; snapshots: "
                    f"{', '.join(s.id for s in snapshots) or 'none'}"
                )
            self.snapshot = chosen.id
            self.restored = database.restore(chosen, self.instance, timeout=self.timeout)
        elif self.end_of_archive:
            self.restored = database.restore_latest(self.instance, timeout=self.timeout)
        elif self.target_time is not None:
            self.restored = database.restore_to_time(
                datetime.fromisoformat(self.target_time), self.instance, timeout=self.timeout
            )
        else:
            assert self.target_lsn is not None
            restore_to_lsn = database.restore_to_lsn  # type: ignore[attr-defined]
            self.restored = restore_to_lsn(self.target_lsn, self.instance, timeout=self.timeout)

        self._current_password()

    def _current_password(self) -> None:
        """A backup taken before a password rotation carries the revoked password: give the
        application's role the one Secrets Manager holds now, as the service will use it. The
        secret is the one the application reads (its ``DB_PASSWORD_SECRET_ID``), on any
        environment whose app role says so; the role is its ``DATABASE_URL``'s user."""
        env = open_environment(self.env_name, self.state_dir)
        if self.restored is None or not env.has("secrets") or not env.has("app"):
            return
        settings = env.app.env()
        secret_id = settings.get("DB_PASSWORD_SECRET_ID")
        if not secret_id:
            return
        user = urlsplit(settings.get("DATABASE_URL") or "").username or APP_USER
        # Through the instance's admin DSN as a SCRAM verifier: the clear text never reaches the server.
        verifier = scram_sha256_verifier(env.secrets.get(secret_id))
        with pg.connect(self.restored.dsn("postgres"), 10.0) as conn:
            statement = sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(user),
                                                                    sql.Literal(verifier))
            pg.execute(conn, statement.as_string(conn), timeout=10.0)

    def revert(self) -> None:
        open_environment(self.env_name, self.state_dir).database.discard(self.instance)

    def describe(self) -> dict[str, Any]:
        return {
            "env_name": self.env_name,
            "state_dir": self.state_dir,
            "instance": self.instance,
            "snapshot": self.snapshot,
            "target_time": self.target_time,
            "target_lsn": self.target_lsn,
            "end_of_archive": self.end_of_archive,
            "timeout": self.timeout,
        }
