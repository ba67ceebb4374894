"""Roll out a release that cannot start (Scenario 5, "application repeatedly crashing")."""

from __future__ import annotations

import uuid
from typing import Any

from drillbook.faults.base import Fault
from drillbook.harness.errors import InvalidDrillConfig
from drillbook.twin.service.images import BAD_VERSION
from drillbook.twin.supervisor import Deployment, SupervisorClient

STRATEGIES = ("Recreate", "RollingUpdate")


class BadRelease(Fault):
    """A new release of ``deployment`` whose replicas crash at start: a ``version``
    that needs a variable no release sets (default :data:`BAD_VERSION`), or the
    current version with one required variable removed (``unset_env``).

    With ``Recreate`` every replica is replaced and the service goes down in
    CrashLoopBackOff; with ``RollingUpdate`` the rollout stalls on its first new
    replica while the old ones keep serving. Revert is ``rollout undo`` to the
    release before, done only while the release this fault made (marked with its
    ``fault_id``) is still current: a runbook that already rolled back or fixed it
    forward is left alone.
    """

    name = "bad_release"
    blast_radius = "every replica of one deployment (Recreate) or one surge replica (RollingUpdate)"
    rollback = "rollout undo to the previous release"

    def __init__(self, deployment: str = "api", version: str | None = BAD_VERSION,
                 unset_env: str | None = None, strategy: str = "Recreate", *,
                 state_dir: str | None = None, control_url: str | None = None, timeout: float = 120.0,
                 fault_id: str | None = None) -> None:
        if (version is None) == (unset_env is None):
            raise InvalidDrillConfig("give exactly one of version (a crashing release) or unset_env "
                                     "(a required variable to remove)")
        if strategy not in STRATEGIES:
            raise InvalidDrillConfig(f"strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}")
        self.deployment, self.version, self.unset_env = deployment, version, unset_env
        self.strategy = strategy
        self.state_dir, self.control_url, self.timeout = state_dir, control_url, timeout
        self.fault_id = fault_id or f"bad_release-{uuid.uuid4().hex[:12]}"

    def _target(self) -> Deployment:
        return SupervisorClient.locate(state_dir=self.state_dir, control_url=self.control_url).deployment(
            self.deployment)

    @property
    def cause(self) -> str:
        return f"drillbook fault {self.fault_id}"

    def inject(self) -> None:
        target = self._target()
        if self.version is not None:
            target.set_image(self.version, strategy=self.strategy, cause=self.cause)
        else:
            assert self.unset_env is not None
            target.set_env_with_cause({self.unset_env: None}, self.cause, strategy=self.strategy)

    def revert(self) -> None:
        target = self._target()
        target.rollout_undo(only_if_cause=self.fault_id)
        target.wait_available(self.timeout)

    def describe(self) -> dict[str, Any]:
        return {"deployment": self.deployment, "version": self.version, "unset_env": self.unset_env,
                "strategy": self.strategy, "state_dir": self.state_dir, "control_url": self.control_url,
                "timeout": self.timeout, "fault_id": self.fault_id}
