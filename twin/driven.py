"""The local environment as drills see it: the twin, reached only through the staging drivers.

``LocalEnvironment`` starts and stops the twin and knows its processes; its own role objects
(``LocalDatabase``, the supervisor's deployments) are what the twin is built from and what the
twin's tests drive. A drill must not use them: a drill that passes locally through a local
shortcut proves nothing about the staging run (issue #14, "one code path"). So the environment
named ``local`` hands drills and faults the roles of a staging profile whose endpoints are the
running twin's (the one ``drillbook env profile`` prints): RDS through boto3 and the twin's RDS
API, the app and workers through the official Kubernetes client and the twin's API server,
Route 53, Secrets Manager and S3 on moto, the toxiproxy API, Redis and PostgreSQL URLs. Every
local run therefore makes the exact calls a staging run makes.

What differs from a generated profile: the twin's capabilities (every one: its data directories
are on this machine, found behind an instance's endpoint by :meth:`cluster_serving` for the
parts of drills that need them, through :mod:`drillbook.drills.twin_access`; its superuser is a
real one), its poll interval (tens of milliseconds), and the lifecycle (``up``/``down``/
``status`` are the twin's, with :meth:`settle` for its work in the background after ``up``).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from drillbook.harness.config import Config
from drillbook.harness.environments.base import ControlPlanes, Environment, RoleUnavailable
from drillbook.harness.environments.lifecycle import ComponentStatus, DownReport
from drillbook.harness.environments.staging.database import RdsDatabase
from drillbook.harness.environments.staging.environment import StagingEnvironment
from drillbook.harness.environments.staging.settings import load_staging
from drillbook.harness.environments.twin_profile import render_profile
from drillbook.harness.probes import Probe
from drillbook.twin.environment import EnvironmentNotUp, LocalEnvironment, Progress
from drillbook.twin.postgres import PostgresCluster

#: How long the twin's background work after ``up`` may take (the standby's base backup).
SETTLE_TIMEOUT_S = 120.0
#: The profile's name inside (error messages name the role as ``[environments.local.<role>]``).
PROFILE = "local"


class DrivenLocalEnvironment(Environment):
    """The twin (``.twin``) with the staging drivers as its roles."""

    name = "local"

    def __init__(self, state_dir: Path, *, config: Config | None = None) -> None:
        super().__init__()
        self.twin = LocalEnvironment(state_dir, config=config)
        self.capabilities = self.twin.capabilities
        self.poll_interval = self.twin.poll_interval
        self._drivers: StagingEnvironment | None = None

    # -- the lifecycle is the twin's -------------------------------------------------------

    def up(self, progress: Progress | None = None) -> bool:
        self._drivers = None
        return self.twin.up(progress)

    def down(self, progress: Progress | None = None) -> DownReport:
        self._drivers = None
        return self.twin.down(progress)

    def is_up(self) -> bool:
        return self.twin.is_up()

    def status(self) -> list[ComponentStatus]:
        return self.twin.status()

    def phase(self) -> str:
        return self.twin.phase()

    def versions(self) -> dict[str, str]:
        return self.twin.versions()

    def fingerprint(self) -> dict[str, Any]:
        return {**self.twin.fingerprint(), "roles": "staging drivers on the twin's APIs"}

    def access(self) -> dict[str, Any]:
        return self.twin.access()

    def app_status(self) -> list[ComponentStatus]:
        return self.twin.app_status()

    def settle(self, progress: Progress | None = None) -> None:
        """Wait until the RDS API calls the primary ``available``: it is ``modifying`` while the
        Multi-AZ standby is built after ``up`` (about 2 s), and RDS refuses a stop, a reboot
        or a failover then, as it would on AWS."""
        if not self.has("database"):
            return
        database = self.database
        assert isinstance(database, RdsDatabase)  # the twin's profile names an RDS instance
        database.rds.wait_status(database.name, "available", timeout=SETTLE_TIMEOUT_S, progress=progress)

    @property
    def state_dir(self) -> Path:
        return self.twin.state_dir

    # -- roles: the staging drivers, pointed at the twin ---------------------------------------

    @property
    def drivers(self) -> StagingEnvironment:
        """The staging environment of the twin's generated profile (built on first use, after up)."""
        if self._drivers is None:
            if self.twin.record is None:
                raise EnvironmentNotUp(
                    f"no local environment in {self.twin.state_dir}; run `drillbook env up`")
            endpoints = self.twin.access().get("endpoints")
            if not endpoints:
                raise EnvironmentNotUp("the twin's AWS APIs are not up; run `drillbook env down` then `up`")
            text = render_profile(PROFILE, endpoints)
            settings = load_staging(Config(tomllib.loads(text)), PROFILE)
            self._drivers = StagingEnvironment(settings, poll_interval=self.poll_interval)
        return self._drivers

    def has(self, name: str) -> bool:
        return self.twin.record is not None and self.drivers.has(name)

    def role(self, name: str) -> Any:
        if self.twin.record is None:
            return super().role(name)  # names the role, says this environment provides none yet
        return self.drivers.role(name)

    def control_planes(self) -> ControlPlanes:
        return self.drivers.control_planes()

    def steady_probes(self) -> list[Probe]:
        return self.twin.steady_probes()

    @property
    def front_door_url(self) -> str:
        return self.twin.front_door_url

    # -- the twin's own objects, for the capabilities only it has --------------------------------

    def cluster_serving(self, dsn: str) -> PostgresCluster:
        """The twin's server behind an instance's endpoint (its data directory, for
        ``database.data_directory``): any instance the twin's RDS API made."""
        port = urlsplit(dsn).port
        if port is None:
            raise RoleUnavailable(f"{dsn!r} names no port: not an endpoint of the twin")
        return self.twin.cluster_at(port)
