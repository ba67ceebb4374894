"""Every component of the local platform down at once (Scenario 1, complete infrastructure
failure): the database, Redis, the service, the front door and the workers."""

from __future__ import annotations

from typing import Any

from drillbook.faults._env import open_environment
from drillbook.faults.base import Fault
from drillbook.twin import components


class PlatformOutage(Fault):
    """Stops the primary (immediate: as a crash), Redis, the front door, and scales the API
    and the workers to zero, as a provider outage would take them. The DR replica,
    the AWS APIs and the network stay (they are "another region" and the provider's
    control plane). Revert starts everything again in the DR procedures' order:
    database, Redis, service, front door, workers. Local environment only."""

    name = "platform_outage"
    blast_radius = "the whole primary platform: every request fails"
    rollback = "start database, Redis, service, front door, workers, in that order"

    def __init__(
        self,
        env_name: str,
        state_dir: str,
        replicas: int | None = None,
        workers: int | None = None,
        front_door: bool = True,
        timeout: float = 120.0,
    ) -> None:
        self.env_name, self.state_dir, self.timeout = env_name, state_dir, timeout
        #: False for a lost region: the front door stands for the global DNS-routed entry point.
        self.front_door = front_door
        env = self._env()
        self.replicas = replicas if replicas is not None else int(env.app.status()["replicas"])
        self.workers = workers if workers is not None else int(env.workers.status()["replicas"])

    def _env(self) -> Any:
        return open_environment(self.env_name, self.state_dir)

    def inject(self) -> None:
        env = self._env()
        env.app.scale(0)
        env.workers.scale(0)
        if self.front_door:
            components.stop_front_door(env)
        components.stop_redis(env)
        env.database.stop("immediate", timeout=self.timeout)

    def revert(self) -> None:
        env = self._env()
        if not env.database.running():
            env.database.start(timeout=self.timeout)
        components.start_redis(env)
        if int(env.app.status()["replicas"]) != self.replicas:
            env.app.scale(self.replicas)
        components.start_front_door(env)
        if int(env.workers.status()["replicas"]) != self.workers:
            env.workers.scale(self.workers)
        env.app.wait_available(self.timeout)
        env.workers.wait_available(self.timeout)

    def describe(self) -> dict[str, Any]:
        return {
            "env_name": self.env_name,
            "state_dir": self.state_dir,
            "replicas": self.replicas,
            "workers": self.workers,
            "front_door": self.front_door,
            "timeout": self.timeout,
        }
