from __future__ import annotations

import pytest

from drillbook.faults.deployment_restart import DeploymentRestart
from tests.fault_injectors.cases import ContractCase, workers_replaced_case


def make(request: pytest.FixtureRequest) -> ContractCase:
    return workers_replaced_case(
        request, lambda where: DeploymentRestart(**where, deployment="workers", timeout=60))
