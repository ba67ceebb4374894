"""Fixtures of the drill suite: the platform of the environment under drill."""

from __future__ import annotations

import pytest

from drills.platform import Platform
from harness.environments.base import Environment


@pytest.fixture(scope="session")
def platform(env: Environment) -> Platform:
    return Platform(env)
