"""Toxics on a real Redis behind drillbook's toxiproxy server."""

from __future__ import annotations

import os
import socket
import statistics
import threading
import time

import pytest
import redis

from drillbook.harness.toxiproxy import ProxyInfo, ToxiproxyClient
from drillbook.twin.redis import RedisServer
from tests.toxiproxy.services import redis_client, samples, typical


def _ping(client: redis.Redis) -> float:
    start = time.monotonic()
    client.ping()
    return time.monotonic() - start


def _typical_ping(client: redis.Redis) -> float:
    return typical(samples(21, lambda: _ping(client)))


def test_latency_adds_the_configured_delay(api: ToxiproxyClient, redis_proxy: ProxyInfo) -> None:
    client = redis_client(redis_proxy.listen_port)
    _typical_ping(client)
    base = _typical_ping(client)
    # Upstream and downstream latencies add up on a round trip.
    api.add_toxic("app-cache", "latency", stream="upstream", attributes={"latency": 40})
    api.add_toxic("app-cache", "latency", stream="downstream", attributes={"latency": 60})
    added = _typical_ping(client) - base
    assert abs(added - 0.100) <= 0.010, f"added {added * 1000:.1f} ms, expected 100 ms"
    api.remove_toxic("app-cache", "latency_upstream")
    added = _typical_ping(client) - base
    assert abs(added - 0.060) <= 0.010, f"added {added * 1000:.1f} ms, expected 60 ms"
    client.close()


@pytest.mark.parametrize("rate_kb_s", [250, 1000])
def test_bandwidth_caps_throughput(api: ToxiproxyClient, redis_proxy: ProxyInfo, rate_kb_s: int) -> None:
    size = rate_kb_s * 1000  # one second's worth at the configured rate
    client = redis_client(redis_proxy.listen_port, timeout=10)
    client.set("blob", os.urandom(size))
    api.add_toxic("app-cache", "bandwidth", attributes={"rate": rate_kb_s})
    rates = []
    for _ in range(3):
        start = time.monotonic()
        assert len(client.get("blob") or b"") == size
        rates.append(size / 1000 / (time.monotonic() - start))
    measured = statistics.median(rates)
    assert abs(measured - rate_kb_s) <= 0.15 * rate_kb_s, f"{measured:.0f} KB/s for a cap of {rate_kb_s} KB/s"
    # Upstream is not capped: a large SET goes through at full speed.
    start = time.monotonic()
    client.set("other", os.urandom(size))
    assert time.monotonic() - start < 0.5
    client.close()


def test_reset_peer_resets(api: ToxiproxyClient, redis_proxy: ProxyInfo) -> None:
    api.add_toxic("app-cache", "reset_peer", attributes={"timeout": 0})
    with socket.create_connection(("127.0.0.1", redis_proxy.listen_port), timeout=5) as sock:
        sock.sendall(b"PING\r\n")
        with pytest.raises(ConnectionResetError):
            sock.recv(100)
    api.update_toxic("app-cache", "reset_peer_downstream", attributes={"timeout": 500})
    with socket.create_connection(("127.0.0.1", redis_proxy.listen_port), timeout=5) as sock:
        start = time.monotonic()
        sock.sendall(b"PING\r\n")
        with pytest.raises(ConnectionResetError):
            sock.recv(100)
        assert 0.45 <= time.monotonic() - start <= 2.0
    api.remove_toxic("app-cache", "reset_peer_downstream")
    assert redis_client(redis_proxy.listen_port).ping()


def test_timeout_stalls_then_closes(api: ToxiproxyClient, redis_proxy: ProxyInfo) -> None:
    client = redis_client(redis_proxy.listen_port, timeout=10)
    assert client.ping()
    api.add_toxic("app-cache", "timeout", attributes={"timeout": 800})
    start = time.monotonic()
    with pytest.raises(redis.ConnectionError):
        client.ping()
    elapsed = time.monotonic() - start
    assert 0.7 <= elapsed <= 2.5, f"closed after {elapsed:.2f}s, expected 0.8 s"


def test_fifty_concurrent_clients_each_receive_only_their_own_bytes(
    api: ToxiproxyClient, redis_proxy: ProxyInfo
) -> None:
    errors: list[str] = []
    start = threading.Barrier(50)

    def client(i: int) -> None:
        try:
            conn = redis_client(redis_proxy.listen_port, timeout=30)
            start.wait(10)
            for round_ in range(10):
                value = f"{i}-{round_}-".encode() + os.urandom(20_000 + i * 100)
                conn.set(f"key-{i}", value)
                if conn.get(f"key-{i}") != value:
                    errors.append(f"client {i} round {round_}: wrong bytes")
            conn.close()
        except Exception as exc:
            errors.append(f"client {i}: {exc!r}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    # Toxics added and removed while the connections are busy must not corrupt them.
    for _ in range(3):
        api.add_toxic(
            "app-cache", "slicer", attributes={"average_size": 500, "size_variation": 200}, name="s"
        )
        api.add_toxic(
            "app-cache", "latency", stream="upstream", attributes={"latency": 3, "jitter": 2}, name="l"
        )
        time.sleep(0.05)
        api.remove_toxic("app-cache", "s")
        api.remove_toxic("app-cache", "l")
    for t in threads:
        t.join(60)
    assert not errors, errors[:5]


def test_each_client_gets_its_own_upstream_connection(
    api: ToxiproxyClient, redis_proxy: ProxyInfo, redis_server: RedisServer
) -> None:
    direct = redis_client(redis_server.port)
    before = int(direct.info("clients")["connected_clients"])
    clients = [redis_client(redis_proxy.listen_port) for _ in range(5)]
    for c in clients:
        c.ping()
    assert int(direct.info("clients")["connected_clients"]) == before + 5
    names = {c.client_id() for c in clients}
    assert len(names) == 5
    for c in clients:
        c.close()
    direct.close()
