"""The one door from a drill to the local twin's own objects, for the parts that need what only
the twin's platform offers: the database's data directory (``database.data_directory``: the
heap page overwritten by 2D, ``pg_checksums`` of a restored copy) and its servers' tools.

Every role a drill uses is a staging driver, also locally (``DrivenLocalEnvironment``); this
module is where a drill may still reach past them, typed (no ``type: ignore``) and in one place,
so what reaches past the roles is listed by one import (tests/drills/test_imports.py keeps that
list shrinking).
"""

from __future__ import annotations

from drillbook.harness.environments.base import DatabaseInstance, Environment, RoleUnavailable
from drillbook.twin.driven import DrivenLocalEnvironment
from drillbook.twin.postgres import PostgresCluster


def cluster_of(env: Environment, instance: DatabaseInstance) -> PostgresCluster:
    """The twin's server behind ``instance`` (any instance its RDS API made), for
    ``database.data_directory``; elsewhere RoleUnavailable."""
    cluster = getattr(instance, "cluster", None)
    if isinstance(cluster, PostgresCluster):
        return cluster
    if isinstance(env, DrivenLocalEnvironment):
        return env.cluster_serving(instance.dsn())
    raise RoleUnavailable(f"instance {instance.name!r} offers no data directory: it is not the twin's")
