"""The twin's RDS API on the session's shared local environment (tests leave it as found)."""

from __future__ import annotations

from typing import Any

import pytest

from drillbook.twin.environment import LocalEnvironment
from tests.local_env import SharedEnv
from tests.twin.rds.support import DR_REGION, AwsCli, aws_executable, rds_client


@pytest.fixture
def env(local_env: SharedEnv) -> LocalEnvironment:
    return local_env.env


@pytest.fixture
def cli(env: LocalEnvironment) -> AwsCli:
    return AwsCli(env.aws_endpoint.url or "", aws_executable())


@pytest.fixture
def rds(env: LocalEnvironment) -> Any:
    return rds_client(env)


@pytest.fixture
def rds_west(env: LocalEnvironment) -> Any:
    return rds_client(env, DR_REGION)
