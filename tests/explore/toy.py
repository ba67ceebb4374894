"""A small platform of the tests' own: a service with a store and a cache behind toxiproxy.

The service checks its store and its cache through their links (``toy-store``,
``toy-cache``) all the time, as a readiness probe would, and ``/health`` answers 200 when
the last check saw both answer. With ``weak=True`` it has the weakness the
search must find: a store failure while a cache call is slow latches it unhealthy for good
(until ``reset``). Neither fault alone does it.
"""

from __future__ import annotations

import http.server
import socket
import socketserver
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from drillbook.faults.network_latency import NetworkLatency
from drillbook.faults.network_partition import NetworkPartition
from drillbook.harness.explore import FaultChoice, FaultSpace, Target
from drillbook.harness.ledger.memory import InMemoryLedgerStore
from drillbook.harness.probes import Probe, http_probe
from drillbook.harness.toxiproxy import ToxiproxyClient, ToxiproxyServer

LINKS = ("toy-store", "toy-cache")
#: How long the cache call must have been going for a store failure to latch the weak
#: platform. Every latency the search can draw (``MIN_LATENCY_MS`` and up) is well above it,
#: so that a schedule found under load fails as surely when replayed on a quiet machine
#: (the shrinker drives the latency down: with draws from 100 ms, a CI run under load found
#: 115 ms, and its drill file passed when replayed).
SLOW_S = 0.12
MIN_LATENCY_MS = 200


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        try:
            while data := self.request.recv(1024):
                self.request.sendall(data)
        except OSError:
            pass


class _Threaded(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def _ping(port: int, timeout: float) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(b"ping")
            return sock.recv(4) == b"ping"
    except OSError:
        return False


@dataclass
class ToyPlatform:
    weak: bool
    servers: list[socketserver.BaseServer] = field(default_factory=list)
    latched: bool = False
    ports: dict[str, int] = field(default_factory=dict)
    toxiproxy: ToxiproxyServer | None = None
    ok: bool = False
    stopping: threading.Event = field(default_factory=threading.Event)

    def start(self) -> ToyPlatform:
        self.toxiproxy = ToxiproxyServer().start()
        client = ToxiproxyClient(self.toxiproxy.url)
        for link in LINKS:
            echo = _Threaded(("127.0.0.1", 0), _Echo)
            self._serve(echo)
            self.ports[link] = client.create_proxy(link, f"127.0.0.1:{echo.server_address[1]}").listen_port
        platform = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                healthy = platform.ok
                self.send_response(200 if healthy else 503)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        web.daemon_threads = True
        self._serve(web)
        self.url = f"http://127.0.0.1:{web.server_address[1]}"
        self.ok = self.healthy()
        threading.Thread(target=self._checking, daemon=True).start()
        return self

    def _checking(self) -> None:
        while not self.stopping.wait(0.02):
            self.ok = self.healthy()

    def _serve(self, server: socketserver.BaseServer) -> None:
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.servers.append(server)

    def healthy(self) -> bool:
        if self.latched:
            return False
        slow: list[float] = []

        def cache() -> None:
            start = time.monotonic()
            ok = _ping(self.ports["toy-cache"], 0.5)
            slow.append(time.monotonic() - start if ok else 0.0)

        thread = threading.Thread(target=cache)
        thread.start()
        time.sleep(SLOW_S)  # the store is asked once the cache call has been going a while
        store_ok = _ping(self.ports["toy-store"], 0.3)
        cache_slow = thread.is_alive()
        thread.join()
        if self.weak and not store_ok and cache_slow:
            self.latched = True
        return store_ok and bool(slow) and slow[0] > 0

    def reset(self) -> None:
        self.latched = False

    def stop(self) -> None:
        self.stopping.set()
        for server in self.servers:
            server.shutdown()
            server.server_close()
        if self.toxiproxy is not None:
            self.toxiproxy.stop()


def toy_target(platform: ToyPlatform) -> Target:
    assert platform.toxiproxy is not None
    api = platform.toxiproxy.url
    choices = []
    for link in LINKS:
        choices.append(
            FaultChoice(f"network_partition {link}", lambda p, link=link: NetworkPartition(api, link))
        )
        choices.append(
            FaultChoice(
                f"network_latency {link}",
                lambda p, link=link: NetworkLatency(api, link, p["latency_ms"]),
                st.fixed_dictionaries({"latency_ms": st.integers(MIN_LATENCY_MS, 600)}),
            )
        )
    space = FaultSpace(tuple(choices), max_faults=3, max_concurrent=2, horizon_s=0.6, min_duration_s=0.3,
                       max_duration_s=0.8)

    def steady() -> list[Probe]:
        return [http_probe(platform.url + "/health", name="toy health", timeout=2.0)]

    return Target("toy", space, steady, ledger=InMemoryLedgerStore, rto_s=1.5, reset=platform.reset,
                  factory="tests.explore.toy:toy_target", factory_fixtures=("toy_platform",))
