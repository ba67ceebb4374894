"""PostgreSQL access for the service: a small connection pool and the platform's queries.

Every call is bounded: connecting (libpq ``connect_timeout``), each statement
(``statement_timeout``) and, for a server that stopped answering, a hard
deadline that shuts the socket (``drillbook.harness.pg.deadline``). A connection that
failed is thrown away, never handed out again. Every write and its audit_log
row commit in one transaction: the audit log's RPO is zero.
"""

from __future__ import annotations

import ipaddress
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import psycopg

from drillbook.harness import pg

T = TypeVar("T")


class DatabaseUnavailable(Exception):
    """No connection could be had, or the statement did not complete in time."""


@dataclass(frozen=True)
class User:
    id: int
    email: str
    name: str
    password_hash: str
    status: str


@dataclass(frozen=True)
class Project:
    id: int
    owner_id: int
    name: str
    description: str
    status: str
    created_at: datetime
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["created_at"] = self.created_at.isoformat()
        out["updated_at"] = self.updated_at.isoformat()
        return out


@dataclass(frozen=True)
class AuditEvent:
    event_type: str
    user_id: int | None
    ip_address: str | None
    user_agent: str | None
    endpoint: str
    table_name: str | None = None
    record_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


class Database:
    """A bounded pool of autocommit connections as the application role."""

    def __init__(self, dsn: str, password: str, *, timeout: float, size: int) -> None:
        self._dsn = dsn
        self._password = password
        self.timeout = timeout
        self._idle: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max(1, size))

    @contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[psycopg.Connection[Any]]:
        limit = self.timeout if timeout is None else timeout
        if not self._slots.acquire(timeout=limit):
            raise DatabaseUnavailable(f"no database connection free within {limit:.1f}s")
        conn: psycopg.Connection[Any] | None = None
        try:
            conn = self._take()
            with pg.deadline(conn, limit):
                yield conn
        except psycopg.Error as exc:
            if conn is not None:
                conn.close()
                conn = None
            raise DatabaseUnavailable(_describe(exc)) from exc
        finally:
            if conn is not None:
                self._give_back(conn)
            self._slots.release()

    def run(self, work: Callable[[psycopg.Connection[Any]], T], timeout: float | None = None) -> T:
        with self.connection(timeout) as conn:
            return work(conn)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _take(self) -> psycopg.Connection[Any]:
        with self._lock:
            while self._idle:
                conn = self._idle.pop()
                if not conn.closed and not conn.broken:
                    return conn
        try:
            # The connection outlives this call: its statement_timeout is the pool's.
            return pg.connect(self._dsn, self.timeout, password=self._password)
        except psycopg.Error as exc:
            raise DatabaseUnavailable(_describe(exc)) from exc

    def _give_back(self, conn: psycopg.Connection[Any]) -> None:
        if conn.closed or conn.broken or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.close()
            return
        with self._lock:
            self._idle.append(conn)


def _describe(exc: psycopg.Error) -> str:
    # psycopg messages may carry the server's text; no password is ever in them.
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{type(exc).__name__}: {text}"


# -- queries ------------------------------------------------------------------

PROJECT_COLUMNS = "id, owner_id, name, description, status, created_at, updated_at"


def ping(conn: psycopg.Connection[Any]) -> bool:
    """True if the server accepts writes (False: a standby in recovery)."""
    row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
    return not bool(row and row[0])


def find_user(conn: psycopg.Connection[Any], email: str) -> User | None:
    row = conn.execute(
        "SELECT id, email, name, password_hash, status FROM users WHERE lower(email) = lower(%s)",
        (email,),
    ).fetchone()
    return User(*row) if row else None


def user_status(conn: psycopg.Connection[Any], user_id: int) -> str | None:
    row = conn.execute("SELECT status FROM users WHERE id = %s", (user_id,)).fetchone()
    return str(row[0]) if row else None


def list_projects(
    conn: psycopg.Connection[Any], *, limit: int, offset: int, owner_id: int | None
) -> list[Project]:
    if owner_id is None:
        rows = conn.execute(
            f"SELECT {PROJECT_COLUMNS} FROM projects ORDER BY id LIMIT %s OFFSET %s", (limit, offset)
        ).fetchall()
    else:
        rows = conn.execute(
            f"SELECT {PROJECT_COLUMNS} FROM projects WHERE owner_id = %s ORDER BY id LIMIT %s OFFSET %s",
            (owner_id, limit, offset),
        ).fetchall()
    return [Project(*row) for row in rows]


def get_project(conn: psycopg.Connection[Any], project_id: int) -> Project | None:
    row = conn.execute(f"SELECT {PROJECT_COLUMNS} FROM projects WHERE id = %s", (project_id,)).fetchone()
    return Project(*row) if row else None


def create_project(
    conn: psycopg.Connection[Any], owner_id: int, name: str, description: str, event: AuditEvent
) -> Project:
    """Insert the project, its audit row and the job the workers process, atomically."""
    with conn.transaction():
        row = conn.execute(
            f"INSERT INTO projects (owner_id, name, description) VALUES (%s, %s, %s) "
            f"RETURNING {PROJECT_COLUMNS}",
            (owner_id, name, description),
        ).fetchone()
        assert row is not None
        project = Project(*row)
        audit(conn, _with_record(event, project.id))
        conn.execute(
            "INSERT INTO jobs (kind, payload) VALUES ('project_created', %s)",
            (json.dumps({"project_id": project.id}),),
        )
    return project


def update_project(
    conn: psycopg.Connection[Any], project_id: int, changes: dict[str, str], event: AuditEvent
) -> Project | None:
    with conn.transaction():
        row = conn.execute(
            f"UPDATE projects SET name = coalesce(%s, name), description = coalesce(%s, description), "
            f"status = coalesce(%s, status), updated_at = now() WHERE id = %s RETURNING {PROJECT_COLUMNS}",
            (changes.get("name"), changes.get("description"), changes.get("status"), project_id),
        ).fetchone()
        if row is None:
            return None
        audit(conn, _with_record(event, project_id))
    return Project(*row)


def delete_project(conn: psycopg.Connection[Any], project_id: int, event: AuditEvent) -> bool:
    with conn.transaction():
        row = conn.execute("DELETE FROM projects WHERE id = %s RETURNING id", (project_id,)).fetchone()
        if row is None:
            return False
        audit(conn, _with_record(event, project_id))
    return True


def audit(conn: psycopg.Connection[Any], event: AuditEvent) -> None:
    conn.execute(
        "INSERT INTO audit_log (event_type, user_id, ip_address, user_agent, endpoint, table_name, "
        "record_id, detail) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (event.event_type, event.user_id, _inet(event.ip_address), event.user_agent, event.endpoint,
         event.table_name, event.record_id, json.dumps(event.detail)),
    )


def _with_record(event: AuditEvent, record_id: int) -> AuditEvent:
    return AuditEvent(event.event_type, event.user_id, event.ip_address, event.user_agent,
                      event.endpoint, event.table_name, record_id, event.detail)


def _inet(value: str | None) -> str | None:
    # A forged X-Forwarded-For must not turn an audited write into a 500.
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None
