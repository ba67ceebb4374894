"""Toxics on a real PostgreSQL behind drillbook's toxiproxy server."""

from __future__ import annotations

import secrets
import statistics
import threading
import time
from typing import Any

import psycopg
import pytest

from drillbook.faults.network_partition import NetworkPartition
from drillbook.harness import pg
from drillbook.harness.toxiproxy import ProxyInfo, ToxiproxyClient, ToxiproxyServer
from tests.toxiproxy.services import samples, typical

SAMPLES = 21


def _dsn(proxy: ProxyInfo) -> str:
    return f"postgresql://postgres@127.0.0.1:{proxy.listen_port}/postgres"


def _connect(proxy: ProxyInfo, timeout: float = 5.0) -> psycopg.Connection[Any]:
    # No auto-prepare: preparing adds a round trip to one execution in six.
    return pg.connect(_dsn(proxy), timeout, prepare_threshold=None)


def _round_trip(conn: psycopg.Connection[Any]) -> float:
    start = time.monotonic()
    pg.execute(conn, "SELECT 1", timeout=5)
    return time.monotonic() - start


def _typical_round_trip(conn: psycopg.Connection[Any]) -> float:
    return typical(samples(SAMPLES, lambda: _round_trip(conn)))


def test_latency_adds_the_configured_delay(api: ToxiproxyClient, pg_proxy: ProxyInfo) -> None:
    with _connect(pg_proxy) as conn:
        _typical_round_trip(conn)  # warm up
        base = _typical_round_trip(conn)
        for latency_ms in (50, 150):
            api.add_toxic("app-db", "latency", attributes={"latency": latency_ms}, name="lat")
            added = _typical_round_trip(conn) - base
            api.remove_toxic("app-db", "lat")
            assert abs(added - latency_ms / 1000) <= 0.010, (
                f"latency {latency_ms} ms added {added * 1000:.1f} ms (base {base * 1000:.1f} ms)"
            )
        # Removed, the round trip is back to the base.
        assert _typical_round_trip(conn) - base < 0.010


def test_latency_jitter_spreads_round_trips(api: ToxiproxyClient, pg_proxy: ProxyInfo) -> None:
    with _connect(pg_proxy) as conn:
        api.add_toxic("app-db", "latency", attributes={"latency": 100, "jitter": 40})
        trips = [_round_trip(conn) for _ in range(20)]
    assert min(trips) >= 0.060 - 0.002
    assert statistics.median(trips) <= 0.140 + 0.010
    assert statistics.pstdev(trips) > 0.008, f"no spread: {trips}"


def test_partition_makes_connects_fail_then_heals(toxiproxy: ToxiproxyServer, pg_proxy: ProxyInfo) -> None:
    conn = _connect(pg_proxy)
    fault = NetworkPartition(toxiproxy.url, "app-db", mode="down")
    fault.inject()
    try:
        with pytest.raises(psycopg.OperationalError):
            pg.execute(conn, "SELECT 1", timeout=3)  # the open connection was cut
        start = time.monotonic()
        with pytest.raises(psycopg.OperationalError):
            _connect(pg_proxy, timeout=3)
        assert time.monotonic() - start < 2, "a refused connect fails at once"
    finally:
        fault.revert()
        conn.close()
    with _connect(pg_proxy) as healed:
        assert pg.execute(healed, "SELECT 1") == [(1,)]


def test_timeout_stalls_then_closes(api: ToxiproxyClient, pg_proxy: ProxyInfo) -> None:
    with _connect(pg_proxy, timeout=10) as conn:
        api.add_toxic("app-db", "timeout", attributes={"timeout": 1000})
        start = time.monotonic()
        with pytest.raises(psycopg.OperationalError):
            pg.execute(conn, "SELECT 1", timeout=10)
        elapsed = time.monotonic() - start
    assert 0.9 <= elapsed <= 3.0, f"closed after {elapsed:.2f}s, expected about 1 s"
    # A new connection stalls too, then is closed: connecting fails after about the timeout.
    start = time.monotonic()
    with pytest.raises(psycopg.OperationalError):
        _connect(pg_proxy, timeout=10)
    assert 0.9 <= time.monotonic() - start <= 3.0


def test_timeout_zero_holds_until_removed(api: ToxiproxyClient, pg_proxy: ProxyInfo) -> None:
    conn = _connect(pg_proxy, timeout=10)
    api.add_toxic("app-db", "timeout", stream="upstream", attributes={"timeout": 0})
    failed = threading.Event()

    def query() -> None:
        try:
            pg.execute(conn, "SELECT 1", timeout=20)
        except psycopg.OperationalError:
            failed.set()

    worker = threading.Thread(target=query)
    worker.start()
    time.sleep(1.5)
    assert worker.is_alive(), "a timeout of 0 must hold the query, not end it"
    api.remove_toxic("app-db", "timeout_upstream")
    worker.join(5)
    assert not worker.is_alive() and failed.is_set(), "removing the toxic closes the held connection"
    conn.close()
    with _connect(pg_proxy) as fresh:
        assert pg.execute(fresh, "SELECT 1") == [(1,)]


def test_reset_peer_resets(api: ToxiproxyClient, pg_proxy: ProxyInfo) -> None:
    with _connect(pg_proxy) as conn:
        api.add_toxic("app-db", "reset_peer", attributes={"timeout": 0})
        with pytest.raises(psycopg.OperationalError):
            pg.execute(conn, "SELECT 1", timeout=5)
        with pytest.raises(psycopg.OperationalError):
            _connect(pg_proxy, timeout=5)
    api.remove_toxic("app-db", "reset_peer_downstream")
    with _connect(pg_proxy) as fresh:
        assert pg.execute(fresh, "SELECT 1") == [(1,)]


def test_fifty_concurrent_clients_get_only_their_own_rows(api: ToxiproxyClient, pg_proxy: ProxyInfo) -> None:
    errors: list[str] = []

    def client(i: int) -> None:
        try:
            with _connect(pg_proxy, timeout=30) as conn:
                for _ in range(5):
                    token = f"{i}:" + secrets.token_hex(2048)
                    rows = pg.execute(conn, "SELECT %s::text, md5(%s::text)", (token, token), timeout=30)
                    if rows[0][0] != token:
                        errors.append(f"client {i} got another value")
        except Exception as exc:
            errors.append(f"client {i}: {exc!r}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    # Toxics come and go while the 50 connections are open.
    api.add_toxic("app-db", "slicer", attributes={"average_size": 100, "size_variation": 50}, name="s")
    api.add_toxic("app-db", "latency", stream="upstream", attributes={"latency": 5, "jitter": 5}, name="l")
    api.remove_toxic("app-db", "s")
    for t in threads:
        t.join(60)
    assert not errors, errors[:5]
