"""The built-in fault space of ``drillbook explore``: the database failover is a mode of the
database restart, there where the environment publishes its RDS primary."""

from __future__ import annotations

from typing import Any

from drillbook.drills.explore_reference import database_restart, restart_modes
from drillbook.faults.database_failover import DatabaseFailover
from drillbook.faults.database_stop import DatabaseStop
from drillbook.harness.environments.base import Environment


class Published(Environment):
    """An environment that publishes ``access`` and nothing else (enough for the space's modes)."""

    def __init__(self, access: dict[str, Any]) -> None:
        super().__init__()
        self._access = access

    def access(self) -> dict[str, Any]:
        return self._access


def test_the_failover_is_a_restart_mode_only_where_the_rds_primary_is_published() -> None:
    twin = Published({"endpoints": {"database": {"instance_id": "compliant-prod"}}})
    assert restart_modes(twin) == ["fast", "immediate", "failover"]
    assert restart_modes(Published({})) == ["fast", "immediate"]
    unnamed = Published({"endpoints": {"database": {"instance_id": None}}})
    assert restart_modes(unnamed) == ["fast", "immediate"]


def test_each_mode_builds_its_fault() -> None:
    failover = database_restart("local", "/state", "failover")
    assert isinstance(failover, DatabaseFailover)
    assert failover.describe()["env_name"] == "local"
    stop = database_restart("local", "/state", "immediate")
    assert isinstance(stop, DatabaseStop) and stop.mode == "immediate"
