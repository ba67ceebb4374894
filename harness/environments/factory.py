"""Build an environment by profile name: ``local`` is built in; others come from config."""

from __future__ import annotations

from pathlib import Path

from harness.config import Config
from harness.environments.base import Environment
from harness.errors import InvalidDrillConfig


def build_environment(name: str, config: Config, state_dir: Path) -> Environment:
    """The environment called ``name``; not started (``up()`` is the caller's)."""
    if name == "local":
        from harness.environments.local.environment import LocalEnvironment

        return LocalEnvironment(state_dir / "local", config=config)
    raise InvalidDrillConfig(
        f"unknown environment {name!r}: define [environments.{name}] in drillbook.toml or use --env local"
    )
