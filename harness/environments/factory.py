"""Build an environment by profile name: ``local`` is built in; others come from config
(``[environments.<name>]``: ``driver = "staging"`` by default, or ``"containers"``)."""

from __future__ import annotations

from pathlib import Path

from drillbook.harness.config import Config
from drillbook.harness.environments.base import Environment
from drillbook.harness.environments.profile import load_profile


def build_environment(name: str, config: Config, state_dir: Path) -> Environment:
    """The environment called ``name``; not started (``up()`` is the caller's). A bad profile
    raises a ConfigError naming the key and the fix."""
    if name == "local":
        # The twin, its roles the staging drivers on its APIs (twin/driven.py): one code path.
        from drillbook.twin.driven import DrivenLocalEnvironment

        return DrivenLocalEnvironment(state_dir / "local", config=config)
    profile = load_profile(config, name)
    if profile.kind == "containers":
        from drillbook.harness.environments.containers.environment import ContainersEnvironment

        return ContainersEnvironment(state_dir / name, profile=profile)
    if profile.kind == "local":
        table = profile.table
        assert table is not None
        raise table.error(
            "driver",
            'the local environment is the profile named "local"; use driver = '
            '"staging" or "containers" here, or --env local',
        )
    from drillbook.harness.environments.staging.environment import StagingEnvironment

    return StagingEnvironment.from_config(config, name)


def check_profile(name: str, config: Config) -> None:
    """Read every setting of profile ``name`` as :func:`build_environment` would, without
    starting or connecting anything: a bad value raises its ConfigError now, once."""
    if name == "local":
        from drillbook.twin.settings import LocalSettings

        LocalSettings.from_config(config)
        return
    profile = load_profile(config, name)
    if profile.kind == "staging":
        from drillbook.harness.environments.staging.settings import load_staging

        load_staging(config, name)
    elif profile.kind == "local":
        build_environment(name, config, Path())  # raises: the local profile is the one named local
