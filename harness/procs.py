"""Small helpers about OS processes: liveness, identity across pid reuse, waiting."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from drillbook.harness.polling import holds_within


def start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (from /proc), or None if gone.

    A pid plus its start time names one process even after the pid is reused.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) may contain spaces and parentheses.
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[19])


def state(pid: int) -> str | None:
    """The one-letter process state (R, S, T, Z, ...) or None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return stat[stat.rindex(")") + 2 :].split()[0]


def alive(pid: int, ticks: int | None = None) -> bool:
    """True if ``pid`` runs (not a zombie) and, when given, started at ``ticks``."""
    current = state(pid)
    if current is None or current in ("Z", "X"):
        return False
    return ticks is None or start_ticks(pid) == ticks


def signal_if_same(pid: int, ticks: int | None, sig: signal.Signals) -> bool:
    """Send ``sig`` only if ``pid`` is still the process we meant. True if sent."""
    if not alive(pid, ticks):
        return False
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return False
    return True


def wait_gone(pid: int, timeout: float) -> bool:
    return holds_within(lambda: not alive(pid), timeout=timeout, interval=0.01)
