"""What a runbook step receives: the drill, the environment, the platform, and the
values earlier steps found (the snapshot chosen, the instance restored, ...)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict

from drillbook.drills.platform import Platform
from drillbook.harness.drill import Drill
from drillbook.harness.environments.base import Environment


class Where(TypedDict):
    """The arguments every environment-bound fault and change takes."""

    env_name: str
    state_dir: str


@dataclass
class Context:
    drill: Drill
    env: Environment
    platform: Platform
    found: dict[str, Any] = field(default_factory=dict)

    @property
    def env_name(self) -> str:
        return self.drill.settings.env_name

    @property
    def state_dir(self) -> str:
        return str(self.drill.settings.state_dir)

    def where(self) -> Where:
        """The arguments every environment-bound fault and change takes."""
        return Where(env_name=self.env_name, state_dir=self.state_dir)
