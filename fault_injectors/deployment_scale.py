"""Scale a deployment (to zero: no traffic at all), undone by scaling it back."""

from __future__ import annotations

from typing import Any

from drillbook.faults._env import deployment, open_environment
from drillbook.faults.base import Change, Fault
from drillbook.harness.environments.base import DeploymentRole


class DeploymentScale(Fault, Change):
    """``kubectl scale --replicas=N``; revert scales back to ``previous`` (read at build time)."""

    name = "deployment_scale"
    blast_radius = "every replica of one deployment (at zero)"
    rollback = "scale back to the previous replica count"

    def __init__(
        self,
        env_name: str,
        state_dir: str,
        deployment: str,
        replicas: int,
        previous: int | None = None,
        timeout: float = 120.0,
    ) -> None:
        self.env_name, self.state_dir, self.deployment = env_name, state_dir, deployment
        self.replicas, self.timeout = replicas, timeout
        if previous is None:
            previous = int(self._status()["replicas"])
        self.previous = previous

    def _role(self) -> DeploymentRole:
        return deployment(open_environment(self.env_name, self.state_dir), self.deployment)  # type: ignore[no-any-return]

    def _status(self) -> dict[str, Any]:
        return dict(self._role().status())  # type: ignore[attr-defined]

    def inject(self) -> None:
        self._role().scale(self.replicas)

    def revert(self) -> None:
        role = self._role()
        # Not waited for (see DeploymentEnv.revert): the drill checks the steady state after
        # every revert.
        if int(self._status()["replicas"]) != self.previous:
            role.scale(self.previous)

    def settle(self, timeout: float) -> None:
        self._role().wait_available(timeout)

    def describe(self) -> dict[str, Any]:
        return {
            "env_name": self.env_name,
            "state_dir": self.state_dir,
            "deployment": self.deployment,
            "replicas": self.replicas,
            "previous": self.previous,
            "timeout": self.timeout,
        }
