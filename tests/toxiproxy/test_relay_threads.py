"""Toxic-free connections handed to relay threads, and taken back when a toxic comes."""

from __future__ import annotations

import _thread
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from drillbook.harness.toxiproxy import ProxyInfo, ToxiproxyClient
from drillbook.harness.toxiproxy.link import PROMOTE_AFTER
from tests.toxiproxy.services import wait_for

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/task").is_dir(), reason="counts this process's threads through /proc (Linux)"
)


@pytest.fixture(autouse=True)
def _no_splice(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about the user-space relay: where the kernel splice can run
    (test_splice.py), it would carry the busy connections instead."""
    monkeypatch.setenv("DRILLBOOK_TOXIPROXY_SPLICE", "0")


def _threads() -> int:
    return sum(1 for _ in Path("/proc/self/task").iterdir())


def _settled_threads() -> int:
    """This process's threads once those of earlier tests (an echo server's handler
    finishing, a relay thread ending) are gone: the count unchanged for 0.3 s."""
    counts = [_threads()]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        time.sleep(0.05)
        counts.append(_threads())
        if len(counts) >= 6 and len(set(counts[-6:])) == 1:
            break
    return counts[-1]


def _round_trips(sock: socket.socket, count: int, payload: bytes = b"x") -> float:
    """``count`` echoes of ``payload``; the slowest one's seconds."""
    slowest = 0.0
    for _ in range(count):
        start = time.monotonic()
        sock.sendall(payload)
        received = b""
        while len(received) < len(payload):
            chunk = sock.recv(65536)
            assert chunk, "the proxy closed the connection"
            received += chunk
        assert received == payload
        slowest = max(slowest, time.monotonic() - start)
    return slowest


def _relayed_by_threads(base: int) -> Callable[[], bool]:
    # The echo server's thread for the connection, and one relay thread per direction.
    return lambda: _threads() == base + 3


@pytest.mark.parametrize("stream", ["downstream", "upstream"])
def test_a_toxic_takes_a_connection_from_its_relay_threads_and_gives_it_back(
    api: ToxiproxyClient, echo_proxy: ProxyInfo, stream: str
) -> None:
    """A chatty connection moves to relay threads; a latency toxic added on it
    delays the very next bytes; once it is removed the connection is fast and on
    relay threads again; when it closes the threads end."""
    base = _settled_threads()
    with socket.create_connection(("127.0.0.1", echo_proxy.listen_port), timeout=10) as sock:
        _round_trips(sock, 1)
        assert _threads() == base + 1, "a new connection is relayed without threads"
        _round_trips(sock, PROMOTE_AFTER + 2)
        wait_for(_relayed_by_threads(base), timeout=5)

        # Bounds far from each other, so that a loaded machine cannot blur them.
        api.add_toxic("echo", "latency", stream=stream, attributes={"latency": 500})
        start = time.monotonic()
        _round_trips(sock, 1)
        assert 0.49 <= time.monotonic() - start < 2.0, "the next bytes go through the toxic"
        # The toxic's direction left its thread; the other direction keeps its own.
        wait_for(lambda: _threads() == base + 2, timeout=5)
        assert 0.49 <= _round_trips(sock, 2) < 2.0

        api.remove_toxic("echo", f"latency_{stream}")
        assert _round_trips(sock, PROMOTE_AFTER + 2) < 0.4
        wait_for(_relayed_by_threads(base), timeout=5)
        assert _round_trips(sock, 20) < 0.4
    wait_for(lambda: _threads() <= base, timeout=5)


def test_bytes_keep_their_order_when_a_toxic_interrupts_a_relay_thread_mid_stream(
    api: ToxiproxyClient, echo_proxy: ProxyInfo
) -> None:
    """4 MB echoed while a toxic is added and removed again and again, each time on
    relay threads carrying the stream at full speed: every byte comes back once, in order."""
    payload = os.urandom(4 * 1024 * 1024)
    with socket.create_connection(("127.0.0.1", echo_proxy.listen_port), timeout=30) as sock:
        _round_trips(sock, PROMOTE_AFTER + 2)
        received = bytearray()
        sent = 0
        step = 256 * 1024
        toxic = False
        while sent < len(payload):
            sock.sendall(payload[sent : sent + step])
            sent += step
            if toxic:
                api.remove_toxic("echo", "bandwidth_downstream")
            else:
                api.add_toxic("echo", "bandwidth", attributes={"rate": 50_000})
            toxic = not toxic
            while len(received) < sent - step // 2:
                chunk = sock.recv(65536)
                assert chunk
                received += chunk
        if toxic:
            api.remove_toxic("echo", "bandwidth_downstream")
        while len(received) < len(payload):
            chunk = sock.recv(65536)
            assert chunk
            received += chunk
    assert bytes(received) == payload


def test_the_end_of_a_stream_relayed_by_a_thread_closes_the_connection(
    api: ToxiproxyClient, echo_proxy: ProxyInfo
) -> None:
    """The client's end of stream, read by the upstream direction's relay thread,
    closes the connection (as toxiproxy does, both ways: what the server sends after
    it is not delivered): the client sees the end of the stream; the threads end."""
    base = _settled_threads()
    sock = socket.create_connection(("127.0.0.1", echo_proxy.listen_port), timeout=10)
    with sock:
        _round_trips(sock, PROMOTE_AFTER + 2)
        wait_for(_relayed_by_threads(base), timeout=5)
        sock.shutdown(socket.SHUT_WR)
        with contextlib.suppress(ConnectionResetError):
            assert sock.recv(65536) == b""
    wait_for(lambda: _threads() <= base, timeout=5)


def test_a_timeout_toxic_holds_a_connection_taken_from_its_relay_threads(
    api: ToxiproxyClient, echo_proxy: ProxyInfo
) -> None:
    """A timeout added to a connection on relay threads swallows the next bytes;
    removing it closes the connection (toxiproxy's rule), and the threads end."""
    base = _settled_threads()
    with socket.create_connection(("127.0.0.1", echo_proxy.listen_port), timeout=10) as sock:
        _round_trips(sock, PROMOTE_AFTER + 2)
        wait_for(_relayed_by_threads(base), timeout=5)
        api.add_toxic("echo", "timeout", attributes={"timeout": 0})
        sock.sendall(b"swallowed")
        sock.settimeout(0.5)
        with pytest.raises(TimeoutError):
            sock.recv(100)
        api.remove_toxic("echo", "timeout_downstream")
        sock.settimeout(5)
        with contextlib.suppress(ConnectionResetError):
            assert sock.recv(100) == b""
    wait_for(lambda: _threads() <= base, timeout=5)


def test_disabling_a_proxy_cuts_connections_relayed_by_threads(
    api: ToxiproxyClient, echo_proxy: ProxyInfo
) -> None:
    base = _settled_threads()
    socks = [socket.create_connection(("127.0.0.1", echo_proxy.listen_port), timeout=10) for _ in range(5)]
    try:
        for sock in socks:
            _round_trips(sock, PROMOTE_AFTER + 2)
        wait_for(lambda: _threads() == base + 15, timeout=5)
        api.disable("echo")
        for sock in socks:
            with contextlib.suppress(ConnectionResetError):
                assert sock.recv(100) == b""
    finally:
        for sock in socks:
            sock.close()
    wait_for(lambda: _threads() <= base, timeout=5)


def test_where_no_thread_can_be_started_a_busy_connection_stays_on_the_event_loop(
    redis_proxy: ProxyInfo, caplog: pytest.LogCaptureFixture
) -> None:
    """Relay threads are an optimisation: where none can be started (here every new
    thread's stack is too large to allocate), the connection goes on as before."""
    caplog.set_level(logging.DEBUG, logger="drillbook.toxiproxy")  # warned once per process
    base = _settled_threads()
    previous = _thread.stack_size(2**44)
    try:
        with socket.create_connection(("127.0.0.1", redis_proxy.listen_port), timeout=10) as sock:
            for _ in range(3 * PROMOTE_AFTER):
                sock.sendall(b"PING\r\n")
                assert sock.recv(100) == b"+PONG\r\n"
            assert _threads() == base
    finally:
        _thread.stack_size(previous)
    assert any("cannot start a relay thread" in r.getMessage() for r in caplog.records)
