"""Stopping the app plane from the files in its state directory alone (also after the process
that started it was killed), and checking by pid and by port that nothing is left."""

from __future__ import annotations

import contextlib
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from drillbook.harness import procs
from drillbook.twin.app_processes import AppProcess, read_manifest, reap, write_manifest
from drillbook.twin.processes import labelled, listening
from drillbook.twin.supervisor.client import SupervisorClient
from drillbook.twin.supervisor.errors import SupervisorUnavailable
from drillbook.twin.supervisor.process import kill_group
from drillbook.twin.supervisor.store import StateFiles


@dataclass
class StopReport:
    stopped: list[str] = field(default_factory=list)
    killed: list[int] = field(default_factory=list)
    still_running: list[int] = field(default_factory=list)
    still_listening: list[int] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.still_running and not self.still_listening


def stop_app_plane(state_dir: Path, *, timeout: float = 30.0) -> StopReport:
    """Stop everything the app plane in ``state_dir`` started, from the files alone.

    The supervisor is asked to stop its pods (SIGTERM, grace period, SIGKILL)
    and then SIGTERMed; the front door is SIGTERMed; whatever is still alive
    after ``timeout`` (recorded pods, the processes, anything labelled) is
    SIGKILLed. Idempotent.
    """
    state_dir = Path(state_dir).absolute()
    report = StopReport()
    manifest = read_manifest(state_dir) or {}
    files = StateFiles(state_dir / "supervisor")
    saved = files.read_json(files.state) or {}
    label = str(manifest.get("label") or saved.get("label") or "")
    ports = [int(p["port"]) for p in saved.get("pods", []) if p.get("port")]
    ports += [int(saved["kube_port"])] if saved.get("kube_port") else []
    deadline = time.monotonic() + timeout
    recorded = [AppProcess(**manifest[name]) for name in ("supervisor", "frontdoor") if name in manifest]
    info = files.read_json(files.supervisor)
    supervisor = next((p for p in recorded if p.name == "supervisor"), None)
    if supervisor is not None and info and procs.alive(supervisor.pid, supervisor.ticks):
        with contextlib.suppress(SupervisorUnavailable):
            SupervisorClient(str(info["url"]), timeout=min(5.0, timeout)).shutdown(stop_pods=True)
    for proc in recorded:
        ports += [proc.port] if proc.port else []
        if procs.alive(proc.pid, proc.ticks):
            procs.signal_if_same(proc.pid, proc.ticks, signal.SIGTERM)
            report.stopped.append(proc.name)
    for proc in recorded:
        if not procs.wait_gone(proc.pid, max(0.1, deadline - time.monotonic())) and kill_group(
                proc.pid, proc.ticks):
            report.killed.append(proc.pid)
        reap(proc.pid)
    for pod in saved.get("pods", []):
        if pod.get("pid") and kill_group(int(pod["pid"]), pod.get("ticks")):
            report.killed.append(int(pod["pid"]))
    if label:
        for pid in labelled(label):
            if kill_group(pid, procs.start_ticks(pid)):
                report.killed.append(pid)
    for pid in report.killed:
        procs.wait_gone(pid, 5.0)
        reap(pid)
    report.still_running = [p for p in (labelled(label) if label else []) if procs.alive(p)]
    report.still_running += [p.pid for p in recorded if procs.alive(p.pid, p.ticks)]
    report.still_listening = listening(ports)
    if manifest:
        manifest["stopped"] = True
        write_manifest(state_dir, manifest)
    return report
