"""Who holds an environment's lease, and the errors that name them."""

from __future__ import annotations

import os
import shlex
import socket
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from drillbook.harness import procs
from drillbook.harness.errors import DrillbookError
from drillbook.harness.redact import redact_text
from drillbook.harness.timing import utcnow_iso

#: Set by ``drillbook run`` for the pytest it starts: the lease it holds for it (the holder's identity).
LEASE_VARIABLE = "DRILLBOOK_LEASE"
#: With a local lease, the descriptor of the locked file the child inherits (it holds the lock too).
LEASE_FD_VARIABLE = "DRILLBOOK_LEASE_FD"


class LeaseError(DrillbookError):
    """The lease could not be taken or kept (not because another live run holds it)."""


class LeaseHeld(LeaseError):
    """Another live run holds the environment's lease."""

    exit_code = 3

    def __init__(self, env: str, holder: LeaseHolder, where: str, *, waited: float | None = None) -> None:
        self.env = env
        self.holder = holder
        self.where = where
        after = f" (waited {waited:.0f}s)" if waited else ""
        super().__init__(
            f"environment {env!r} is leased to {holder.describe()}{after} ({where}): one drill run per "
            "environment; wait for it to finish, or pass --wait-for-lease DURATION"
        )


class LeaseLost(LeaseError):
    """The run's lease expired or was taken over: no further fault may be injected."""


@dataclass(frozen=True)
class LeaseHolder:
    run_id: str
    host: str
    pid: int
    #: The pid's start time (``procs.start_ticks``): a reused pid is not mistaken for the holder.
    pid_ticks: int | None
    since: str
    command: str

    @classmethod
    def me(cls, run_id: str, command: str | None = None) -> LeaseHolder:
        pid = os.getpid()
        return cls(
            run_id=run_id,
            host=socket.gethostname(),
            pid=pid,
            pid_ticks=procs.start_ticks(pid),
            since=utcnow_iso(),
            command=redact_text(command or _command())[:300],
        )

    @property
    def identity(self) -> str:
        """What a Kubernetes Lease's ``holderIdentity`` holds."""
        return f"{self.run_id}@{self.host}/{self.pid}"

    def describe(self) -> str:
        return (
            f"run {self.run_id} (host {self.host}, pid {self.pid}, since {self.since}, "
            f"command `{self.command}`)"
        )

    def alive_here(self) -> bool | None:
        """Whether the holder process runs: None when it ran on another host (unknown from here)."""
        if self.host != socket.gethostname():
            return None
        return procs.alive(self.pid, self.pid_ticks)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> LeaseHolder | None:
        """The holder a lease record names; None for a record that names nobody (or is damaged)."""
        if not isinstance(data, dict):
            return None
        try:
            ticks = data.get("pid_ticks")
            holder = cls(
                run_id=str(data["run_id"]),
                host=str(data["host"]),
                pid=int(data["pid"]),
                pid_ticks=None if ticks is None else int(ticks),
                since=str(data.get("since", "")),
                command=str(data.get("command", "")),
            )
        except (KeyError, TypeError, ValueError):
            return None
        return holder if holder.run_id else None


def _command() -> str:
    """This process's command line as typed: ``drillbook run ...``, ``python -m pytest ...``."""
    program = Path(sys.argv[0])
    if program.name == "__main__.py":  # python -m <package>
        first = "drillbook" if program.parent.name == "drillbook" else f"python -m {program.parent.name}"
    else:
        first = program.name or "python"
    return " ".join([first, *(shlex.quote(arg) for arg in sys.argv[1:])])
