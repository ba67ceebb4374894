"""Freeze a process with SIGSTOP; revert with SIGCONT."""

from __future__ import annotations

import signal
from typing import Any

from drillbook.faults.base import Fault
from drillbook.harness import procs
from drillbook.harness.errors import FaultError


class ProcessPause(Fault):
    """Stop (SIGSTOP) one process: it keeps its sockets but answers nothing.

    Clients see a hang rather than a refused connection, like a frozen VM. The
    process is named by pid and start time, so a reused pid is never touched.
    """

    name = "process_pause"
    blast_radius = "one process"
    rollback = "SIGCONT to the same process"

    def __init__(self, pid: int, start_ticks: int | None = None) -> None:
        self.pid = pid
        self.start_ticks = start_ticks if start_ticks is not None else procs.start_ticks(pid)

    def inject(self) -> None:
        if not procs.signal_if_same(self.pid, self.start_ticks, signal.SIGSTOP):
            raise FaultError(f"process {self.pid} is not running; nothing to pause")

    def revert(self) -> None:
        procs.signal_if_same(self.pid, self.start_ticks, signal.SIGCONT)

    def describe(self) -> dict[str, Any]:
        return {"pid": self.pid, "start_ticks": self.start_ticks}
