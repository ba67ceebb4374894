"""Change a deployment's environment (a new release), undone by restoring the previous values."""

from __future__ import annotations

from typing import Any

from drillbook.faults._env import deployment, open_environment
from drillbook.faults._rollout import set_env
from drillbook.faults.base import Change, Fault
from drillbook.harness.environments.base import DeploymentRole


class DeploymentEnv(Fault, Change):
    """Sets variables on a deployment (``kubectl set env``): ``READ_ONLY_MODE=true`` to stop
    write traffic, ``DATABASE_URL`` to switch over, a missing variable to fix a crash.

    ``previous`` (read when the object is built, if not given) holds the values to
    restore; None means the variable was not set. Values must not be secrets.
    """

    name = "deployment_env"
    blast_radius = "every replica of one deployment (rolled)"
    rollback = "set the previous values again (a new rollout)"

    def __init__(
        self,
        env_name: str,
        state_dir: str,
        deployment: str,
        values: dict[str, str | None],
        previous: dict[str, str | None] | None = None,
        timeout: float = 120.0,
        strategy: str = "RollingUpdate",
    ) -> None:
        self.env_name, self.state_dir, self.deployment = env_name, state_dir, deployment
        self.values, self.timeout, self.strategy = dict(values), timeout, strategy
        if previous is None:
            current = self._role().env()
            previous = {key: current.get(key) for key in values}
        self.previous = dict(previous)

    def _role(self) -> DeploymentRole:
        return deployment(open_environment(self.env_name, self.state_dir), self.deployment)  # type: ignore[no-any-return]

    def inject(self) -> None:
        role = self._role()
        set_env(role, self.values, self.strategy)
        role.wait_available(self.timeout)

    def revert(self) -> None:
        role = self._role()
        current = role.env()
        if all(current.get(key) == value for key, value in self.previous.items()):
            return
        # Undoing is cleanup: every replica at once is faster and nobody is served meanwhile.
        # Not waited for: what this release needs (a database, a cache) may only come back
        # with a revert made after this one; the drill checks the steady state after them all.
        set_env(role, self.previous, "Recreate")

    def settle(self, timeout: float) -> None:
        self._role().wait_available(timeout)

    def describe(self) -> dict[str, Any]:
        return {
            "env_name": self.env_name,
            "state_dir": self.state_dir,
            "deployment": self.deployment,
            "values": self.values,
            "previous": self.previous,
            "timeout": self.timeout,
            "strategy": self.strategy,
        }
