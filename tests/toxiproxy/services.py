"""Real services behind drillbook's toxiproxy server, for tests and contract cases."""

from __future__ import annotations

import socket
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from drillbook.harness.toxiproxy import ProxyInfo, ToxiproxyClient, ToxiproxyServer
from drillbook.twin.redis import RedisServer


def redis_client(port: int, timeout: float = 2.0) -> redis.Redis:
    """A client that fails fast: no retries, so a test sees each failure as it happens."""
    return redis.Redis(
        host="127.0.0.1",
        port=port,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )


@dataclass
class ProxiedRedis:
    backend: RedisServer
    server: ToxiproxyServer
    api: ToxiproxyClient
    proxy: ProxyInfo

    @property
    def port(self) -> int:
        return self.proxy.listen_port

    def client(self, timeout: float = 2.0) -> redis.Redis:
        return redis_client(self.port, timeout)

    def ping(self, timeout: float = 1.0) -> bool:
        """PING over a new connection through the proxy."""
        client = self.client(timeout)
        try:
            return bool(client.ping())
        except (redis.RedisError, OSError):
            return False
        finally:
            client.close()

    def ping_seconds(self, timeout: float = 5.0) -> float:
        """How long a PING takes over a new connection (connect included)."""
        client = self.client(timeout)
        try:
            start = time.monotonic()
            client.ping()
            return time.monotonic() - start
        finally:
            client.close()

    def stop(self) -> None:
        try:
            self.server.stop()
        finally:
            self.backend.stop()


def start_proxied_redis(workdir: Path, name: str = "app-cache") -> ProxiedRedis:
    server = RedisServer(workdir / "redis").start()
    try:
        toxiproxy = ToxiproxyServer().start()
    except BaseException:
        server.stop()
        raise
    api = ToxiproxyClient(toxiproxy.url)
    proxy = api.create_proxy(name, f"127.0.0.1:{server.port}")
    return ProxiedRedis(server, toxiproxy, api, proxy)


def proxied_redis(request: pytest.FixtureRequest) -> ProxiedRedis:
    """A Redis behind a fresh toxiproxy server, stopped when the test ends."""
    tmp: Path = request.getfixturevalue("tmp_path")
    service = start_proxied_redis(tmp)
    request.addfinalizer(service.stop)
    return service


def connect_fails(port: int, timeout: float = 0.5) -> bool:
    """True if a TCP connect to ``port`` is refused or times out."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return False
    except OSError:
        return True


def samples(count: int, measure: Callable[[], float]) -> list[float]:
    return [measure() for _ in range(count)]


def typical(values: list[float]) -> float:
    """The typical duration of a round trip on a busy machine: the lower quartile.

    A loaded machine only ever adds time to a sample (a thread woken late), never
    removes any, and it adds it to a timer's wake-up far more than to a socket's.
    The median of round trips through a latency toxic is therefore biased up by
    the load; the lower quartile still sits on what the toxic itself adds.
    """
    return statistics.quantiles(values, n=4)[0]


def wait_for(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {check}")
        time.sleep(interval)
