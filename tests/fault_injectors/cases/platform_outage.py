from __future__ import annotations

import pytest

from drillbook.faults.platform_outage import PlatformOutage
from drillbook.twin import components
from tests.fault_injectors.cases import ContractCase
from tests.local_env import shared_local_env


def make(request: pytest.FixtureRequest) -> ContractCase:
    shared = shared_local_env(request.config)
    env = shared.env

    def everything_up() -> bool:
        return (
            env.database.running()
            and components.redis_running(env)
            and components.front_door_running(env)
            and all(r.ready for r in env.app.replicas())
            and len(env.app.replicas()) == 3
        )

    def everything_down() -> bool:
        return (
            not env.database.running()
            and not components.redis_running(env)
            and not components.front_door_running(env)
            and not env.app.replicas()
        )

    return ContractCase(
        PlatformOutage(**shared.where()), steady=everything_up, broken=everything_down, timeout=90
    )
