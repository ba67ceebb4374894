"""Restart a deployment (``kubectl rollout restart``), found by the environment's role."""

from __future__ import annotations

from typing import Any

from drillbook.faults._healed import ControllerHealed


class DeploymentRestart(ControllerHealed):
    """Rolls every replica of ``deployment`` (``app``, ``workers``) to a new one, under the
    deployment's own rolling-update strategy. ``settle`` waits until it is
    available."""

    name = "deployment_restart"
    blast_radius = "every replica of one deployment (rolled)"
    rollback = "nothing to undo (settle waits until the rollout is available)"

    def __init__(self, env_name: str, state_dir: str, deployment: str = "app",
                 timeout: float = 120.0) -> None:
        self.env_name, self.state_dir = env_name, state_dir
        self.deployment, self.timeout = deployment, timeout

    def inject(self) -> None:
        self._role().rollout_restart()

    def describe(self) -> dict[str, Any]:
        return {"env_name": self.env_name, "state_dir": self.state_dir, "deployment": self.deployment,
                "timeout": self.timeout}
