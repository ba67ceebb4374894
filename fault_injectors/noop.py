"""A fault that changes nothing: for dry runs and measuring the harness itself."""

from __future__ import annotations

from typing import Any

from drillbook.faults.base import Fault


class NoopFault(Fault):
    """Injects nothing and reverts nothing; ``label`` names it in the journal."""

    name = "noop"
    blast_radius = "none"
    rollback = "nothing to undo"

    def __init__(self, label: str = "noop") -> None:
        self.label = label
        self.injected = False

    def inject(self) -> None:
        self.injected = True

    def revert(self) -> None:
        self.injected = False

    def describe(self) -> dict[str, Any]:
        return {"label": self.label}
