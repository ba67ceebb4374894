"""Roll out a release that cannot start, through the deployment role (Scenario 5 on any
environment: the local supervisor or a Kubernetes deployment)."""

from __future__ import annotations

from typing import Any

from drillbook.faults._env import deployment, open_environment
from drillbook.faults.base import Fault
from drillbook.harness.errors import InvalidDrillConfig

STRATEGIES = ("Recreate", "RollingUpdate")


def image_tag(version: str) -> str:
    """The tag of an image reference (``registry/app:1.1.0`` -> ``1.1.0``); a bare tag as it is."""
    name = version.split("@", 1)[0].rsplit("/", 1)[-1]
    return name.rsplit(":", 1)[-1] if ":" in name else name


class DeploymentBadRelease(Fault):
    """``kubectl set image`` of ``deployment`` to ``version``, a release whose replicas crash at
    start, rolled out with ``strategy`` (``Recreate``: every replica replaced, the service down in
    CrashLoopBackOff; ``RollingUpdate``: the rollout stalls, the old replicas serve).

    The release of record (version, environment, strategy) is read when the fault is built.
    Revert is ``rollout undo`` done only while the bad release is still the current one (its
    version with the environment of record): a runbook that rolled back, set the missing
    variable or rolled a hotfix forward is left alone. A strategy the undo did not restore (on
    Kubernetes it belongs to the deployment, not to a revision) is set back.
    """

    name = "deployment_bad_release"
    blast_radius = "every replica of one deployment (Recreate) or one surge replica (RollingUpdate)"
    rollback = "rollout undo to the release of record while the bad release is current"

    def __init__(
        self,
        env_name: str,
        state_dir: str,
        version: str,
        deployment: str = "app",
        strategy: str = "Recreate",
        previous: dict[str, Any] | None = None,
        timeout: float = 120.0,
    ) -> None:
        if strategy not in STRATEGIES:
            raise InvalidDrillConfig(f"strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}")
        if not version.strip():
            raise InvalidDrillConfig("give the version (an image tag or reference) of the bad release")
        self.env_name, self.state_dir, self.deployment = env_name, state_dir, deployment
        self.version, self.strategy, self.timeout = version, strategy, timeout
        if previous is None:
            status = self._role().status()
            previous = {"version": str(status["version"]), "env": dict(status["env"]),
                        "strategy": self._strategy()}
        self.previous: dict[str, Any] = dict(previous)

    def _role(self) -> Any:
        return deployment(open_environment(self.env_name, self.state_dir), self.deployment)

    def _strategy(self) -> str | None:
        """The deployment's own strategy where the driver keeps one (Kubernetes); None elsewhere."""
        read = getattr(self._role(), "strategy", None)
        return str(read()) if callable(read) else None

    def inject(self) -> None:
        role = self._role()
        if image_tag(str(role.status()["version"])) == image_tag(self.version):
            return  # injected already: the bad release is rolling out
        if hasattr(role, "set_env_with_cause"):  # the local supervisor: a strategy per release
            role.set_image(self.version, strategy=self.strategy, cause=f"drillbook fault {self.name}")
        else:
            role.set_image(self.version, strategy=self.strategy)

    def _still_bad(self, status: dict[str, Any]) -> bool:
        return image_tag(str(status["version"])) == image_tag(self.version) and dict(status["env"]) == dict(
            self.previous.get("env") or {})

    def revert(self) -> None:
        role = self._role()
        if self._still_bad(role.status()):
            role.rollout_undo()
        wanted = self.previous.get("strategy")
        if wanted and self._strategy() != wanted:
            role.set_strategy(wanted)
        role.wait_available(self.timeout)

    def describe(self) -> dict[str, Any]:
        return {
            "env_name": self.env_name,
            "state_dir": self.state_dir,
            "version": self.version,
            "deployment": self.deployment,
            "strategy": self.strategy,
            "previous": {"version": self.previous.get("version"), "strategy": self.previous.get("strategy"),
                         "env": dict(self.previous.get("env") or {})},
            "timeout": self.timeout,
        }
