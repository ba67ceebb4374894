"""A fault on a deployment that its controller heals on its own (a kill, a rollout restart)."""

from __future__ import annotations

from typing import Any

from drillbook.faults._env import deployment, open_environment
from drillbook.faults.base import Fault


class ControllerHealed(Fault):
    """Nothing to revert: the deployment's controller replaces what the fault took, and
    ``settle`` waits until the deployment is available (a revert must not hold up the others).
    Subclasses set ``env_name``, ``state_dir``, ``deployment`` and ``timeout``."""

    env_name: str
    state_dir: str
    deployment: str
    timeout: float

    def _role(self) -> Any:
        return deployment(open_environment(self.env_name, self.state_dir), self.deployment)

    def revert(self) -> None:
        return None

    def settle(self, timeout: float) -> None:
        self._role().wait_available(timeout=min(timeout, self.timeout))
