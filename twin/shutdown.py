"""Stop everything a local environment started, from any process, and prove it.

Works from the state file alone, so it also cleans up after a runner killed
with SIGKILL. Order: wake anything paused, stop the processes (the app plane
first), stop every PostgreSQL server (fast, then immediate, then SIGKILL),
reap whatever still carries the environment's label, then check by pid and
by port that nothing is left, and delete the data (logs are kept).

It returns only once every process the environment had when it began is gone:
the recorded ones, the PostgreSQL servers, whatever carries the label, and all
their descendants (a snapshot taken first; stragglers are SIGKILLed at the timeout).
A server whose pid file is gone may still be exiting; a caller that starts again
at once must not find its port or its data directory still in use.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path

from drillbook.harness import procs
from drillbook.harness.environments.lifecycle import DownReport
from drillbook.twin import processes
from drillbook.twin.app_processes import MANIFEST
from drillbook.twin.app_stop import stop_app_plane
from drillbook.twin.layout import DATA_DIRS, Layout
from drillbook.twin.postgres import PostgresCluster
from drillbook.twin.state import EnvRecord, StateFile

Progress = Callable[[str], None]
#: Stopped first: they depend on everything else.
FIRST = ("frontdoor", "app", "workers", "supervisor", "scheduler")


def stop_environment(state: StateFile, layout: Layout, *, timeout: float = 30.0,
                     progress: Progress | None = None, keep_data: bool = False) -> DownReport:
    began = time.monotonic()
    report = DownReport()
    say = progress or (lambda message: None)
    record = state.read()
    if record is None:
        report.seconds = time.monotonic() - began
        return report
    _set_phase(state, "stopping")
    labels = _labels(record)
    members = processes.family(_still_running(record))
    _wake(labels)
    app_leftovers: list[int] = []
    if (layout.app / MANIFEST).exists():
        # The supervisor stops its pods gracefully (readiness off, SIGTERM, grace period).
        say("stopping the app plane (supervisor, pods, front door)")
        app = stop_app_plane(layout.app, timeout=timeout)
        report.stopped += app.stopped
        app_leftovers = app.still_listening
    for name in sorted(record.processes, key=_order):
        proc = record.processes[name]
        if processes.alive(proc):
            say(f"stopping {name} (pid {processes.current(proc)[0]})")
            processes.stop(proc, timeout=timeout)
            report.stopped.append(name)
    for name, cluster_record in record.clusters.items():
        cluster = PostgresCluster(Path(cluster_record.datadir), port=cluster_record.port, name=name)
        if cluster.running():
            say(f"stopping PostgreSQL {name} (port {cluster.port})")
            report.stopped.append(name)
        stop_cluster(cluster, timeout=timeout)
    for label in labels:
        report.reaped += processes.reap(label, timeout=5.0)
    report.reaped += processes.outlast(members, timeout=timeout)
    if report.reaped:
        say(f"reaped {len(report.reaped)} unrecorded or lingering process(es): {report.reaped}")
    report.still_running = sorted(set(_still_running(record))
                                  | {pid for pid, ticks in members.items() if procs.alive(pid, ticks)})
    report.still_listening = sorted(set(processes.listening(_ports(record))) | set(app_leftovers))
    if not keep_data and report.clean:
        report.reaped += _delete_data(layout)
    _set_phase(state, "down" if report.clean else "failed",
               error=None if report.clean else _leftovers(report))
    report.seconds = time.monotonic() - began
    return report


def _delete_data(layout: Layout, attempts: int = 5) -> list[int]:
    """Delete the data directories; the pids of what was still writing into them.

    A runner SIGKILLed half-way leaves its tools running (a ``cp -a`` of a template, a
    ``pg_basebackup``); one that goes on writing while the tree is deleted leaves it behind.
    They are stopped first, and the deletion is repeated until nothing is left."""
    roots = [layout.root / name for name in DATA_DIRS]
    stopped: list[int] = []
    for _ in range(attempts):
        writers = processes.working_in(root for root in roots if root.exists())
        stopped += processes.stop_all(writers)
        for root in roots:
            shutil.rmtree(root, ignore_errors=True)
        if not any(root.exists() for root in roots):
            break
        time.sleep(0.1)
    return stopped


def stop_cluster(cluster: PostgresCluster, *, timeout: float = 30.0) -> None:
    """Fast shutdown; immediate if that hangs; SIGKILL of the postmaster as the last resort."""
    if cluster.pid() is None:
        return
    cluster.stop("fast", timeout=timeout)
    if cluster.running():
        cluster.stop("immediate", timeout=10.0)
    left = cluster.pid()
    if left is not None:
        processes.terminate(left, procs.start_ticks(left), timeout=5.0)


def _order(name: str) -> tuple[int, str]:
    return (FIRST.index(name) if name in FIRST else len(FIRST), name)


def _labels(record: EnvRecord) -> list[str]:
    app = record.facts.get("app_label")
    return [record.label, *([str(app)] if app else [])]


def _wake(labels: list[str]) -> None:
    # A paused process (a drill's process_pause) cannot act on SIGTERM.
    for label in labels:
        for pid in processes.labelled(label):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGCONT)


def _still_running(record: EnvRecord) -> list[int]:
    pids = [pid for label in _labels(record) for pid in processes.labelled(label)]
    for proc in record.processes.values():
        pid, ticks = processes.current(proc)
        if procs.alive(pid, ticks) and pid not in pids:
            pids.append(pid)
    for cluster_record in record.clusters.values():
        postmaster = PostgresCluster(Path(cluster_record.datadir), port=cluster_record.port).pid()
        if postmaster is not None and postmaster not in pids:
            pids.append(postmaster)
    return sorted(pids)


def _ports(record: EnvRecord) -> list[int]:
    ports = [p.port for p in record.processes.values() if p.port]
    ports += [c.port for c in record.clusters.values()]
    ports += [int(p) for p in record.facts.get("extra_ports", [])]
    return [p for p in ports if p]


def _leftovers(report: DownReport) -> str:
    return (f"still running: {report.still_running or 'none'}; "
            f"still listening: {report.still_listening or 'none'}")


def _set_phase(state: StateFile, phase: str, *, error: str | None = None) -> None:
    def change(env: EnvRecord) -> None:
        env.phase = phase
        env.error = error

    state.update(change)
