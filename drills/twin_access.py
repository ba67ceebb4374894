"""The one door from a drill to the local twin's own objects: for the drills not yet written
against the role drivers (they need the ``twin.internals`` capability, so they are skipped
elsewhere before they get here) and for the parts that need the database's data directory
(``database.data_directory``).

Typed, so such a drill needs no ``type: ignore``; in one place, so what still reaches past
the roles is listed by one import (tests/drills/test_imports.py keeps that list shrinking).
"""

from __future__ import annotations

from drillbook.harness.environments.base import DatabaseInstance, Environment, RoleUnavailable
from drillbook.twin.database import LocalInstance
from drillbook.twin.environment import LocalEnvironment
from drillbook.twin.postgres import PostgresCluster


def local(env: Environment) -> LocalEnvironment:
    """``env`` as the local twin; any other environment raises RoleUnavailable."""
    if not isinstance(env, LocalEnvironment):
        raise RoleUnavailable(
            f"environment {env.name!r} is not the local twin: this drill needs the capability twin.internals"
        )
    return env


def cluster_of(instance: DatabaseInstance) -> PostgresCluster:
    """The data directory's server behind a local instance (for ``database.data_directory``)."""
    if not isinstance(instance, LocalInstance):
        raise RoleUnavailable(f"instance {instance.name!r} offers no data directory: it is not the twin's")
    return instance.cluster
