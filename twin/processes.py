"""Start, stop and find the environment's processes; see which ports still listen.

Each process is started in its own session (so its group can be signalled as a
whole), labelled with the environment's label in its environment, and recorded
(pid and start time) the moment it exists. Stopping is by recorded pid and
start time only, so a reused pid is never signalled; the label finds what a
killed runner had no time to record.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path

from drillbook.harness import procs
from drillbook.harness.polling import holds_within
from drillbook.twin.state import LABEL_VARIABLE, ProcessRecord


def spawn(name: str, argv: list[str], *, label: str, log: Path, port: int | None = None,
          pidfile: Path | None = None, env: dict[str, str] | None = None,
          cwd: Path | None = None, inherit: bool = True) -> ProcessRecord:
    """Start ``argv`` detached (own session, output appended to ``log``), labelled ``label``;
    its environment is this process's (none of it when not ``inherit``) updated with ``env``.
    The one spawn of the twin's long-lived processes (pods have their own: process groups)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    # Nothing of a local environment may ask the EC2 instance metadata service
    # (169.254.169.254) for credentials or a region: it does not exist here.
    environ = {**(os.environ if inherit else {}), "AWS_EC2_METADATA_DISABLED": "true", **(env or {}),
               LABEL_VARIABLE: label}
    with open(log, "ab") as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, env=environ, cwd=cwd)
    ticks = procs.start_ticks(proc.pid)
    if pidfile is not None:
        pidfile.parent.mkdir(parents=True, exist_ok=True)
        pidfile.write_text(f"{proc.pid} {ticks}\n")
    # The Popen object is dropped: the process outlives this one, and whoever stops
    # it works from the record. Reaping it here would be wrong; let init adopt it.
    proc.returncode = 0  # keeps Popen.__del__ from warning about a running child
    return ProcessRecord(name=name, pid=proc.pid, ticks=ticks, argv=argv, port=port, log=str(log),
                         pidfile=None if pidfile is None else str(pidfile))


def current(record: ProcessRecord) -> tuple[int, int | None]:
    """The process now behind ``record``: its pidfile is newer if something restarted it."""
    if record.pidfile:
        try:
            pid_text, _, ticks_text = Path(record.pidfile).read_text().strip().partition(" ")
            return int(pid_text), (int(ticks_text) if ticks_text and ticks_text != "None" else None)
        except (OSError, ValueError):
            pass
    return record.pid, record.ticks


def alive(record: ProcessRecord) -> bool:
    pid, ticks = current(record)
    return procs.alive(pid, ticks)


def stop(record: ProcessRecord, timeout: float = 10.0) -> bool:
    """SIGTERM the process's group, SIGKILL it after ``timeout``; True if it is gone."""
    pid, ticks = current(record)
    return terminate(pid, ticks, timeout=timeout)


def terminate(pid: int, ticks: int | None, *, timeout: float = 10.0) -> bool:
    if not procs.alive(pid, ticks):
        return True
    leader = _is_group_leader(pid)
    for sig in (signal.SIGCONT, signal.SIGTERM):
        _signal(pid, ticks, sig, group=leader)
    if not procs.wait_gone(pid, timeout):
        _signal(pid, ticks, signal.SIGKILL, group=leader)
    gone = procs.wait_gone(pid, 5.0)
    reap_child(pid)
    return gone


def labelled(label: str) -> list[int]:
    """Pids of the processes carrying ``label`` (any user this process may inspect)."""
    wanted = f"{LABEL_VARIABLE}={label}".encode()
    found = []
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if wanted in environ.split(b"\0"):
            found.append(int(entry.name))
    return [pid for pid in found if procs.alive(pid)]


def reap(label: str, timeout: float = 10.0) -> list[int]:
    """Stop every live process labelled ``label``; their pids."""
    return stop_all(labelled(label), timeout=timeout)


def family(pids: Iterable[int]) -> dict[int, int | None]:
    """``pids`` and all their descendants, each with its start time: a snapshot of a set of
    processes to outlast. Descendants are found by parent pid, not by label: PostgreSQL and
    Redis rewrite their environment for their process titles, so their children carry none."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    found = {pid for pid in pids if procs.alive(pid)}
    grown = True
    while grown:
        grown = False
        for pid, parent in parents.items():
            if parent in found and pid not in found:
                found.add(pid)
                grown = True
    return {pid: procs.start_ticks(pid) for pid in found}


def working_in(roots: Iterable[Path]) -> list[int]:
    """Pids of the processes (other than this one) working inside any of ``roots``: a directory
    of theirs, an open file or a command-line argument lies under one. A runner killed half-way
    leaves its tools (``cp -a`` of a template, ``pg_basebackup``) writing into the environment's
    data; they carry no label, being the runner's children, and are found here instead."""
    wanted = [str(root.resolve()) for root in roots]
    if not wanted:
        return []

    def inside(path: str) -> bool:
        return any(path == root or path.startswith(root + "/") for root in wanted)

    me = os.getpid()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        with contextlib.suppress(OSError):
            argv = [arg.decode(errors="replace") for arg in (entry / "cmdline").read_bytes().split(b"\0")]
            if any(inside(arg) for arg in argv if arg.startswith("/")) or _uses(entry, inside):
                found.append(int(entry.name))
    return [pid for pid in found if procs.alive(pid)]


def _uses(entry: Path, inside: Callable[[str], bool]) -> bool:
    links = [entry / "cwd"]
    with contextlib.suppress(OSError):
        links += list((entry / "fd").iterdir())
    for link in links:
        with contextlib.suppress(OSError):
            if inside(str(link.readlink())):
                return True
    return False


def stop_all(pids: list[int], timeout: float = 5.0) -> list[int]:
    """SIGTERM ``pids`` (woken first), SIGKILL those left after ``timeout``; the pids."""
    members = {pid: procs.start_ticks(pid) for pid in pids}
    for pid, ticks in members.items():
        _signal(pid, ticks, signal.SIGCONT, group=False)
        _signal(pid, ticks, signal.SIGTERM, group=False)
    outlast(members, timeout=timeout)
    return pids


def outlast(members: dict[int, int | None], timeout: float) -> list[int]:
    """Return once every process of ``members`` is gone; those still there after ``timeout``
    are SIGKILLed (their pids are returned)."""
    holds_within(lambda: not any(procs.alive(pid, ticks) for pid, ticks in members.items()),
                 timeout=timeout, interval=0.02)
    stragglers = [pid for pid, ticks in members.items() if procs.alive(pid, ticks)]
    for pid in stragglers:
        _signal(pid, members[pid], signal.SIGKILL, group=False)
    for pid in stragglers:
        procs.wait_gone(pid, 5.0)
    for pid in members:
        reap_child(pid)
    return stragglers


def listening(ports: Iterable[int]) -> list[int]:
    """Which of ``ports`` have a listening TCP socket on this machine (IPv4 or IPv6)."""
    wanted = set(ports)
    busy: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[3] == "0A":  # TCP_LISTEN
                port = int(fields[1].rsplit(":", 1)[1], 16)
                if port in wanted:
                    busy.add(port)
    return sorted(busy)


def _is_group_leader(pid: int) -> bool:
    try:
        return os.getpgid(pid) == pid
    except OSError:
        return False


def _signal(pid: int, ticks: int | None, sig: signal.Signals, *, group: bool) -> None:
    if not procs.alive(pid, ticks):
        return
    try:
        if group:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def reap_child(pid: int) -> None:
    """Collect ``pid`` if it is this process's exited child (a zombie stays "alive" by pid)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
