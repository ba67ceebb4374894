"""Toxiproxy-compatible server benchmarks (issue #4): figures printed, nothing asserted.

1. A PostgreSQL query loop (``SELECT 1`` on one connection), direct vs through the
   proxy: queries per second and median added latency per query, as a ratio.
2. A PostgreSQL bulk read (``SELECT repeat('x', 8 MB)``) direct vs proxied: MB/s.
3. New connections per second through the proxy: raw TCP connect + one echoed byte
   + close (to an echo server), and full PostgreSQL connects (startup + auth), each
   direct vs proxied.

The server runs as its own process, as the local environment runs it
(``--mode thread`` runs it in a thread of this process instead).

    python bench/bench_toxiproxy.py [--seconds 3] [--mode process|thread]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg

from drillbook.harness import pg
from drillbook.harness.toxiproxy import ToxiproxyClient, ToxiproxyServer
from drillbook.twin.postgres import PostgresCluster, free_port


@contextmanager
def toxiproxy(mode: str) -> Iterator[str]:
    if mode == "thread":
        with ToxiproxyServer() as server:
            yield server.url
        return
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "drillbook.harness.toxiproxy", "--port", str(port), "--log-level", "warning"],
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        ToxiproxyClient(url).wait_ready(20)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


ECHO_SERVER = """
import socketserver, sys
class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while data := self.request.recv(65536):
            self.request.sendall(data)
class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024
Server(("127.0.0.1", int(sys.argv[1])), Echo).serve_forever()
"""


@contextmanager
def echo_server() -> Iterator[int]:
    """A TCP echo server in its own process (in this one it would compete for the GIL)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", ECHO_SERVER, str(port)], start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield port
    finally:
        proc.kill()
        proc.wait(10)


def run_for(seconds: float, step: Callable[[], Any]) -> tuple[int, list[float]]:
    """Run ``step`` repeatedly for ``seconds``; returns the count and each call's duration."""
    durations: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        start = time.perf_counter()
        step()
        durations.append(time.perf_counter() - start)
    return len(durations), durations


def query_loop(dsn: str, seconds: float) -> tuple[float, float]:
    with pg.connect(dsn, prepare_threshold=None) as conn:
        run_for(0.3, lambda: conn.execute("SELECT 1").fetchall())  # warm up
        count, durations = run_for(seconds, lambda: conn.execute("SELECT 1").fetchall())
    return count / sum(durations), statistics.median(durations)


def bulk_read(dsn: str, seconds: float) -> float:
    size = 8 * 1024 * 1024
    with pg.connect(dsn, timeout=60) as conn:
        count, durations = run_for(
            seconds, lambda: conn.execute("SELECT repeat('x', %s)", (size,)).fetchall()
        )
    return count * size / sum(durations) / 1e6


def pg_connects(dsn: str, seconds: float) -> float:
    def once() -> None:
        with psycopg.connect(dsn, connect_timeout=5, autocommit=True) as conn:
            conn.execute("SELECT 1")

    count, durations = run_for(seconds, once)
    return count / sum(durations)


def tcp_connects(port: int, seconds: float) -> float:
    def once() -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"x")
            if sock.recv(1) != b"x":
                raise RuntimeError("echo lost a byte")

    count, durations = run_for(seconds, once)
    return count / sum(durations)


def row(what: str, direct: float, proxied: float, unit: str, fmt: str = "10.1f") -> None:
    print(f"  {what:<38} {direct:{fmt}} {proxied:{fmt}}  {unit:<9} proxied/direct {proxied / direct:6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each measurement")
    parser.add_argument("--mode", choices=("process", "thread"), default="process")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-toxiproxy-") as tmp:
        cluster = PostgresCluster(Path(tmp) / "data").init()
        cluster.start()
        try:
            cluster.wait_ready()
            with toxiproxy(args.mode) as url, echo_server() as echo_port:
                api = ToxiproxyClient(url)
                db = api.create_proxy("app-db", f"127.0.0.1:{cluster.port}")
                tcp = api.create_proxy("echo", f"127.0.0.1:{echo_port}")
                direct_dsn = cluster.dsn()
                proxied_dsn = f"postgresql://postgres@127.0.0.1:{db.listen_port}/postgres"
                s = args.seconds
                print(
                    f"toxiproxy-compatible server ({args.mode} mode), no toxics, {s:g} s per figure, "
                    f"{os.cpu_count()} CPUs"
                )
                print(f"  {'':<38} {'direct':>10} {'proxied':>10}")
                qd, ld = query_loop(direct_dsn, s)
                qp, lp = query_loop(proxied_dsn, s)
                row("PostgreSQL SELECT 1 loop", qd, qp, "queries/s")
                row("  median latency per query", ld * 1e6, lp * 1e6, "us", "10.0f")
                print(f"  {'  added latency per query (median)':<38} {(lp - ld) * 1e6:10.0f} us")
                row(
                    "PostgreSQL bulk read (8 MB rows)",
                    bulk_read(direct_dsn, s),
                    bulk_read(proxied_dsn, s),
                    "MB/s",
                )
                row(
                    "new TCP connections (+1 echoed byte)",
                    tcp_connects(echo_port, s),
                    tcp_connects(tcp.listen_port, s),
                    "conn/s",
                )
                row(
                    "new PostgreSQL connections",
                    pg_connects(direct_dsn, s),
                    pg_connects(proxied_dsn, s),
                    "conn/s",
                )
        finally:
            cluster.stop("immediate")


if __name__ == "__main__":
    main()
