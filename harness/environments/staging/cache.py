"""The ``cache`` role in staging: Redis by URL (an environment variable or a secret)."""

from __future__ import annotations

from typing import Any

from drillbook.harness.environments.staging.secretref import SecretReader, SecretRef


class RedisCache:
    def __init__(
        self, url: SecretRef, *, read_secret: SecretReader | None = None, timeout: float = 2.0
    ) -> None:
        self.ref = url
        self.read_secret = read_secret
        self.timeout = timeout

    def url(self) -> str:
        return self.ref.resolve(self.read_secret)

    def _client(self, timeout: float | None = None) -> Any:
        import redis

        t = self.timeout if timeout is None else timeout
        return redis.Redis.from_url(self.url(), socket_timeout=t, socket_connect_timeout=t)

    def ping(self, timeout: float = 1.0) -> bool:
        import redis

        try:
            return bool(self._client(timeout).ping())
        except (redis.RedisError, OSError):
            return False

    def flush(self) -> None:
        self._client().flushdb()

    def dbsize(self) -> int:
        return int(self._client().dbsize())
