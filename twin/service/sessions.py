"""Sessions in Redis: one key per session, expiring with the token.

``FLUSHDB`` on the session store therefore logs everybody out, which is the DR
procedures' way to revoke all tokens after a breach.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from drillbook.twin.service.breaker import CacheBreaker
from drillbook.twin.service.resp import Redis, RedisError

PREFIX = "session:"


class CacheUnavailable(Exception):
    """Redis did not answer in time or refused the command."""


@dataclass(frozen=True)
class Session:
    id: str
    user_id: int
    email: str
    ip_address: str | None
    created_at: float


class Sessions:
    def __init__(self, url: str, *, ttl_s: int, timeout: float, breaker: CacheBreaker | None = None) -> None:
        self.ttl_s = ttl_s
        self.breaker = breaker or CacheBreaker()
        # One attempt per call: the caller owns the timeout.
        self._client = Redis(url, timeout=timeout)

    def ping(self) -> bool:
        try:
            with self._guarded():
                return bool(self._client.ping())
        except RedisError as exc:
            raise CacheUnavailable(f"{type(exc).__name__}: {exc}") from exc

    def create(self, user_id: int, email: str, ip_address: str | None) -> Session:
        session = Session(secrets.token_urlsafe(18), user_id, email, ip_address, time.time())
        try:
            with self._guarded():
                self._client.set(PREFIX + session.id, json.dumps(asdict(session)), ex=self.ttl_s)
        except RedisError as exc:
            raise CacheUnavailable(f"{type(exc).__name__}: {exc}") from exc
        return session

    def get(self, session_id: str) -> Session | None:
        try:
            with self._guarded():
                raw: Any = self._client.get(PREFIX + session_id)
        except RedisError as exc:
            raise CacheUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if raw is None:
            return None
        data = json.loads(raw)
        return Session(str(data["id"]), int(data["user_id"]), str(data["email"]),
                       data.get("ip_address"), float(data["created_at"]))

    def heartbeat(self, key: str, value: str, ttl_s: int = 30) -> None:
        try:
            with self._guarded():
                self._client.set(key, value, ex=ttl_s)
        except RedisError as exc:
            raise CacheUnavailable(f"{type(exc).__name__}: {exc}") from exc

    @contextmanager
    def _guarded(self) -> Iterator[None]:
        if self.breaker.open:
            raise RedisError("circuit open: the cache breaker opened after a database error while "
                             "the cache was slow or failing, and stays open until the replica restarts")
        with self.breaker.call():
            yield

    def close(self) -> None:
        self._client.close()
