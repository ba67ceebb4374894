"""Setting a deployment's environment with a rollout strategy where the driver offers one."""

from __future__ import annotations

from typing import Any


def set_env(role: Any, values: dict[str, str | None], strategy: str) -> None:
    """``Recreate`` (all replicas at once: what "stop, repoint, restart" is) or
    ``RollingUpdate``; drivers without strategies roll as they do."""
    if hasattr(role, "set_env_with_cause"):
        role.set_env_with_cause(values, "drillbook", strategy=strategy)
    else:
        role.set_env(**values)
