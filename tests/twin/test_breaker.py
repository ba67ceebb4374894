"""The cache breaker of release 1.2.0 latches only when a database error meets a slow cache."""

from __future__ import annotations

import threading
import time

import pytest

from drillbook.harness.errors import InvalidDrillConfig
from drillbook.twin.service.breaker import SLOW_S, CacheBreaker
from drillbook.twin.service.monitor import PlatformMonitor
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
