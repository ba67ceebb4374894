"""Environments drillbook starts and stops itself (``local``), as opposed to ones it
only connects to (``staging``): ``drillbook env up|down|status`` and the ``env``
pytest fixture drive them through this protocol."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    kind: str
    pid: int | None
    port: int | None
    health: str  # healthy, unhealthy, down
    detail: str = ""


@dataclass
class DownReport:
    """What ``down`` stopped, and what (by pid, by port) is still there: ``clean`` if nothing."""

    stopped: list[str] = field(default_factory=list)
    reaped: list[int] = field(default_factory=list)
    still_running: list[int] = field(default_factory=list)
    still_listening: list[int] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def clean(self) -> bool:
        return not self.still_running and not self.still_listening


@runtime_checkable
class Lifecycle(Protocol):
    def up(self, progress: Progress | None = None) -> bool:
        """Start; False if it was already up (then the caller must not take it down)."""
        ...

    def down(self, progress: Progress | None = None) -> DownReport: ...

    def status(self) -> list[ComponentStatus]: ...

    def is_up(self) -> bool: ...

    def versions(self) -> dict[str, str]:
        """Versions of the components it runs (for the journal's fingerprint)."""
        ...
