"""Toxiproxy-compatible server benchmarks (issues #4 and #16): figures printed, nothing asserted.

Side by side in one run, each as a ratio to direct: no proxy, drillbook's server
(its own process, no toxics, as the local environment runs it), optionally the same
server at another git revision (``--baseline REF``), HAProxy and socat (Debian's
``haproxy`` and ``socat``; "not installed" where missing). Each figure is the
median of several rounds, with the lowest and highest; within a round the targets
take turns every few calls, in a new shuffled order each time, so that a machine
whose load changes while it runs (other work on a shared machine) weighs on all of
them alike.

1. A PostgreSQL ``SELECT 1`` loop on one connection: queries/s and the median added
   latency per query (goal: drillbook >= 0.8x direct).
2. A PostgreSQL bulk read (``SELECT repeat('x', 8 MB)``): MB/s.
3. New TCP connections per second: connect, one byte echoed, close (goal: drillbook
   >= 0.8x HAProxy's rate).
4. New PostgreSQL connections per second (startup and authentication).

    python bench/bench_toxiproxy.py [--seconds 2] [--rounds 5] [--baseline main]

``--baseline REF`` copies ``harness/toxiproxy`` at REF (``git archive``) into a
temporary directory under another module name and runs it beside the current code.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg

from drillbook.harness import pg
from drillbook.harness.toxiproxy import ToxiproxyClient
from drillbook.twin.postgres import PostgresCluster, free_port

REPO = Path(__file__).resolve().parents[1]
GOAL = 0.8


@dataclass
class Target:
    """A way to reach PostgreSQL and the echo server: directly or through a proxy."""

    name: str
    pg_port: int | None = None
    echo_port: int | None = None
    missing: str = ""
    #: The proxy's process, whose CPU time is counted; None: none, or not one process for all.
    pid: int | None = None
    figures: dict[str, list[float]] = field(default_factory=dict)

    def record(self, what: str, value: float) -> None:
        self.figures.setdefault(what, []).append(value)

    def cpu_seconds(self) -> float:
        """CPU time of the proxy's process so far, from the scheduler's nanosecond counters."""
        if self.pid is None:
            return 0.0
        total = 0
        for task in Path(f"/proc/{self.pid}/task").iterdir():
            with contextlib.suppress(OSError):
                total += int((task / "schedstat").read_text().split()[0])
        return total / 1e9


@contextmanager
def process(argv: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def wait_listening(port: int, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} is not listening on port {port} after {timeout:g}s") from None
            time.sleep(0.05)


def toxiproxy_target(
    stack: ExitStack, name: str, argv: Callable[[int], list[str]], tmp: Path, upstreams: tuple[int, int]
) -> Target:
    """A toxiproxy-compatible server started by ``argv(port)``, with a proxy to each upstream."""
    port = free_port()
    server = stack.enter_context(process(argv(port), tmp / f"{name}.log"))
    api = ToxiproxyClient(f"http://127.0.0.1:{port}")
    api.wait_ready(20)
    db = api.create_proxy("app-db", f"127.0.0.1:{upstreams[0]}")
    echo = api.create_proxy("echo", f"127.0.0.1:{upstreams[1]}")
    return Target(name, db.listen_port, echo.listen_port, pid=server.pid)


def baseline_package(ref: str, tmp: Path) -> Path:
    """``harness/toxiproxy`` at git ``ref``, importable as ``toxiproxy_baseline`` from the returned dir."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", ref, "harness/toxiproxy"], capture_output=True, timeout=60
    )
    if archive.returncode != 0:
        raise SystemExit(f"--baseline {ref}: git archive failed: {archive.stderr.decode().strip()}")
    root = tmp / "baseline"
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(root, filter="data")
    package = root / "toxiproxy_baseline"
    (root / "harness" / "toxiproxy").rename(package)
    for source in package.rglob("*.py"):
        source.write_text(
            re.sub(r"drillbook\.harness\.toxiproxy\b", "toxiproxy_baseline", source.read_text())
        )
    return root


def haproxy_target(stack: ExitStack, tmp: Path, upstreams: tuple[int, int]) -> Target:
    if shutil.which("haproxy") is None:
        return Target("haproxy", missing="not installed")
    ports = free_port(), free_port()
    config = tmp / "haproxy.cfg"
    sections = "".join(
        f"listen l{i}\n  bind 127.0.0.1:{port}\n  server s{i} 127.0.0.1:{upstream}\n"
        for i, (port, upstream) in enumerate(zip(ports, upstreams, strict=True))
    )
    config.write_text(
        "global\n  maxconn 4096\n"
        "defaults\n  mode tcp\n  timeout connect 10s\n  timeout client 1h\n  timeout server 1h\n" + sections
    )
    haproxy = stack.enter_context(process(["haproxy", "-db", "-f", str(config)], tmp / "haproxy.log"))
    for port in ports:
        wait_listening(port, "haproxy")
    return Target("haproxy", *ports, pid=haproxy.pid)


def socat_target(stack: ExitStack, tmp: Path, upstreams: tuple[int, int]) -> Target:
    if shutil.which("socat") is None:
        return Target("socat", missing="not installed")
    ports = free_port(), free_port()
    for port, upstream in zip(ports, upstreams, strict=True):
        listen = f"TCP-LISTEN:{port},bind=127.0.0.1,fork,reuseaddr,backlog=1024"
        stack.enter_context(
            process(["socat", listen, f"TCP:127.0.0.1:{upstream}"], tmp / f"socat-{port}.log")
        )
        wait_listening(port, "socat")
    return Target("socat", *ports)


ECHO_SERVER = """
import selectors, socket, sys
sel = selectors.DefaultSelector()
server = socket.create_server(("127.0.0.1", int(sys.argv[1])), backlog=1024)
server.setblocking(False)
sel.register(server, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        if key.fileobj is server:
            try:
                conn, _ = server.accept()
            except BlockingIOError:
                continue
            conn.setblocking(False)
            sel.register(conn, selectors.EVENT_READ)
            continue
        try:
            data = key.fileobj.recv(65536)
        except OSError:
            data = b""
        if data:
            key.fileobj.setblocking(True)
            key.fileobj.sendall(data)
            key.fileobj.setblocking(False)
        else:
            sel.unregister(key.fileobj)
            key.fileobj.close()
"""


@dataclass
class Calls:
    """What a target's calls took: each one's duration, and its proxy's CPU time in all."""

    durations: list[float] = field(default_factory=list)
    cpu: float = 0.0

    def per_second(self) -> float:
        return len(self.durations) / sum(self.durations)

    def cpu_per_call(self) -> float:
        return self.cpu / len(self.durations)


def interleaved(
    targets: list[Target], step: Callable[[Target], Callable[[], Any]], batch: int, seconds: float
) -> dict[str, Calls]:
    """``batch`` calls to one target after another, in a new shuffled order each time,
    for ``seconds`` per target in all. So fine an interleaving puts every target under
    the same machine load, whatever else runs."""
    steps = {target.name: step(target) for target in targets}
    calls = {target.name: Calls() for target in targets}
    deadline = time.monotonic() + seconds * len(targets)
    while time.monotonic() < deadline:
        order = list(targets)
        random.shuffle(order)
        for target in order:
            call, spent = steps[target.name], calls[target.name]
            cpu = target.cpu_seconds()
            for _ in range(batch):
                start = time.perf_counter()
                call()
                spent.durations.append(time.perf_counter() - start)
            spent.cpu += target.cpu_seconds() - cpu
    return calls


def tcp_connect_once(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"x")
        if sock.recv(1) != b"x":
            raise RuntimeError("the echo lost a byte")


def measure_round(
    targets: list[Target],
    conns: dict[str, psycopg.Connection[Any]],
    dsn: Callable[[int], str],
    seconds: float,
) -> None:
    size = 8 * 1024 * 1024

    def select1(target: Target) -> Callable[[], Any]:
        return lambda: conns[target.name].execute("SELECT 1").fetchall()

    def bulk(target: Target) -> Callable[[], Any]:
        return lambda: conns[target.name].execute("SELECT repeat('x', %s)", (size,)).fetchall()

    def tcp_connect(target: Target) -> Callable[[], Any]:
        assert target.echo_port is not None
        return functools.partial(tcp_connect_once, target.echo_port)

    def pg_connect(target: Target) -> Callable[[], Any]:
        assert target.pg_port is not None
        url = dsn(target.pg_port)

        def once() -> None:
            with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
                conn.execute("SELECT 1")

        return once

    interleaved(targets, select1, 20, 0.1)  # warm up
    calls = interleaved(targets, select1, 50, seconds)
    for target in targets:
        target.record("select1", calls[target.name].per_second())
        target.record("latency", statistics.median(calls[target.name].durations))
        target.record("select1_cpu", calls[target.name].cpu_per_call())
    calls = interleaved(targets, bulk, 1, seconds)
    for target in targets:
        target.record("bulk", calls[target.name].per_second() * size / 1e6)
    calls = interleaved(targets, tcp_connect, 20, seconds)
    for target in targets:
        target.record("tcp_connects", calls[target.name].per_second())
        target.record("tcp_connects_cpu", calls[target.name].cpu_per_call())
    calls = interleaved(targets, pg_connect, 2, seconds)
    for target in targets:
        target.record("pg_connects", calls[target.name].per_second())


def _median(target: Target, what: str) -> float:
    return statistics.median(target.figures[what])


def report(targets: list[Target], rounds: int) -> None:
    direct, by_name = targets[0], {t.name: t for t in targets}
    haproxy = by_name.get("haproxy")
    if haproxy is not None and haproxy.missing:
        haproxy = None
    # (figure, title, unit, scale, format, how it compares)
    tables = [
        ("select1", "PostgreSQL SELECT 1 loop", "queries/s", 1.0, "{:9.0f}", "ratio"),
        ("latency", "  median latency per query", "us", 1e6, "{:9.0f}", "added"),
        ("select1_cpu", "  the proxy's CPU time per query", "us", 1e6, "{:9.1f}", "cpu"),
        ("bulk", "PostgreSQL bulk read (8 MB rows)", "MB/s", 1.0, "{:9.1f}", "ratio"),
        ("tcp_connects", "new TCP connections (+1 echoed byte)", "conn/s", 1.0, "{:9.0f}", "ratio"),
        ("tcp_connects_cpu", "  the proxy's CPU time per connection", "us", 1e6, "{:9.1f}", "cpu"),
        ("pg_connects", "new PostgreSQL connections", "conn/s", 1.0, "{:9.1f}", "ratio"),
    ]
    for what, title, unit, scale, fmt, compare in tables:
        print(f"\n{title}, {unit}: median of {rounds} rounds (lowest-highest)")
        base = _median(direct, what)
        for target in targets:
            if target.missing:
                print(f"  {target.name:<10} {target.missing}")
                continue
            if compare == "cpu" and target.pid is None:
                why = "no proxy" if target is direct else "not counted: a process per connection"
                print(f"  {target.name:<10} {why:>9}")
                continue
            values = [value * scale for value in target.figures[what]]
            spread = f"({fmt.format(min(values)).strip()}-{fmt.format(max(values)).strip()})"
            line = f"  {target.name:<10} {fmt.format(statistics.median(values))} {spread:<17}"
            median = statistics.median(target.figures[what])
            if compare == "ratio":
                line += f" {median / base:5.2f}x direct"
                if what == "tcp_connects" and haproxy is not None:
                    line += f"  {median / _median(haproxy, what):5.2f}x haproxy"
            elif compare == "added" and target is not direct:
                line += f" {(median - base) * scale:+6.0f} us added"
            print(line)
    drillbook = by_name["drillbook"]
    q = _median(drillbook, "select1") / _median(direct, "select1")
    # Three decimals: a ratio printed as 0.80 may still be under the goal.
    beside = ""
    if haproxy is not None:
        beside = f"; HAProxy {_median(haproxy, 'select1') / _median(direct, 'select1'):.3f}x"
    verdict = "met" if q >= GOAL else "not met"
    print(f"\ngoal: SELECT 1 loop >= {GOAL}x direct: drillbook {q:.3f}x ({verdict}{beside})")
    if haproxy is None:
        print(f"goal: new connections >= {GOAL}x HAProxy's rate: cannot tell, haproxy is not installed")
        return
    c = _median(drillbook, "tcp_connects") / _median(haproxy, "tcp_connects")
    verdict = "met" if c >= GOAL else "not met"
    print(f"goal: new connections >= {GOAL}x HAProxy's rate: drillbook {c:.3f}x ({verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=2.0, help="duration of each figure in a round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (each target once per round)")
    parser.add_argument("--baseline", metavar="REF", help="also run harness/toxiproxy at this git revision")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-toxiproxy-") as tmp_name, ExitStack() as stack:
        tmp = Path(tmp_name)
        cluster = PostgresCluster(tmp / "data").init()
        cluster.start()
        stack.callback(cluster.stop, "immediate")
        cluster.wait_ready()
        echo_port = free_port()
        stack.enter_context(process([sys.executable, "-c", ECHO_SERVER, str(echo_port)], tmp / "echo.log"))
        wait_listening(echo_port, "the echo server")
        upstreams = (cluster.port, echo_port)

        targets = [Target("direct", *upstreams)]

        def current(port: int) -> list[str]:
            return [
                sys.executable,
                "-m",
                "drillbook.harness.toxiproxy",
                "--log-level",
                "warning",
                "--port",
                str(port),
            ]

        targets.append(toxiproxy_target(stack, "drillbook", current, tmp, upstreams))
        if args.baseline:
            root = baseline_package(args.baseline, tmp)

            def baseline(port: int) -> list[str]:
                code = f"import sys; sys.path.insert(0, {str(root)!r})"
                code += f"; from toxiproxy_baseline.server import serve; serve('127.0.0.1', {port})"
                return [sys.executable, "-c", code]

            targets.append(toxiproxy_target(stack, args.baseline[:10], baseline, tmp, upstreams))
        targets.append(haproxy_target(stack, tmp, upstreams))
        targets.append(socat_target(stack, tmp, upstreams))
        running = [t for t in targets if not t.missing]

        def dsn(port: int) -> str:
            return f"postgresql://postgres@127.0.0.1:{port}/postgres"

        conns = {
            t.name: stack.enter_context(pg.connect(dsn(t.pg_port), timeout=60, prepare_threshold=None))
            for t in running
            if t.pg_port is not None
        }
        load = os.getloadavg()[0]
        print(
            f"toxiproxy-compatible server vs direct and other proxies, no toxics: {args.rounds} rounds of "
            f"{args.seconds:g} s per target and figure, targets taking turns every few calls; "
            f"{os.cpu_count()} CPUs, load average {load:.1f} at the start"
        )
        for i in range(args.rounds):
            measure_round(running, conns, dsn, args.seconds)
            print(f"  round {i + 1}/{args.rounds} done (load average {os.getloadavg()[0]:.1f})", flush=True)
        report(targets, args.rounds)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
