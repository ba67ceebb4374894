from __future__ import annotations

import pytest

from drillbook.faults.deployment_kill import DeploymentKill
from tests.fault_injectors.cases import ContractCase, workers_replaced_case


def make(request: pytest.FixtureRequest) -> ContractCase:
    return workers_replaced_case(
        request, lambda where: DeploymentKill(**where, deployment="workers", count=1, timeout=60))
