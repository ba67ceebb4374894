"""The supervisor's files in its state directory.

    state.json       desired and observed state (deployments, releases, pods with pid + start time)
    endpoints.json   ready pods per deployment: what the front door routes to
    supervisor.json  the supervisor's own pid, start time and control URL
    events.log       one JSON event per line (kubectl get events)
    logs/<pod>.log   each pod's output; <pod>.log.previous is the run before (kubectl logs --previous)

Files are replaced atomically (write, then rename), so a reader in another
process, or the supervisor killed mid-write, never sees half a file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drillbook.twin.supervisor.model import ClusterState


@dataclass(frozen=True)
class StateFiles:
    root: Path

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    @property
    def endpoints(self) -> Path:
        return self.root / "endpoints.json"

    @property
    def supervisor(self) -> Path:
        return self.root / "supervisor.json"

    @property
    def events(self) -> Path:
        return self.root / "events.log"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def write_state(self, state: ClusterState) -> None:
        write_atomic(self.state, json.dumps(state.to_json(), indent=1, sort_keys=True))

    def read_state(self) -> ClusterState:
        from drillbook.twin.supervisor.model import ClusterState

        return ClusterState.from_json(json.loads(self.state.read_text()))

    def write_endpoints(self, text: str) -> None:
        write_atomic(self.endpoints, text)

    def append_event(self, event: dict[str, Any]) -> None:
        with self.events.open("a") as out:
            out.write(json.dumps(event) + "\n")

    def read_json(self, path: Path) -> dict[str, Any] | None:
        try:
            value = json.loads(path.read_text())
        except (FileNotFoundError, ValueError):
            return None
        return value if isinstance(value, dict) else None


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``, readable by this user only (the state holds the
    credentials the pods are started with)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    tmp.replace(path)
