"""The one door from a drill to the local twin's own objects, for the drills not yet written
against the role drivers (they need the ``twin.internals`` capability, so they are skipped
elsewhere before they get here).

Typed, so such a drill needs no ``type: ignore``; in one place, so what still reaches past
the roles is listed by one import (tests/drills/test_imports.py keeps that list shrinking).
"""

from __future__ import annotations

from drillbook.harness.environments.base import DatabaseInstance, Environment, RoleUnavailable
from drillbook.twin.app_plane import AppPlane
from drillbook.twin.database import LocalInstance
from drillbook.twin.environment import LocalEnvironment
from drillbook.twin.postgres import PostgresCluster
from drillbook.twin.supervisor.client import Deployment, SupervisorClient


def local(env: Environment) -> LocalEnvironment:
    """``env`` as the local twin; any other environment raises RoleUnavailable."""
    if not isinstance(env, LocalEnvironment):
        raise RoleUnavailable(
            f"environment {env.name!r} is not the local twin: this drill needs the capability twin.internals"
        )
    return env


def app_plane(env: Environment) -> AppPlane:
    plane = local(env).app_plane
    if plane is None:
        raise RoleUnavailable("the local app plane is not up; run `drillbook env up`")
    return plane


def api(env: Environment) -> Deployment:
    """The local API deployment (the supervisor's, with its logs and pod URLs)."""
    return app_plane(env).api


def supervisor(env: Environment) -> SupervisorClient:
    return app_plane(env).supervisor


def cluster_of(instance: DatabaseInstance) -> PostgresCluster:
    """The data directory's server behind a local instance (for ``database.data_directory``)."""
    if not isinstance(instance, LocalInstance):
        raise RoleUnavailable(f"instance {instance.name!r} offers no data directory: it is not the twin's")
    return instance.cluster
