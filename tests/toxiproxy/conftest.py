"""Fixtures: drillbook's toxiproxy server, real services behind it, and an echo server."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from drillbook.harness.toxiproxy import ProxyInfo, ToxiproxyClient, ToxiproxyServer
from drillbook.twin.postgres import PostgresCluster
from drillbook.twin.redis import RedisServer


@pytest.fixture
def toxiproxy() -> Iterator[ToxiproxyServer]:
    server = ToxiproxyServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def api(toxiproxy: ToxiproxyServer) -> ToxiproxyClient:
    return ToxiproxyClient(toxiproxy.url)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_proxy(api: ToxiproxyClient, redis_server: RedisServer) -> ProxyInfo:
    return api.create_proxy("app-cache", f"127.0.0.1:{redis_server.port}")


@pytest.fixture
def pg_proxy(api: ToxiproxyClient, pg_cluster: PostgresCluster) -> ProxyInfo:
    return api.create_proxy("app-db", f"127.0.0.1:{pg_cluster.port}")


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock: socket.socket = self.request
        try:
            while data := sock.recv(65536):
                sock.sendall(data)
        except OSError:
            pass


class _EchoServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture
def echo_port() -> Iterator[int]:
    """A TCP server that sends back every byte it receives, and closes when the client does."""
    server = _EchoServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def echo_proxy(api: ToxiproxyClient, echo_port: int) -> ProxyInfo:
    return api.create_proxy("echo", f"127.0.0.1:{echo_port}")
