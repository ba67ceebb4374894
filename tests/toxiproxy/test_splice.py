"""The kernel splice (splice.py): busy toxic-free connections skip the proxy, every byte in order.

The programs count what a client's (or server's) ``send()`` passes on to the proxy;
what the kernel redirects is not counted. So a small count after a long exchange
shows the kernel carried it, and a count that grows shows the proxy did.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from drillbook.harness.toxiproxy import ProxyInfo, ToxiproxyClient, bpf, splice
from drillbook.harness.toxiproxy.link import PROMOTE_AFTER
from drillbook.twin.postgres import free_port
from tests.toxiproxy.services import wait_for

SPLICER = splice.splicer()
pytestmark = pytest.mark.skipif(
    SPLICER is None, reason="no kernel splice here (needs root, Linux, cgroup v2)"
)


def _passed(sock: socket.socket) -> int:
    """Bytes ``sock``'s sends handed to the proxy rather than to the kernel's redirect."""
    assert SPLICER is not None
    key = splice._key(sock.getsockname()[:2], sock.getpeername()[:2])
    value = SPLICER.bpf.lookup(SPLICER.passed, key, 8)
    assert value is not None, "the client's socket was not taken by the sock_ops program"
    return int(struct.unpack("=Q", value)[0])


def _echo(sock: socket.socket, payload: bytes) -> float:
    start = time.monotonic()
    sock.sendall(payload)
    received = b""
    while len(received) < len(payload):
        chunk = sock.recv(65536)
        assert chunk, "the proxy closed the connection"
        received += chunk
    assert received == payload
    return time.monotonic() - start


def _busy(sock: socket.socket) -> None:
    """Enough round trips for the proxy to hand the connection to the kernel."""
    for i in range(PROMOTE_AFTER + 2):
        _echo(sock, b"warm-up %d" % i)


@pytest.fixture
def recording_echo() -> Iterator[tuple[int, list[socket.socket]]]:
    """An echo server that keeps its side of each connection, to look it up in the maps."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def echo(conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := conn.recv(65536):
                conn.sendall(data)

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = listener.accept()
                accepted.append(conn)
                threading.Thread(target=echo, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield int(listener.getsockname()[1]), accepted
    finally:
        listener.close()
        for conn in accepted:
            conn.close()


def test_a_busy_connection_is_carried_by_the_kernel_both_ways(
    api: ToxiproxyClient, recording_echo: tuple[int, list[socket.socket]]
) -> None:
    port, accepted = recording_echo
    proxy = api.create_proxy("echo", f"127.0.0.1:{port}")
    with socket.create_connection(("127.0.0.1", proxy.listen_port), timeout=10) as sock:
        _busy(sock)
        (server_side,) = accepted
        before = _passed(sock), _passed(server_side)
        for i in range(500):
            _echo(sock, os.urandom(1000) + b"%d" % i)
        assert (_passed(sock), _passed(server_side)) == before, "the proxy was handed bytes"


def test_a_toxic_acts_on_the_next_bytes_of_a_spliced_connection_and_the_kernel_takes_it_back(
    api: ToxiproxyClient, echo_proxy: ProxyInfo
) -> None:
    with socket.create_connection(("127.0.0.1", echo_proxy.listen_port), timeout=10) as sock:
        _busy(sock)
        assert _echo(sock, b"fast") < 0.4
        api.add_toxic("echo", "latency", stream="upstream", attributes={"latency": 500})
        before = _passed(sock)
        assert 0.49 <= _echo(sock, b"through the toxic") < 2.0
        assert _passed(sock) > before, "the bytes after the toxic went through the proxy"
        api.remove_toxic("echo", "latency_upstream")
        assert _echo(sock, b"toxic gone") < 0.4
        _busy(sock)
        settled = _passed(sock)
        for i in range(100):
            _echo(sock, b"kernel again %d" % i)
        assert _passed(sock) == settled, "the kernel took the connection back"


def test_bytes_keep_their_order_while_toxics_come_and_go_on_spliced_connections(
    api: ToxiproxyClient, echo_proxy: ProxyInfo
) -> None:
    """Three connections stream 8 MB each while a toxic is added and removed again and
    again on both directions: every byte comes back once, in order."""
    payloads = [os.urandom(8 * 1024 * 1024) for _ in range(3)]
    results: list[bytes] = [b""] * len(payloads)
    errors: list[BaseException] = []

    def stream(index: int, sock: socket.socket) -> None:
        payload, received = payloads[index], bytearray()
        try:
            step = 64 * 1024
            for sent in range(0, len(payload), step):
                sock.sendall(payload[sent : sent + step])
                while len(received) < sent:
                    chunk = sock.recv(65536)
                    assert chunk
                    received += chunk
            while len(received) < len(payload):
                chunk = sock.recv(65536)
                assert chunk
                received += chunk
            results[index] = bytes(received)
        except BaseException as exc:  # reported by the test's thread
            errors.append(exc)

    socks = [socket.create_connection(("127.0.0.1", echo_proxy.listen_port), timeout=30) for _ in payloads]
    with contextlib.ExitStack() as stack:
        for sock in socks:
            stack.enter_context(sock)
            _busy(sock)
        threads = [threading.Thread(target=stream, args=(i, s)) for i, s in enumerate(socks)]
        for thread in threads:
            thread.start()
        toxics = [
            ("slicer", {"average_size": 100, "delay": 10}),
            ("latency", {"latency": 5}),
            ("bandwidth", {"rate": 20_000}),
        ]
        rounds = 0
        while any(t.is_alive() for t in threads):
            kind, attributes = toxics[rounds % len(toxics)]
            stream_name = ("upstream", "downstream")[rounds % 2]
            api.add_toxic("echo", kind, stream=stream_name, attributes=attributes)
            time.sleep(0.005)
            api.remove_toxic("echo", f"{kind}_{stream_name}")
            time.sleep(0.005)
            rounds += 1
        for thread in threads:
            thread.join()
    assert not errors, errors
    assert rounds > 3
    assert results == payloads


@pytest.fixture
def stalling_port() -> Iterator[tuple[int, threading.Event, list[bytes]]]:
    """A server that echoes until it reads b"stall", then reads nothing until told to,
    then reads the rest and keeps it."""
    listener = socket.create_server(("127.0.0.1", 0))
    go_on = threading.Event()
    kept: list[bytes] = []

    def serve() -> None:
        with contextlib.suppress(OSError):
            conn, _ = listener.accept()
            with conn:
                while (data := conn.recv(65536)) and b"stall" not in data:
                    conn.sendall(data)
                # The bytes after the marker may come in the same read: they are kept.
                kept.append(data.partition(b"stall")[2])
                go_on.wait(30)
                while data := conn.recv(1 << 20):
                    kept.append(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1]), go_on, kept
    finally:
        go_on.set()
        listener.close()
        thread.join(10)


def test_a_slow_reader_holds_a_non_blocking_sender_back(
    api: ToxiproxyClient, stalling_port: tuple[int, threading.Event, list[bytes]]
) -> None:
    """A redirected send that finds the destination full fails with EAGAIN while the
    sender's socket polls writable: the proxy must take such a direction back, or a
    non-blocking sender spins (120,000 wake-ups a second here without the guard)."""
    port, go_on, kept = stalling_port
    proxy = api.create_proxy("stall", f"127.0.0.1:{port}")
    sock = socket.create_connection(("127.0.0.1", proxy.listen_port), timeout=10)
    with sock:
        _busy(sock)
        sock.sendall(b"stall")
        sock.setblocking(False)
        payload = os.urandom(64 * 1024)
        ring = payload * 2  # a send may take part of a chunk: the next starts where it stopped
        sent, wakeups = 0, 0
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            at = sent % len(payload)
            try:
                sent += sock.send(ring[at : at + len(payload)])
            except BlockingIOError:
                wakeups += 1
                select.select([], [sock], [], max(0.0, deadline - time.monotonic()))
        assert sent > 0
        assert wakeups < 5000, f"the sender spun: {wakeups} wake-ups in a second"
        go_on.set()
        sock.setblocking(True)
        sock.shutdown(socket.SHUT_WR)
        wait_for(lambda: sum(map(len, kept)) >= sent, timeout=20)
    stream = b"".join(kept)
    assert len(stream) == sent
    assert stream == (payload * (sent // len(payload) + 1))[:sent]


def _bpf_ids(pid: int) -> set[tuple[str, int]]:
    """The BPF programs and links a process holds, from its descriptors' fdinfo."""
    found = set()
    for info in Path(f"/proc/{pid}/fdinfo").iterdir():
        with contextlib.suppress(OSError):
            for line in info.read_text().splitlines():
                name, _, value = line.partition(":")
                if name in ("prog_id", "link_id"):
                    found.add((name, int(value)))
    return found


def _exists(kind: str, ident: int) -> bool:
    get_fd_by_id = {"prog_id": 13, "link_id": 30}[kind]
    handle = bpf.Bpf()
    try:
        fd = handle.call(get_fd_by_id, struct.pack("=I", ident))
    except OSError:
        return False
    os.close(fd)
    return True


def test_the_kernel_programs_go_with_the_server_process_however_it_ends(echo_port: int) -> None:
    """SIGKILL leaves no program behind: the sock_ops program hangs on a BPF link that
    only the server's descriptor holds."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "drillbook.harness.toxiproxy", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        api = ToxiproxyClient(f"http://127.0.0.1:{port}")
        wait_for(lambda: _reachable(api), timeout=20)
        proxy = api.create_proxy("echo", f"127.0.0.1:{echo_port}")
        with socket.create_connection(("127.0.0.1", proxy.listen_port), timeout=10) as sock:
            _busy(sock)
            held = wait_for(lambda: _bpf_ids(proc.pid), timeout=5)
            assert {kind for kind, _ in held} == {"prog_id", "link_id"}
            assert all(_exists(kind, ident) for kind, ident in held)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            wait_for(lambda: not any(_exists(kind, ident) for kind, ident in held), timeout=10)
            # The client's connection is cut, as it is when a proxy dies, and nothing hangs.
            sock.settimeout(5)
            with contextlib.suppress(OSError):
                sock.sendall(b"after")
                assert sock.recv(100) == b""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        assert proc.stderr is not None
        proc.stderr.close()


def _reachable(api: ToxiproxyClient) -> bool:
    try:
        api.version()
    except Exception:  # not up yet
        return False
    return True


def test_no_count_outlives_its_connection(echo_proxy: ProxyInfo) -> None:
    """The program's count of a socket goes when the socket closes (a full map would
    stop the splice, and a leak would fill it)."""
    assert SPLICER is not None
    keys = []
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", echo_proxy.listen_port), timeout=10) as sock:
            _busy(sock)
            keys.append(splice._key(sock.getsockname()[:2], sock.getpeername()[:2]))
            assert SPLICER.bpf.lookup(SPLICER.passed, keys[-1], 8) is not None
    wait_for(lambda: all(SPLICER.bpf.lookup(SPLICER.passed, key, 8) is None for key in keys), timeout=10)
