"""Roll a deployment to a new release (another version and/or environment), undone by
returning to a release of record."""

from __future__ import annotations

from typing import Any

from drillbook.faults._env import open_environment
from drillbook.faults._rollout import set_env
from drillbook.faults.base import Change
from drillbook.harness.errors import InvalidDrillConfig

STRATEGIES = ("RollingUpdate", "Recreate")


class DeploymentRelease(Change):
    """A release made by a runbook: ``kubectl set image`` to ``version`` and/or ``kubectl set
    env`` with ``values``, rolled out with ``strategy``, then waited for.

    ``previous`` is the release to return to: its version and the values of the
    variables ``values`` names (None: unset). Read when the object is built if not
    given; a drill builds the change *before* its fault, so that undoing a fix of a
    bad release (a hotfix, the missing variable set) returns to the release of
    record, not to the bad release the fix replaced. Revert rolls out ``previous``
    with ``Recreate`` (cleanup: nobody is served meanwhile) when the current release
    differs from it, and waits until the deployment is available.
    """

    name = "deployment_release"
    blast_radius = "every replica of one deployment (rolled)"
    rollback = "roll out the previous version and values again"

    def __init__(
        self,
        env_name: str,
        state_dir: str,
        deployment: str,
        version: str | None = None,
        values: dict[str, str | None] | None = None,
        strategy: str = "RollingUpdate",
        previous: dict[str, Any] | None = None,
        timeout: float = 120.0,
    ) -> None:
        if version is None and not values:
            raise InvalidDrillConfig("give a version to roll out, environment values to set, or both")
        if strategy not in STRATEGIES:
            raise InvalidDrillConfig(f"strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}")
        self.env_name, self.state_dir, self.deployment = env_name, state_dir, deployment
        self.version, self.values = version, dict(values or {})
        self.strategy, self.timeout = strategy, timeout
        if previous is None:
            current = self._role().env()
            previous = {"version": self._version(), "env": {key: current.get(key) for key in self.values}}
        version_before = previous.get("version")
        self.previous_version: str | None = None if version_before is None else str(version_before)
        self.previous_env: dict[str, str | None] = dict(previous.get("env") or {})

    def _role(self) -> Any:
        return open_environment(self.env_name, self.state_dir).role(self.deployment)

    def _version(self) -> str:
        return str(self._role().status()["version"])

    def _set_image(self, version: str, strategy: str) -> None:
        role = self._role()
        if hasattr(role, "set_env_with_cause"):  # the local supervisor: strategies per release
            role.set_image(version, strategy=strategy, cause="drillbook")
        else:
            role.set_image(version)

    def inject(self) -> None:
        if self.version is not None:
            self._set_image(self.version, self.strategy)
        if self.values:
            set_env(self._role(), self.values, self.strategy)
        self._role().wait_available(self.timeout)

    def revert(self) -> None:
        role = self._role()
        current = role.env()
        changed = False
        if self.previous_version is not None and self._version() != self.previous_version:
            self._set_image(self.previous_version, "Recreate")
            changed = True
        if any(current.get(key) != value for key, value in self.previous_env.items()):
            set_env(role, self.previous_env, "Recreate")
            changed = True
        if changed:
            role.wait_available(self.timeout)

    def describe(self) -> dict[str, Any]:
        return {
            "env_name": self.env_name,
            "state_dir": self.state_dir,
            "deployment": self.deployment,
            "version": self.version,
            "values": self.values,
            "strategy": self.strategy,
            "previous": {"version": self.previous_version, "env": self.previous_env},
            "timeout": self.timeout,
        }
