"""Toxics and proxy behaviour over raw TCP, through a real echo server."""

from __future__ import annotations

import contextlib
import os
import random
import socket
import threading
import time

import pytest

from drillbook.harness.toxiproxy import ProxyInfo, ToxiproxyClient
from tests.toxiproxy.services import connect_fails


def _connect(proxy: ProxyInfo, timeout: float = 10.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", proxy.listen_port), timeout=timeout)


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(min(65536, size - len(data)))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def _recv_all(sock: socket.socket) -> bytes:
    data = bytearray()
    while chunk := sock.recv(65536):
        data += chunk
    return bytes(data)


def _echo_seconds(proxy: ProxyInfo, payload: bytes = b"ping") -> float:
    with _connect(proxy) as sock:
        start = time.monotonic()
        sock.sendall(payload)
        assert _recv_exactly(sock, len(payload)) == payload
        return time.monotonic() - start


def test_no_byte_lost_duplicated_or_reordered_while_toxics_change(
    api: ToxiproxyClient, echo_proxy: ProxyInfo
) -> None:
    """Stream 4 MB through the echo server while toxics are added, updated and
    removed on both streams: every byte comes back once, in order."""
    payload = os.urandom(4 * 1024 * 1024)
    received = bytearray()
    stop = threading.Event()
    changes = [0]

    def churn() -> None:
        rng = random.Random(7)
        toxics = [
            ("latency", {"latency": 2, "jitter": 2}),
            ("slicer", {"average_size": 300, "size_variation": 100, "delay": 5}),
            ("bandwidth", {"rate": 20_000}),
            ("slow_close", {"delay": 1}),
        ]
        n = 0
        while not stop.is_set():
            kind, attributes = rng.choice(toxics)
            stream = rng.choice(["upstream", "downstream"])
            name = f"t{n}"
            n += 1
            api.add_toxic("echo", kind, stream=stream, attributes=attributes, name=name)
            time.sleep(rng.uniform(0, 0.02))
            if rng.random() < 0.3:
                api.update_toxic("echo", name, attributes=attributes, toxicity=rng.random())
            api.remove_toxic("echo", name)
            changes[0] += 1

    with _connect(echo_proxy, timeout=30) as sock:
        changer = threading.Thread(target=churn)
        changer.start()

        def read() -> None:
            while len(received) < len(payload) and (chunk := sock.recv(65536)):
                received.extend(chunk)

        reader = threading.Thread(target=read)
        reader.start()
        try:
            # Paced, so that the transfer spans many toxic changes.
            for i in range(0, len(payload), 50_000):
                sock.sendall(payload[i : i + 50_000])
                time.sleep(0.02)
            reader.join(60)
        finally:
            stop.set()
            changer.join(10)
    assert changes[0] >= 10, f"only {changes[0]} toxics came and went during the transfer"
    assert len(received) == len(payload)
    assert bytes(received) == payload


def test_removing_a_toxic_under_backpressure_keeps_the_order(
    api: ToxiproxyClient, echo_proxy: ProxyInfo
) -> None:
    """The client stops reading, so data piles up in the proxy behind a toxic;
    the toxic is removed; every byte still arrives once and in order."""
    payload = os.urandom(16 * 1024 * 1024)
    # A toxic without a buffer of its own (unlike latency), so the reader is held back too.
    api.add_toxic("echo", "bandwidth", attributes={"rate": 1_000_000})
    with socket.socket() as sock:
        # A small receive buffer, so the backlog builds up in the proxy, not in the kernel.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
        sock.settimeout(30)
        sock.connect(("127.0.0.1", echo_proxy.listen_port))
        sender = threading.Thread(target=sock.sendall, args=(payload,))
        sender.start()
        time.sleep(0.5)  # socket buffers and the proxy's queues fill up
        api.remove_toxic("echo", "bandwidth_downstream")
        received = _recv_exactly(sock, len(payload))
        sender.join(30)
    assert received == payload


def test_slicer_delivers_every_byte_in_small_delayed_slices(
    api: ToxiproxyClient, echo_proxy: ProxyInfo
) -> None:
    payload = os.urandom(20_000)
    api.add_toxic("echo", "slicer", attributes={"average_size": 200, "size_variation": 50, "delay": 2000})
    with _connect(echo_proxy) as sock:
        start = time.monotonic()
        sock.sendall(payload)
        assert _recv_exactly(sock, len(payload)) == payload
        elapsed = time.monotonic() - start
    # About 100 slices, each followed by 2 ms.
    assert elapsed >= 0.1, f"{elapsed:.3f}s: slices were not delayed"


def test_limit_data_closes_after_the_limit(api: ToxiproxyClient, echo_proxy: ProxyInfo) -> None:
    api.add_toxic("echo", "limit_data", attributes={"bytes": 1000})
    payload = os.urandom(5000)
    with _connect(echo_proxy) as sock:
        sock.sendall(payload)
        assert _recv_all(sock) == payload[:1000]


def test_slow_close_delays_the_close(api: ToxiproxyClient, echo_proxy: ProxyInfo) -> None:
    def close_seconds() -> float:
        with _connect(echo_proxy) as sock:
            sock.sendall(b"bye")
            assert _recv_exactly(sock, 3) == b"bye"
            start = time.monotonic()
            sock.shutdown(socket.SHUT_WR)
            assert _recv_all(sock) == b""
            return time.monotonic() - start

    assert close_seconds() < 0.2
    api.add_toxic("echo", "slow_close", attributes={"delay": 500})
    assert 0.45 <= close_seconds() <= 2.0


def test_toxicity_picks_connections(api: ToxiproxyClient, echo_proxy: ProxyInfo) -> None:
    api.add_toxic("echo", "latency", attributes={"latency": 300}, toxicity=0.0)
    assert _echo_seconds(echo_proxy) < 0.2
    api.update_toxic("echo", "latency_downstream", toxicity=1.0)
    assert _echo_seconds(echo_proxy) >= 0.29
    api.update_toxic("echo", "latency_downstream", toxicity=0.5)
    delayed = sum(_echo_seconds(echo_proxy) >= 0.29 for _ in range(20))
    assert 2 <= delayed <= 18, f"{delayed}/20 connections delayed at toxicity 0.5"


def test_updates_and_removals_take_effect_on_open_connections(
    api: ToxiproxyClient, echo_proxy: ProxyInfo
) -> None:
    with _connect(echo_proxy) as sock:

        def round_trip() -> float:
            start = time.monotonic()
            sock.sendall(b"x")
            assert _recv_exactly(sock, 1) == b"x"
            return time.monotonic() - start

        assert round_trip() < 0.1
        api.add_toxic("echo", "latency", attributes={"latency": 200})
        assert 0.19 <= round_trip() < 0.4
        api.update_toxic("echo", "latency_downstream", attributes={"latency": 400})
        assert 0.39 <= round_trip() < 0.6
        api.remove_toxic("echo", "latency_downstream")
        assert round_trip() < 0.1


def test_removing_a_latency_toxic_releases_held_bytes_at_once(
    api: ToxiproxyClient, echo_proxy: ProxyInfo
) -> None:
    api.add_toxic("echo", "latency", attributes={"latency": 5000})
    with _connect(echo_proxy) as sock:
        sock.sendall(b"held")
        time.sleep(0.2)
        start = time.monotonic()
        api.remove_toxic("echo", "latency_downstream")
        assert _recv_exactly(sock, 4) == b"held"
        assert time.monotonic() - start < 1.0


def test_disable_cuts_open_connections_and_closes_the_listener(
    api: ToxiproxyClient, echo_proxy: ProxyInfo
) -> None:
    with _connect(echo_proxy) as sock:
        sock.sendall(b"a")
        assert _recv_exactly(sock, 1) == b"a"
        api.disable("echo")
        assert connect_fails(echo_proxy.listen_port)
        try:
            sock.sendall(b"b")
            assert sock.recv(10) == b""
        except OSError:
            pass  # reset: cut just as well
    api.enable("echo")
    assert _echo_seconds(echo_proxy) < 0.5


def test_delete_cuts_open_connections(api: ToxiproxyClient, echo_proxy: ProxyInfo) -> None:
    with _connect(echo_proxy) as sock:
        api.delete_proxy("echo")
        with contextlib.suppress(OSError):
            assert sock.recv(10) == b""
    assert connect_fails(echo_proxy.listen_port)


def test_reset_closes_connections_held_by_a_timeout(api: ToxiproxyClient, echo_proxy: ProxyInfo) -> None:
    api.add_toxic("echo", "timeout", attributes={"timeout": 0})
    with _connect(echo_proxy) as sock:
        sock.sendall(b"lost")
        time.sleep(0.2)
        api.reset()
        assert _recv_all(sock) == b"", "the bytes the timeout dropped never arrive"
    assert _echo_seconds(echo_proxy) < 0.5
    assert api.toxics("echo") == []


def test_an_unreachable_upstream_closes_the_client(api: ToxiproxyClient) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    proxy = api.create_proxy("dead", f"127.0.0.1:{dead_port}")
    with _connect(proxy, timeout=5) as sock:
        start = time.monotonic()
        with contextlib.suppress(ConnectionResetError):
            assert sock.recv(10) == b""
        assert time.monotonic() - start < 2


def test_changing_the_upstream_moves_new_connections(
    api: ToxiproxyClient, echo_proxy: ProxyInfo, echo_port: int
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    updated = api.update_proxy("echo", upstream=f"127.0.0.1:{dead_port}")
    assert updated.enabled and updated.listen == echo_proxy.listen
    with _connect(echo_proxy, timeout=5) as sock, contextlib.suppress(ConnectionResetError):
        assert sock.recv(10) == b""
    api.update_proxy("echo", upstream=f"127.0.0.1:{echo_port}")
    assert _echo_seconds(echo_proxy) < 0.5


@pytest.mark.parametrize("stream", ["upstream", "downstream"])
def test_timeout_drops_data_and_closes(api: ToxiproxyClient, echo_proxy: ProxyInfo, stream: str) -> None:
    api.add_toxic("echo", "timeout", stream=stream, attributes={"timeout": 300})
    with _connect(echo_proxy) as sock:
        start = time.monotonic()
        sock.sendall(b"dropped")
        with contextlib.suppress(ConnectionResetError):
            assert _recv_all(sock) == b""
        assert 0.25 <= time.monotonic() - start <= 2.0


def test_toxics_act_at_once_on_a_connection_open_before_them(
    api: ToxiproxyClient, echo_proxy: ProxyInfo
) -> None:
    """A connection relayed without toxics (the plain relay) goes through a toxic
    from the next byte after it is added, and back to the plain relay after it is
    removed, with nothing lost on the way."""
    with _connect(echo_proxy) as sock:

        def round_trip(payload: bytes = b"x") -> float:
            start = time.monotonic()
            sock.sendall(payload)
            assert _recv_exactly(sock, len(payload)) == payload
            return time.monotonic() - start

        assert min(round_trip() for _ in range(5)) < 0.1
        api.add_toxic("echo", "latency", stream="upstream", attributes={"latency": 300})
        assert round_trip() >= 0.29
        api.remove_toxic("echo", "latency_upstream")
        assert min(round_trip() for _ in range(3)) < 0.1

        api.add_toxic("echo", "bandwidth", attributes={"rate": 100})  # 100 KB/s
        assert round_trip(os.urandom(50_000)) >= 0.4
        api.remove_toxic("echo", "bandwidth_downstream")
        assert round_trip(os.urandom(50_000)) < 0.3

        api.add_toxic("echo", "timeout", attributes={"timeout": 0})
        sock.sendall(b"swallowed")
        sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            sock.recv(100)
        api.remove_toxic("echo", "timeout_downstream")
        sock.settimeout(5)
        with contextlib.suppress(ConnectionResetError):
            assert _recv_all(sock) == b"", "removing a timeout closes the connections it held"


def test_a_slow_reader_holds_the_plain_relay_back_without_losing_a_byte(
    api: ToxiproxyClient, echo_proxy: ProxyInfo
) -> None:
    """With no toxic, a client that stops reading fills the socket buffers on the
    way (16 MB is more than the kernel's buffers hold at their defaults here, so
    the proxy has to stop reading the other side and start again); everything
    arrives, once and in order, when the client reads again."""
    payload = os.urandom(16 * 1024 * 1024)
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
        sock.settimeout(30)
        sock.connect(("127.0.0.1", echo_proxy.listen_port))
        sender = threading.Thread(target=sock.sendall, args=(payload,))
        sender.start()
        time.sleep(0.5)
        received = _recv_exactly(sock, len(payload))
        sender.join(30)
    assert received == payload


def test_an_upstream_named_by_host_name_is_resolved_at_each_dial(
    api: ToxiproxyClient, echo_port: int
) -> None:
    """``localhost`` may resolve to ::1 first, where nothing listens: the next address is tried."""
    proxy = api.create_proxy("named", f"localhost:{echo_port}")
    for _ in range(3):
        assert _echo_seconds(proxy) < 2.0
