"""The app plane's processes (the supervisor, the front door): their manifest in the state
directory, how one is started and how its start is awaited (the info file it writes once it
listens). ``app_plane`` starts and drives the plane with these; ``app_stop`` stops it from the
files alone."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import drillbook
from drillbook.harness import procs
from drillbook.harness.errors import DrillbookError
from drillbook.harness.polling import WaitTimeout, wait_until
from drillbook.twin import processes
from drillbook.twin.state import LABEL_VARIABLE
from drillbook.twin.supervisor.store import StateFiles, write_atomic

MANIFEST = "app-plane.json"


class AppPlaneError(DrillbookError):
    """The app plane did not start, or is not running; the message names the part and its log."""


@dataclass(frozen=True)
class AppProcess:
    """A process of the app plane, as the environment's state file records one."""

    name: str
    pid: int
    ticks: int | None
    argv: list[str]
    port: int | None
    log: str


def python_env() -> dict[str, str]:
    """What a child needs to run drillbook's modules, and no more of this process's environment."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "VIRTUAL_ENV", "PYENV_VERSION")
    env = {k: v for k, v in os.environ.items() if k in keep}
    root = str(Path(drillbook.__file__).parent.parent)  # the directory holding the drillbook package
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    env["AWS_EC2_METADATA_DISABLED"] = "true"  # there is no instance metadata service here
    return env


def spawn(name: str, argv: list[str], log: Path, env: dict[str, str]) -> AppProcess:
    """Start one of the app plane's processes detached, with exactly ``env`` (which carries its
    label): through the twin's one spawn (``processes.spawn``), recorded as an :class:`AppProcess`."""
    record = processes.spawn(name, argv, label=env[LABEL_VARIABLE], log=log, env=env, inherit=False)
    return AppProcess(name, record.pid, record.ticks, argv, None, str(log))


def wait_for_info(path: Path, proc: AppProcess, timeout: float) -> dict[str, Any]:
    """The info file ``proc`` writes once it listens; an error with its log's tail if it exits."""

    def written() -> dict[str, Any] | None:
        info = StateFiles(path.parent).read_json(path)
        if info and info.get("pid") == proc.pid:
            return info
        if not procs.alive(proc.pid, proc.ticks):
            reap(proc.pid)
            raise AppPlaneError(f"{proc.name} exited at start: {tail(Path(proc.log))}")
        return None

    try:
        found = wait_until(written, what=f"{proc.name} to come up", timeout=timeout, interval=0.02,
                           until=lambda info: info is not None)
    except WaitTimeout:
        raise AppPlaneError(f"{proc.name} did not come up within {timeout:.0f}s: "
                            f"{tail(Path(proc.log))}") from None
    assert found is not None
    return found


def read_manifest(state_dir: Path) -> dict[str, Any] | None:
    return StateFiles(state_dir).read_json(state_dir / MANIFEST)


def write_manifest(state_dir: Path, manifest: dict[str, Any]) -> None:
    write_atomic(state_dir / MANIFEST, json.dumps(manifest, indent=1))


def running(manifest: dict[str, Any]) -> bool:
    entry = manifest.get("supervisor")
    if not isinstance(entry, dict) or manifest.get("stopped"):
        return False
    return procs.alive(int(entry["pid"]), entry.get("ticks"))


def reap(pid: int) -> None:
    processes.reap_child(pid)


def tail(log: Path, lines: int = 15) -> str:
    try:
        return " | ".join(log.read_text(errors="replace").strip().splitlines()[-lines:]) or "(no output)"
    except OSError:
        return f"(no log at {log})"
