from __future__ import annotations

import pytest

from drillbook.faults.deployment_restart import DeploymentRestart
from tests.fault_injectors.cases import ContractCase
from tests.local_env import shared_local_env


def make(request: pytest.FixtureRequest) -> ContractCase:
    shared = shared_local_env(request.config)
    workers = shared.env.workers
    wanted = len(workers.replicas())
    before = {(r.name, r.pid) for r in workers.replicas()}

    def steady() -> bool:
        return len([r for r in workers.replicas() if r.ready]) == wanted

    def broken() -> bool:  # the rollout replaced a replica
        return any((r.name, r.pid) not in before for r in workers.replicas())

    return ContractCase(DeploymentRestart(**shared.where(), deployment="workers", timeout=60),
                        steady=steady, broken=broken, timeout=60)
