"""Fixtures of the drill suite: the platform of the environment under drill.

What a drill needs of the platform beyond the roles is a capability it names with
``@pytest.mark.requires_capability(...)`` (skipped, naming it, where it is missing).
"""

from __future__ import annotations

import pytest

from drillbook.drills.platform import Platform
from drillbook.harness.environments.base import Environment


@pytest.fixture(scope="session")
def platform(env: Environment) -> Platform:
    return Platform(env)
