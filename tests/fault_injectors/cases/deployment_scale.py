from __future__ import annotations

import pytest

from drillbook.faults.deployment_scale import DeploymentScale
from tests.fault_injectors.cases import ContractCase
from tests.local_env import shared_local_env


def make(request: pytest.FixtureRequest) -> ContractCase:
    shared = shared_local_env(request.config)
    workers = shared.env.workers
    fault = DeploymentScale(**shared.where(), deployment="workers", replicas=0)
    wanted = fault.previous

    def steady() -> bool:
        ready = [r for r in workers.replicas() if r.ready]
        return len(ready) == wanted

    return ContractCase(fault, steady=steady, broken=lambda: not workers.replicas(), timeout=60)
