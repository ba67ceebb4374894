"""Kill a process with a real signal; revert by starting its command again."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path
from typing import Any

from drillbook.faults.base import Fault
from drillbook.harness import procs
from drillbook.harness.errors import FaultError


class ProcessKill(Fault):
    """Kill one process (SIGKILL by default) that nothing else restarts.

    Revert starts ``argv`` again (in ``cwd``, detached, output to ``log``) unless a
    live process is already recorded in ``pidfile``; the new pid is written there.
    Use it for processes without a supervisor; supervised replicas have their own
    fault, because their supervisor restarts them.
    """

    name = "process_kill"
    blast_radius = "one process"
    rollback = "start the same command again"

    def __init__(
        self,
        pid: int,
        argv: list[str],
        pidfile: str,
        cwd: str | None = None,
        log: str | None = None,
        signal_name: str = "SIGKILL",
        start_ticks: int | None = None,
    ) -> None:
        self.pid = pid
        self.argv = list(argv)
        self.pidfile = pidfile
        self.cwd = cwd
        self.log = log
        self.signal_name = signal_name
        self.start_ticks = start_ticks if start_ticks is not None else procs.start_ticks(pid)

    def inject(self) -> None:
        sig = signal.Signals[self.signal_name]
        if not procs.signal_if_same(self.pid, self.start_ticks, sig):
            raise FaultError(f"process {self.pid} is not running; nothing to kill")
        procs.wait_gone(self.pid, 5.0)

    def revert(self) -> None:
        if self._recorded_alive():
            return
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        try:
            proc = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:
            raise FaultError(f"cannot restart {self.argv[0]}: {exc}") from exc
        finally:
            if self.log:
                out.close()  # type: ignore[union-attr]
        Path(self.pidfile).write_text(f"{proc.pid} {procs.start_ticks(proc.pid)}\n")

    def _recorded_alive(self) -> bool:
        try:
            pid_text, _, ticks_text = Path(self.pidfile).read_text().strip().partition(" ")
            pid = int(pid_text)
            ticks = int(ticks_text) if ticks_text and ticks_text != "None" else None
        except (FileNotFoundError, ValueError):
            return False
        return procs.alive(pid, ticks)

    def describe(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "argv": self.argv,
            "pidfile": self.pidfile,
            "cwd": self.cwd,
            "log": self.log,
            "signal_name": self.signal_name,
            "start_ticks": self.start_ticks,
        }
