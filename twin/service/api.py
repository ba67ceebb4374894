"""What the Compliant API does, apart from HTTP: health, login, projects, audit.

Each operation returns a :class:`Reply` (status and JSON body); the flat table
of error codes below is the whole error vocabulary of the service.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg

from drillbook.twin.passwords import verify_password
from drillbook.twin.service import store, tokens
from drillbook.twin.service.breaker import CacheBreaker
from drillbook.twin.service.config import ServiceConfig
from drillbook.twin.service.monitor import PlatformMonitor
from drillbook.twin.service.sessions import CacheUnavailable, Sessions
from drillbook.twin.service.store import AuditEvent, Database, DatabaseUnavailable

#: error code -> HTTP status
ERRORS = {
    "bad_request": 400,
    "unauthorized": 401,
    "invalid_credentials": 401,
    "invalid_token": 401,
    "session_expired": 401,
    "account_suspended": 403,
    "forbidden": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "payload_too_large": 413,
    "read_only": 503,
    "database_unavailable": 503,
    "cache_unavailable": 503,
}
MAX_PAGE = 500
T = TypeVar("T")


@dataclass(frozen=True)
class Secrets:
    jwt: str
    db_password: str
    encryption_key: str


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Caller:
    """Who sent the request, as the audit log records it."""

    ip_address: str | None
    user_agent: str | None
    endpoint: str
    authorization: str | None

    def event(self, event_type: str, user_id: int | None, table_name: str | None,
              detail: Mapping[str, Any], *, record_id: int | None = None) -> AuditEvent:
        return AuditEvent(event_type, user_id, self.ip_address, self.user_agent, self.endpoint,
                          table_name, record_id, dict(detail))


class ApiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def reply(self) -> Reply:
        return Reply(ERRORS[self.code], {"error": self.code, "message": self.message})


class Service:
    def __init__(self, config: ServiceConfig, secrets: Secrets, *,
                 breaker: CacheBreaker | None = None) -> None:
        self.config = config
        self.breaker = breaker or CacheBreaker()
        self.secrets = secrets
        self.db = Database(config.database_url, secrets.db_password, timeout=config.db_timeout_s,
                           size=config.pool_size)
        self.sessions = Sessions(config.redis_url, ttl_s=config.session_ttl_s,
                                 timeout=config.health_timeout_s, breaker=self.breaker)
        self.started = time.monotonic()
        #: Set on SIGTERM: the replica still serves while the load balancer stops sending to it.
        self.draining = threading.Event()
        #: The release whose breaker latches watches the platform on a clock of its own (monitor.py).
        self.monitor = (PlatformMonitor(self._check_database, self.sessions.ping)
                        if self.breaker.mode == "latch" else None)
        if self.monitor is not None:
            self.monitor.start()

    def close(self) -> None:
        if self.monitor is not None:
            self.monitor.stop()
        self.db.close()
        self.sessions.close()

    # -- health ----------------------------------------------------------------

    def health(self) -> Reply:
        """200 when both the database and Redis answer within the health timeout, else 503."""
        cache: dict[str, Any] = {}
        probe = threading.Thread(target=self._check_cache, args=(cache,), daemon=True)
        probe.start()
        database = self._check_database()
        probe.join(self.config.health_timeout_s + 0.5)
        if not cache:
            cache.update(ok=False, error=f"no answer within {self.config.health_timeout_s:.1f}s")
        healthy = bool(database["ok"] and cache["ok"])
        if healthy:
            self.breaker.arm()
        return Reply(200 if healthy else 503, {
            "status": "ok" if healthy else "unavailable",
            "draining": self.draining.is_set(),
            "version": self.config.version,
            "replica": self.config.replica,
            "zone": self.config.zone,
            "read_only_mode": self.config.read_only,
            "uptime_s": round(time.monotonic() - self.started, 3),
            "jwt_kid": tokens.key_id(self.secrets.jwt),
            "checks": {"database": database, "redis": cache},
        })

    def _check_database(self) -> dict[str, Any]:
        start = time.monotonic()
        try:
            writable = self.db.run(store.ping, timeout=self.config.health_timeout_s)
        except DatabaseUnavailable as exc:
            self.breaker.database_failed()
            return {"ok": False, "error": str(exc)}
        return {"ok": True, "writable": writable, "latency_ms": _ms(start)}

    def _check_cache(self, out: dict[str, Any]) -> None:
        start = time.monotonic()
        try:
            self.sessions.ping()
        except CacheUnavailable as exc:
            out.update(ok=False, error=str(exc))
            return
        out.update(ok=True, latency_ms=_ms(start))

    # -- auth ------------------------------------------------------------------

    def pseudonym(self, value: str) -> str:
        """HMAC-SHA256 of ``value`` under the encryption key: comparable, not reversible."""
        key = self.secrets.encryption_key.encode()
        return hmac.new(key, value.strip().lower().encode(), hashlib.sha256).hexdigest()

    def login(self, payload: Mapping[str, Any], caller: Caller) -> Reply:
        email, password = payload.get("email"), payload.get("password")
        if not isinstance(email, str) or not isinstance(password, str) or not email:
            raise ApiError("bad_request", 'send JSON {"email": ..., "password": ...}')
        user = self._db(lambda conn: store.find_user(conn, email))
        if user is None or not verify_password(password, user.password_hash):
            # An unknown address is personal data: the audit keeps a keyed pseudonym of it.
            detail = {} if user else {"email_hmac": self.pseudonym(email)}
            self._audit(caller.event("login_failed", user.id if user else None, "users", detail))
            raise ApiError("invalid_credentials", "unknown email or wrong password")
        if user.status != "active":
            self._audit(caller.event("login_blocked", user.id, "users", {"status": user.status}))
            raise ApiError("account_suspended", f"account {user.status}; contact security")
        try:
            session = self.sessions.create(user.id, user.email, caller.ip_address)
        except CacheUnavailable as exc:
            raise ApiError("cache_unavailable", f"session store unavailable: {exc}") from exc
        issued = int(time.time())
        claims = tokens.Claims(user.id, user.email, session.id, issued, issued + self.config.session_ttl_s)
        token = tokens.issue(self.secrets.jwt, claims)
        self._audit(caller.event("login", user.id, "users", {}, record_id=user.id))
        return Reply(200, {
            "token": token, "token_type": "Bearer", "expires_in": self.config.session_ttl_s,
            "user": {"id": user.id, "email": user.email, "name": user.name},
        })

    def authenticate(self, caller: Caller) -> tokens.Claims:
        header = caller.authorization or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError("unauthorized", "send Authorization: Bearer <token> (POST /api/auth/login)")
        try:
            claims = tokens.verify(self.secrets.jwt, token.strip())
        except tokens.InvalidToken as exc:
            raise ApiError("invalid_token", f"{exc}; log in again") from exc
        try:
            session = self.sessions.get(claims.session_id)
        except CacheUnavailable as exc:
            raise ApiError("cache_unavailable", f"session store unavailable: {exc}") from exc
        if session is None or session.user_id != claims.user_id:
            raise ApiError("session_expired", "session revoked or expired; log in again")
        return claims

    # -- projects --------------------------------------------------------------

    def list_projects(self, query: Mapping[str, str], caller: Caller) -> Reply:
        user_id = self.authenticate(caller).user_id if caller.authorization else None
        limit = _int_param(query, "limit", 50, 1, MAX_PAGE)
        offset = _int_param(query, "offset", 0, 0, None)
        owner = query.get("owner_id")
        owner_id = _int_param(query, "owner_id", 0, 1, None) if owner is not None else None

        def work(conn: psycopg.Connection[Any]) -> list[store.Project]:
            projects = store.list_projects(conn, limit=limit, offset=offset, owner_id=owner_id)
            self._audit_read(conn, caller.event("read", user_id, "projects", {"count": len(projects)}))
            return projects

        projects = self._db(work)
        return Reply(200, {"projects": [p.to_json() for p in projects], "count": len(projects),
                           "limit": limit, "offset": offset})

    def get_project(self, project_id: int, caller: Caller) -> Reply:
        user_id = self.authenticate(caller).user_id if caller.authorization else None

        def work(conn: psycopg.Connection[Any]) -> store.Project | None:
            project = store.get_project(conn, project_id)
            self._audit_read(conn, caller.event("read", user_id, "projects", {}, record_id=project_id))
            return project

        project = self._db(work)
        if project is None:
            raise ApiError("not_found", f"no project {project_id}")
        return Reply(200, {"project": project.to_json()})

    def create_project(self, payload: Mapping[str, Any], caller: Caller) -> Reply:
        self._refuse_if_read_only()
        claims = self.authenticate(caller)
        name = payload.get("name")
        description = payload.get("description", "")
        if not isinstance(name, str) or not name.strip() or not isinstance(description, str):
            raise ApiError("bad_request", 'send JSON {"name": "...", "description": "..."}')
        event = caller.event("create", claims.user_id, "projects", {"name": name})

        def work(conn: psycopg.Connection[Any]) -> store.Project:
            self._require_active(conn, claims.user_id)
            return store.create_project(conn, claims.user_id, name.strip(), description, event)

        return Reply(201, {"project": self._db(work).to_json()})

    def update_project(self, project_id: int, payload: Mapping[str, Any], caller: Caller) -> Reply:
        self._refuse_if_read_only()
        claims = self.authenticate(caller)
        changes = {k: v for k, v in payload.items() if k in ("name", "description", "status")}
        if not changes or not all(isinstance(v, str) and v.strip() for v in changes.values()):
            raise ApiError("bad_request", "send JSON with name, description and/or status (strings)")
        event = caller.event("update", claims.user_id, "projects", {"fields": sorted(changes)})

        def work(conn: psycopg.Connection[Any]) -> store.Project | None:
            self._require_active(conn, claims.user_id)
            return store.update_project(conn, project_id, changes, event)

        project = self._db(work)
        if project is None:
            raise ApiError("not_found", f"no project {project_id}")
        return Reply(200, {"project": project.to_json()})

    def delete_project(self, project_id: int, caller: Caller) -> Reply:
        self._refuse_if_read_only()
        claims = self.authenticate(caller)
        event = caller.event("delete", claims.user_id, "projects", {})

        def work(conn: psycopg.Connection[Any]) -> bool:
            self._require_active(conn, claims.user_id)
            return store.delete_project(conn, project_id, event)

        if not self._db(work):
            raise ApiError("not_found", f"no project {project_id}")
        return Reply(200, {"deleted": project_id})

    def audit_request(self, caller: Caller, status: int) -> None:
        """AUDIT_ALL_REQUESTS=true: one row for every request not audited otherwise."""
        # The request has been answered already: its audit row is best effort.
        with contextlib.suppress(ApiError):
            self._audit(caller.event("request", None, None, {"status": status}))

    # -- helpers ---------------------------------------------------------------

    def _refuse_if_read_only(self) -> None:
        if self.config.read_only:
            raise ApiError("read_only", "the service is in read-only mode (READ_ONLY_MODE=true); "
                                        "writes are refused until it is lifted")

    @staticmethod
    def _require_active(conn: psycopg.Connection[Any], user_id: int) -> None:
        status = store.user_status(conn, user_id)
        if status != "active":
            raise ApiError("account_suspended", f"account {status or 'deleted'}; contact security")

    def _audit(self, event: AuditEvent) -> None:
        self._db(lambda conn: store.audit(conn, event))

    @staticmethod
    def _audit_read(conn: psycopg.Connection[Any], event: AuditEvent) -> None:
        # Reads are served from a standby too, which cannot record them.
        with contextlib.suppress(psycopg.errors.ReadOnlySqlTransaction):
            store.audit(conn, event)

    def _db(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        try:
            return self.db.run(work)
        except DatabaseUnavailable as exc:
            self.breaker.database_failed()
            raise ApiError("database_unavailable", f"database unavailable: {exc}") from exc


def _ms(start: float) -> float:
    return round((time.monotonic() - start) * 1000, 2)


def _int_param(query: Mapping[str, str], name: str, default: int, low: int, high: int | None) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError("bad_request", f"{name}={raw!r} is not an integer") from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ApiError("bad_request", f"{name} must be {bound}")
    return value
