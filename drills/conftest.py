"""Fixtures of the drill suite: the platform of the environment under drill."""

from __future__ import annotations

import pytest

from drillbook.drills.platform import Platform
from drillbook.harness.environments.base import Environment


@pytest.fixture(scope="session")
def platform(env: Environment) -> Platform:
    return Platform(env)


@pytest.fixture(autouse=True)
def _the_drill_fits_the_environment(request: pytest.FixtureRequest, env: Environment) -> None:
    """A drill module that needs the local platform says why in ``LOCAL_ONLY``; elsewhere
    (a staging profile) it is skipped with that reason instead of failing half-way."""
    why = getattr(request.module, "LOCAL_ONLY", None)
    if why and env.name != "local":
        pytest.skip(f"no {env.name} form yet: this drill needs {why}")
