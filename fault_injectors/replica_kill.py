"""Kill replicas of a supervised deployment with a real signal (Scenario 5, pods dying)."""

from __future__ import annotations

import time
from typing import Any

from drillbook.faults.base import Fault
from drillbook.harness import procs
from drillbook.harness.errors import FaultError, InvalidDrillConfig
from drillbook.twin.supervisor import Deployment, SupervisorClient


class ReplicaKill(Fault):
    """SIGKILLs ``count`` replicas of ``deployment`` (``None``: all of them), optionally
    only those in ``zone``.

    Nothing is undone by hand: the supervisor restarts each replica in place
    with its back-off, as kubelet would. Revert waits until the deployment is
    available again (every desired replica ready), which is also what makes
    the fault safe to revert from another process.
    """

    name = "replica_kill"
    blast_radius = "count replicas of one deployment, or every replica of it in one zone"
    rollback = "none needed: the supervisor restarts them; revert waits until they are ready"

    def __init__(self, deployment: str = "api", count: int | None = 1, zone: str | None = None, *,
                 state_dir: str | None = None, control_url: str | None = None,
                 signal_name: str = "SIGKILL", timeout: float = 120.0) -> None:
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
            raise InvalidDrillConfig(f"count must be a whole number >= 1 or None (all), not {count!r}")
        self.deployment, self.count, self.zone = deployment, count, zone
        self.state_dir, self.control_url = state_dir, control_url
        self.signal_name, self.timeout = signal_name, timeout
        self.killed: list[str] = []

    def _target(self) -> Deployment:
        return SupervisorClient.locate(state_dir=self.state_dir, control_url=self.control_url).deployment(
            self.deployment)

    def inject(self) -> None:
        target = self._target()
        before = {p["name"]: p for p in target.status()["pods"]}
        self.killed = target.kill(self.count, self.zone, signal=self.signal_name)
        if not self.killed:
            where = f" in zone {self.zone}" if self.zone else ""
            raise FaultError(f"no running replica of {self.deployment!r}{where} to kill")
        for name in self.killed:
            procs.wait_gone(int(before[name]["pid"]), 5.0)
        # Until the supervisor has seen the deaths, its status would still call them ready.
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            now = {p["name"]: p for p in target.status()["pods"]}
            if all(now.get(n, {}).get("pid") != before[n]["pid"] for n in self.killed):
                return
            time.sleep(0.05)

    def revert(self) -> None:
        self._target().wait_available(self.timeout)

    def describe(self) -> dict[str, Any]:
        return {"deployment": self.deployment, "count": self.count, "zone": self.zone,
                "state_dir": self.state_dir, "control_url": self.control_url,
                "signal_name": self.signal_name, "timeout": self.timeout}
