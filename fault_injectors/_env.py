"""Faults and changes that act on an environment's roles find it again, in any
process, by its profile name and the drillbook state directory."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from drillbook.harness.config import find_config
from drillbook.harness.environments.base import Environment
from drillbook.harness.environments.factory import build_environment


@lru_cache(maxsize=8)
def open_environment(env_name: str, state_dir: str) -> Environment:
    """The environment ``env_name`` (attached, not started) whose state lives in ``state_dir``."""
    return build_environment(env_name, find_config(), Path(state_dir))


def deployment(env: Environment, name: str) -> Any:
    """A deployment by role name (``app``, ``workers``) or, where the environment has more
    than its roles (the local DR region's ``api-dr``), by its own name."""
    if env.has(name):
        return env.role(name)
    finder = getattr(env, "deployment", None)
    if finder is None:
        return env.role(name)  # raises RoleUnavailable naming the role
    return finder(name)
