"""Promote the DR replica (``aws rds promote-read-replica``); undone by making it again
(``aws rds create-db-instance-read-replica`` on RDS)."""

from __future__ import annotations

from typing import Any

from drillbook.faults._env import open_environment
from drillbook.faults.base import Change
from drillbook.harness.environments.base import RebuildableReplica
from drillbook.harness.errors import FaultError


class ReplicaPromotion(Change):
    """Makes the DR replica a writable primary. A recovery change: once the drill is over,
    revert throws the promoted copy away and makes the replica again from the primary (a
    fresh standby clone locally; on RDS the promoted instance deleted with a final snapshot
    and CreateDBInstanceReadReplica), so the environment has its DR replica again."""

    name = "replica_promotion"
    blast_radius = "the DR replica (no longer a standby)"
    rollback = "rebuild the standby from the primary"

    def __init__(self, env_name: str, state_dir: str, timeout: float = 600.0) -> None:
        self.env_name, self.state_dir, self.timeout = env_name, state_dir, timeout

    def inject(self) -> None:
        open_environment(self.env_name, self.state_dir).replica.promote(timeout=self.timeout)

    def revert(self) -> None:
        env = open_environment(self.env_name, self.state_dir)
        replica = env.replica
        if not isinstance(replica, RebuildableReplica):
            raise FaultError(
                f"the DR replica {replica.name!r} was promoted and environment {env.name!r} cannot "
                "make it again by itself: recreate the read replica from the primary (aws rds "
                "create-db-instance-read-replica)"
            )
        if replica.promoted() or not replica.running():
            # A standby is cloned from a running primary: whatever stopped it (a fault
            # reverted after this change) is undone here first; its own revert is then a no-op.
            if not env.database.running():
                env.database.start(timeout=self.timeout)
            replica.rebuild(timeout=self.timeout)

    def describe(self) -> dict[str, Any]:
        return {"env_name": self.env_name, "state_dir": self.state_dir, "timeout": self.timeout}
