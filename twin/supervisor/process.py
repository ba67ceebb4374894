"""A pod's process: started detached in its own process group, signalled only
while it is still the process we started (pid + start time), its output kept
as ``kubectl logs`` would (the current run and the previous one)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import sysconfig
from collections.abc import Mapping, Sequence
from pathlib import Path

from drillbook.harness import procs


class PodProcess:
    """Our child (a ``Popen``), or a process adopted from the saved state after a
    supervisor restart, which we can watch but whose exit status we cannot know."""

    def __init__(self, pid: int, ticks: int | None, popen: subprocess.Popen[bytes] | None = None) -> None:
        self.pid = pid
        self.ticks = ticks
        self._popen = popen
        self.returncode: int | None = None

    def exited(self) -> bool:
        if self.returncode is not None:
            return True
        if self._popen is not None:
            self.returncode = self._popen.poll()
            return self.returncode is not None
        if procs.alive(self.pid, self.ticks):
            return False
        self.returncode = -255  # adopted: gone, status unknown
        return True

    def signal(self, sig: signal.Signals) -> bool:
        """Signal the pod's whole process group; False if it is already gone."""
        if self.exited() or not procs.alive(self.pid, self.ticks):
            return False
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            return False
        except PermissionError:
            return procs.signal_if_same(self.pid, self.ticks, sig)
        return True

    def describe_exit(self) -> str:
        code = self.returncode
        if code is None:
            return "running"
        if code == -255:
            return "exited while the supervisor was away"
        if code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit code {code}"


def package_dirs(path: Sequence[str] | None = None) -> list[str]:
    """The directories ``site`` put on this interpreter's path (site-packages, the user site,
    paths from ``.pth`` files): what a pod started ``python -S`` with this interpreter needs
    (the service's images; see ``SITE_PACKAGES`` in ``drillbook.twin.service``)."""
    entries = list(sys.path if path is None else path)
    stdlib = {Path(sysconfig.get_path(name)) for name in ("stdlib", "platstdlib")}
    stdlib |= {p / "lib-dynload" for p in stdlib}
    ends = [i for i, p in enumerate(entries) if p and Path(p) in stdlib]
    if ends:
        after = entries[ends[-1] + 1:]
    else:
        after = [p for p in entries if p.endswith(("site-packages", "dist-packages"))]
    return [p for p in after if Path(p).is_absolute()]


def spawn(argv: Sequence[str], env: Mapping[str, str], log: Path) -> PodProcess:
    """Start ``argv`` detached (own session), output appended to ``log``; the
    previous run's log is kept as ``<log>.previous``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    if log.exists():
        log.replace(log.with_name(log.name + ".previous"))
    with log.open("ab") as out:
        popen = subprocess.Popen(list(argv), env=dict(env), stdin=subprocess.DEVNULL, stdout=out,
                                 stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
    return PodProcess(popen.pid, procs.start_ticks(popen.pid), popen)


def adopt(pid: int | None, ticks: int | None) -> PodProcess | None:
    """The process saved in the state, if it still runs."""
    if pid is None or not procs.alive(pid, ticks):
        return None
    return PodProcess(pid, ticks)


def pod_log(logs: Path, pod: str, *, previous: bool = False) -> Path:
    return logs / (f"{pod}.log.previous" if previous else f"{pod}.log")


def kill_group(pid: int, ticks: int | None, sig: signal.Signals = signal.SIGKILL) -> bool:
    """Signal the group led by ``pid`` if ``pid`` is still that process."""
    if not procs.alive(pid, ticks):
        return False
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        return procs.signal_if_same(pid, ticks, sig)
    return True
