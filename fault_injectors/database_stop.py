"""Stop the primary database (``aws rds stop-db-instance``, or a crash)."""

from __future__ import annotations

from typing import Any

from drillbook.faults._env import open_environment
from drillbook.faults.base import Fault
from drillbook.harness.errors import InvalidDrillConfig

MODES = ("fast", "immediate")


class DatabaseStop(Fault):
    """Stops the environment's primary: ``fast`` (a clean shutdown) or ``immediate`` (as a
    crash or a lost zone: no checkpoint, crash recovery at the next start). Revert
    starts it again and waits until it accepts connections."""

    name = "database_stop"
    blast_radius = "the primary database: every write and read of the platform"
    rollback = "start the primary again"

    def __init__(
        self, env_name: str, state_dir: str, mode: str = "immediate", timeout: float = 120.0
    ) -> None:
        if mode not in MODES:
            raise InvalidDrillConfig(f"invalid mode {mode!r} for {self.name}: use {' or '.join(MODES)}")
        self.env_name, self.state_dir, self.mode, self.timeout = env_name, state_dir, mode, timeout

    def inject(self) -> None:
        open_environment(self.env_name, self.state_dir).database.stop(self.mode, timeout=self.timeout)

    def revert(self) -> None:
        database = open_environment(self.env_name, self.state_dir).database
        if not database.running():
            database.start(timeout=self.timeout)

    def describe(self) -> dict[str, Any]:
        return {
            "env_name": self.env_name,
            "state_dir": self.state_dir,
            "mode": self.mode,
            "timeout": self.timeout,
        }
