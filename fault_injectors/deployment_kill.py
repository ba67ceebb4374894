"""Kill pods of a deployment (a crash: a real signal), found by the environment's role."""

from __future__ import annotations

from typing import Any

from drillbook.faults._healed import ControllerHealed
from drillbook.harness.errors import InvalidDrillConfig


class DeploymentKill(ControllerHealed):
    """Kills ``count`` replicas of ``deployment`` (``app``, ``workers``) through the role's
    ``kill``; their controller starts new ones. ``settle`` waits until the
    deployment is available again."""

    name = "deployment_kill"
    blast_radius = "``count`` replicas of one deployment"
    rollback = "nothing to undo: the controller replaces them (settle waits until available)"

    def __init__(self, env_name: str, state_dir: str, deployment: str = "app", count: int = 1,
                 timeout: float = 120.0) -> None:
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise InvalidDrillConfig(f"count must be a whole number >= 1, got {count!r}")
        self.env_name, self.state_dir, self.deployment = env_name, state_dir, deployment
        self.count, self.timeout = count, timeout

    def inject(self) -> None:
        self._role().kill(self.count)

    def describe(self) -> dict[str, Any]:
        return {"env_name": self.env_name, "state_dir": self.state_dir, "deployment": self.deployment,
                "count": self.count, "timeout": self.timeout}
