"""The cache breaker of release 1.2.0 latches only when a database error meets a sick cache
(a slow or a failed cache call)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from drillbook.faults.network_reset import NetworkReset
from drillbook.harness.errors import InvalidDrillConfig
from drillbook.harness.toxiproxy import ToxiproxyClient, ToxiproxyServer
from drillbook.twin.redis import RedisServer
from drillbook.twin.service.breaker import SLOW_S, WINDOW_S, CacheBreaker
from drillbook.twin.service.monitor import PlatformMonitor
from drillbook.twin.service.sessions import CacheUnavailable, Sessions
from drillbook.twin.settings import LocalSettings


def _slow_call(breaker: CacheBreaker, started: threading.Event, release: threading.Event) -> None:
    with breaker.call():
        started.set()
        release.wait(5)


def test_a_database_error_alone_or_a_slow_cache_alone_does_not_open_it() -> None:
    breaker = CacheBreaker("latch")
    breaker.arm()
    breaker.database_failed()
    breaker.database_failed()
    assert not breaker.open
    with breaker.call():
        time.sleep(SLOW_S + 0.05)
    time.sleep(1.1)  # the slow call is forgotten after the window
    breaker.database_failed()
    breaker.database_failed()
    assert not breaker.open


@pytest.mark.parametrize(("mode", "armed", "opens"),
                         [("latch", True, True), ("latch", False, False), ("retry", True, False)])
def test_database_errors_during_a_slow_cache_call(mode: str, armed: bool, opens: bool) -> None:
    breaker = CacheBreaker(mode)
    if armed:
        breaker.arm()
    started, release = threading.Event(), threading.Event()
    thread = threading.Thread(target=_slow_call, args=(breaker, started, release))
    thread.start()
    started.wait(5)
    time.sleep(SLOW_S + 0.05)
    breaker.database_failed()
    assert not breaker.open  # one error may be a blip
    breaker.database_failed()
    release.set()
    thread.join(5)
    assert breaker.open is opens


def _failed_call(breaker: CacheBreaker) -> None:
    """A cache call that fails fast, as one over a reset or refused connection does."""
    with pytest.raises(ConnectionResetError), breaker.call():
        raise ConnectionResetError("Connection reset by peer")


@pytest.mark.parametrize(("mode", "armed", "opens"),
                         [("latch", True, True), ("latch", False, False), ("retry", True, False)])
def test_database_errors_after_a_failed_cache_call(mode: str, armed: bool, opens: bool) -> None:
    """A reset cache link makes calls fail fast rather than hang: that is a sick cache too,
    so whether the breaker opens does not hang on which of the two a reset happened to do."""
    breaker = CacheBreaker(mode)
    if armed:
        breaker.arm()
    _failed_call(breaker)
    breaker.database_failed()
    assert not breaker.open  # one error may be a blip
    _failed_call(breaker)
    breaker.database_failed()
    assert breaker.open is opens


def test_failed_cache_calls_alone_or_forgotten_do_not_open_it() -> None:
    breaker = CacheBreaker("latch")
    breaker.arm()
    for _ in range(5):
        _failed_call(breaker)
    assert not breaker.open  # a sick cache alone
    with breaker.call():
        pass  # a fast call that succeeds is no sign of sickness
    time.sleep(WINDOW_S + 0.1)  # the failures are forgotten after the window
    breaker.database_failed()
    with breaker.call():
        pass
    breaker.database_failed()
    assert not breaker.open


@pytest.fixture(scope="module")
def cache_link(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A real redis-server behind the toxiproxy server: (toxiproxy API, redis URL through it)."""
    redis = RedisServer(Path(tmp_path_factory.mktemp("breaker")) / "redis").start()
    proxy = ToxiproxyServer().start()
    try:
        port = ToxiproxyClient(proxy.url).create_proxy("app-cache", f"127.0.0.1:{redis.port}").listen_port
        yield proxy.url, f"redis://127.0.0.1:{port}/0"
    finally:
        proxy.stop()
        redis.stop()


@pytest.mark.parametrize("reset", [True, False])
def test_a_reset_cache_link_and_a_lost_database_open_it(cache_link: tuple[str, str], reset: bool) -> None:
    """The service's own Redis client over a reset link: its calls fail fast (no slow call at
    all), and two database errors then open the latch; with the link whole they do not."""
    api, url = cache_link
    breaker = CacheBreaker("latch")
    breaker.arm()
    sessions = Sessions(url, ttl_s=60, timeout=1.0, breaker=breaker)
    fault = NetworkReset(api, "app-cache", 0)
    if reset:
        fault.inject()
    try:
        for _ in range(2):
            start = time.monotonic()
            if reset:
                with pytest.raises(CacheUnavailable):
                    sessions.ping()
            else:
                assert sessions.ping()
            assert time.monotonic() - start < SLOW_S  # never slow: sick by failing only
            breaker.database_failed()
    finally:
        fault.revert()
        sessions.close()
    assert breaker.open is reset


def test_the_release_is_a_setting() -> None:
    assert LocalSettings().release == "1.0.0"
    assert LocalSettings()._with({"release": "1.2.0"}, where="t").release == "1.2.0"
    with pytest.raises(InvalidDrillConfig, match=r"release of the service \(1.0.0"):
        LocalSettings()._with({"release": "9.9"}, where="t")


@pytest.mark.parametrize(("cache_s", "opens"), [(SLOW_S + 0.3, True), (0.01, False)])
def test_the_monitor_latches_a_replica_that_gets_no_traffic(cache_s: float, opens: bool) -> None:
    """Release 1.2.0's monitor pings both on its own clock: a lost database meeting a slow
    cache opens the breaker whether or not requests arrive (so explore's replays agree)."""
    breaker = CacheBreaker("latch")
    breaker.arm()

    def database() -> None:
        breaker.database_failed()  # what Service._check_database does when the database is lost
        raise ConnectionError("database lost")

    def cache() -> None:
        with breaker.call():
            time.sleep(cache_s)

    monitor = PlatformMonitor(database, cache)
    monitor.start()
    try:
        deadline = time.monotonic() + 3.0
        while not breaker.open and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        monitor.stop()
    assert breaker.open is opens
