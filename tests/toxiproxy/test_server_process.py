"""``drillbook toxiproxy-server`` / ``python -m drillbook.harness.toxiproxy`` as its own process."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from drillbook.harness.toxiproxy import ToxiproxyClient
from drillbook.twin.postgres import free_port
from drillbook.twin.redis import RedisServer
from tests.toxiproxy.services import connect_fails, redis_client, wait_for


class ServerProcess:
    def __init__(self, *args: str) -> None:
        self.port = free_port()
        self.argv = [sys.executable, "-m", "drillbook.harness.toxiproxy", "--port", str(self.port), *args]
        self.proc = subprocess.Popen(
            self.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, text=True
        )
        self.api = ToxiproxyClient(f"http://127.0.0.1:{self.port}", timeout=2)

    def stop(self) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            _, err = self.proc.communicate(timeout=10)
        return self.proc.returncode, err


@pytest.fixture
def server() -> Iterator[ServerProcess]:
    process = ServerProcess()
    try:
        process.api.wait_ready(timeout=20)
        yield process
    finally:
        process.stop()


def test_serves_the_api_logs_calls_and_stops_cleanly_on_sigterm(
    server: ServerProcess, redis_server: RedisServer
) -> None:
    for name in ("app-db", "app-cache"):
        server.api.create_proxy(name, f"127.0.0.1:{redis_server.port}")
    proxy = server.api.proxy("app-cache")
    client = redis_client(proxy.listen_port)
    assert client.ping()
    server.api.add_toxic("app-cache", "latency", attributes={"latency": 100})
    start = time.monotonic()
    client.ping()
    assert time.monotonic() - start >= 0.09

    started = time.monotonic()
    code, err = server.stop()
    assert code == 0, err
    assert time.monotonic() - started < 5
    assert connect_fails(proxy.listen_port), "stopping closes the proxies' listeners"
    assert connect_fails(server.port)
    assert "API POST /proxies -> 201" in err
    assert "API POST /proxies/app-cache/toxics -> 200" in err
    assert "toxiproxy-server stopped" in err
    assert "Traceback" not in err


def test_a_taken_port_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "drillbook.harness.toxiproxy", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}: the port is already in use" in done.stderr
    assert "--port" in done.stderr
    assert "Traceback" not in done.stderr


def test_config_file_creates_proxies_at_start(tmp_path: Path, redis_server: RedisServer) -> None:
    config = tmp_path / "toxiproxy.json"
    config.write_text(
        json.dumps(
            [
                {"name": "app-cache", "listen": "127.0.0.1:0", "upstream": f"127.0.0.1:{redis_server.port}"},
            ]
        )
    )
    process = ServerProcess("--config", str(config))
    try:
        process.api.wait_ready(timeout=20)
        proxy = process.api.proxy("app-cache")
        assert redis_client(proxy.listen_port).ping()
    finally:
        code, err = process.stop()
    assert code == 0, err


def test_a_bad_config_file_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "toxiproxy.json"
    config.write_text('[{"name": "x"}]')
    done = subprocess.run(
        [sys.executable, "-m", "drillbook.harness.toxiproxy", "--port", "0", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "missing required field: upstream at proxy 1" in done.stderr
    assert "Traceback" not in done.stderr


def test_drillbook_cli_lists_the_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "drillbook", "toxiproxy-server", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0
    assert "--port" in done.stdout and "8474" in done.stdout


def _open_fds(pid: int) -> int:
    return sum(1 for _ in Path(f"/proc/{pid}/fd").iterdir())


def _threads(pid: int) -> int:
    return sum(1 for _ in Path(f"/proc/{pid}/task").iterdir())


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts descriptors through /proc (Linux)")
def test_many_connections_leave_no_socket_or_thread_behind(server: ServerProcess, echo_port: int) -> None:
    """Connections opened and closed every way (echoed, silent, reset, cut by a
    toxic, refused upstream, cut by a disable), short ones and ones long enough to be
    handed to relay threads, leave the server as they found it."""
    pid = server.proc.pid
    server.api.create_proxy("echo", f"127.0.0.1:{echo_port}")
    port = server.api.proxy("echo").listen_port
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    dead = server.api.create_proxy("dead", f"127.0.0.1:{dead_port}")

    def echoed(payload: bytes) -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(payload)
            received = b""
            while len(received) < len(payload) and (chunk := sock.recv(65536)):
                received += chunk
            assert received == payload

    def chatty() -> socket.socket:
        # More round trips than PROMOTE_AFTER: relay threads carry both directions.
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        for _ in range(12):
            sock.sendall(b"ping")
            assert sock.recv(4) == b"ping"
        return sock

    def reset() -> None:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"x" * 1000)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()

    def refused() -> None:
        with (
            socket.create_connection(("127.0.0.1", dead.listen_port), timeout=10) as sock,
            contextlib.suppress(ConnectionResetError),
        ):
            assert sock.recv(10) == b""

    echoed(b"warm-up")
    refused()
    fds, threads = _open_fds(pid), _threads(pid)

    for i in range(100):
        echoed(os.urandom(1 + i * 997))
        socket.create_connection(("127.0.0.1", port), timeout=10).close()
        reset()
        refused()
        if i % 10 == 0:
            chatty().close()
            sock = chatty()
            sock.sendall(b"x" * 1000)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
    server.api.add_toxic("echo", "limit_data", attributes={"bytes": 10})
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"y" * 100)
            while sock.recv(65536):
                pass
    server.api.remove_toxic("echo", "limit_data_downstream")
    held = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(40)]
    held += [chatty() for _ in range(10)]
    server.api.add_toxic("echo", "latency", attributes={"latency": 10})
    for sock in held:
        sock.sendall(b"z")
    server.api.disable("echo")
    for sock in held:
        sock.close()
    server.api.enable("echo")
    echoed(b"still serving")

    wait_for(lambda: _open_fds(pid) <= fds, timeout=10)
    wait_for(lambda: _threads(pid) <= threads, timeout=10)  # relay threads end with their connections
