"""The ``cache`` role over a Redis server: the platform's session store."""

from __future__ import annotations

import redis

from drillbook.harness.errors import DrillbookError


class CacheError(DrillbookError):
    pass


class LocalCache:
    """Redis on loopback. Every call has a connect and a read timeout."""

    def __init__(self, host: str, port: int, *, db: int = 0, timeout: float = 2.0) -> None:
        self.host = host
        self.port = port
        self.db = db
        self.timeout = timeout

    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/{self.db}"

    def _client(self, timeout: float | None = None) -> redis.Redis:
        t = self.timeout if timeout is None else timeout
        return redis.Redis(host=self.host, port=self.port, db=self.db, socket_timeout=t,
                           socket_connect_timeout=t)

    def ping(self, timeout: float = 1.0) -> bool:
        client = self._client(timeout)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def flush(self) -> None:
        """Drop every key of the database (revokes every session)."""
        self._call("FLUSHDB")

    def dbsize(self) -> int:
        value = self._call("DBSIZE")
        return int(value) if isinstance(value, int | str | bytes) else 0

    def _call(self, *command: str) -> object:
        client = self._client()
        try:
            return client.execute_command(*command)  # type: ignore[no-untyped-call]
        except redis.RedisError as exc:
            raise CacheError(f"redis at {self.host}:{self.port}: {' '.join(command)} failed: {exc}") from exc
        finally:
            client.close()
