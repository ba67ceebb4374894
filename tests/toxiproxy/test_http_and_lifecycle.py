"""The API server's HTTP edges and the in-process server's lifecycle."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from drillbook.harness.toxiproxy import ServerStartError, ToxiproxyClient, ToxiproxyError, ToxiproxyServer
from tests.toxiproxy.services import connect_fails


def _raw(server: ToxiproxyServer, request: bytes) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(request)
        data = bytearray()
        while chunk := sock.recv(65536):
            data += chunk
    return bytes(data)


def test_http_edges(toxiproxy: ToxiproxyServer) -> None:
    assert _raw(toxiproxy, b"NONSENSE\r\n\r\n").startswith(b"HTTP/1.1 400")
    assert _raw(toxiproxy, b"GET /nowhere HTTP/1.1\r\nConnection: close\r\n\r\n").startswith(b"HTTP/1.1 404")
    assert _raw(toxiproxy, b"PUT /proxies HTTP/1.1\r\nConnection: close\r\n\r\n").startswith(b"HTTP/1.1 405")
    browser = b"GET /proxies HTTP/1.1\r\nUser-Agent: Mozilla/5.0\r\nConnection: close\r\n\r\n"
    assert _raw(toxiproxy, browser).startswith(b"HTTP/1.1 403"), "browsers are refused, as toxiproxy does"
    parts = [b'{"name":"c","upstream":"127.0.0.1:1","lis', b'ten":"127.0.0.1:0"}']
    body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
    chunked = b"POST /proxies HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + body
    assert _raw(toxiproxy, chunked).startswith(b"HTTP/1.1 201")
    empty = b"POST /proxies/c HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    answer = _raw(toxiproxy, empty)
    assert answer.startswith(b"HTTP/1.1 400") and b"bad request body: EOF" in answer
    patch = b'PATCH /proxies/c HTTP/1.1\r\nContent-Length: 17\r\nConnection: close\r\n\r\n{"enabled":false}'
    assert _raw(toxiproxy, patch).startswith(b"HTTP/1.1 200")


def test_keep_alive_serves_several_requests_on_one_connection(toxiproxy: ToxiproxyServer) -> None:
    request = b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection((toxiproxy.host, toxiproxy.port), timeout=5) as sock:
        sock.sendall(request * 3)
        data = bytearray()
        deadline = time.monotonic() + 5
        while data.count(b"HTTP/1.1 200") < 3 and time.monotonic() < deadline:
            data += sock.recv(65536)
    assert data.count(b"HTTP/1.1 200") == 3


def test_stop_cuts_held_connections_and_frees_every_port(echo_port: int) -> None:
    server = ToxiproxyServer().start()
    api = ToxiproxyClient(server.url)
    proxy = api.create_proxy("echo", f"127.0.0.1:{echo_port}")
    api.add_toxic("echo", "timeout", attributes={"timeout": 0})
    held = socket.create_connection(("127.0.0.1", proxy.listen_port), timeout=10)
    held.sendall(b"x")
    outcome: list[bytes | OSError] = []

    def wait() -> None:
        try:
            outcome.append(held.recv(10))
        except OSError as exc:
            outcome.append(exc)

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.2)
    start = time.monotonic()
    server.stop()
    assert time.monotonic() - start < 3
    waiter.join(5)
    assert (outcome and outcome[0] in (b"",)) or isinstance(outcome[0], OSError)
    held.close()
    assert connect_fails(proxy.listen_port)
    assert connect_fails(server.port)
    server.stop()  # idempotent


def test_a_taken_port_fails_start_clearly() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(ServerStartError, match="already in use"):
            ToxiproxyServer(port=port).start()


def test_listen_address_in_use_is_the_api_500(api: ToxiproxyClient) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(ToxiproxyError, match="address already in use") as info:
            api.create_proxy("busy", "127.0.0.1:1", listen=f"127.0.0.1:{port}")
    assert info.value.status == 500
    assert "busy" not in api.proxies()
