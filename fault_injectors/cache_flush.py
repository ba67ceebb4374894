"""Flush the cache (``FLUSHDB``): every session is gone."""

from __future__ import annotations

from typing import Any

from drillbook.faults._env import open_environment
from drillbook.faults.base import Fault


class CacheFlush(Fault):
    """Empties the environment's cache role: every user is logged out (the DR procedures'
    way to revoke all tokens). Nothing to revert: sessions are rebuilt at the next login."""

    name = "cache_flush"
    blast_radius = "every key of the cache (sessions)"
    rollback = "nothing to undo: users log in again"

    def __init__(self, env_name: str, state_dir: str) -> None:
        self.env_name, self.state_dir = env_name, state_dir

    def inject(self) -> None:
        open_environment(self.env_name, self.state_dir).cache.flush()

    def revert(self) -> None:
        return None

    def describe(self) -> dict[str, Any]:
        return {"env_name": self.env_name, "state_dir": self.state_dir}
