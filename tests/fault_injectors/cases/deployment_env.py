from __future__ import annotations

import pytest

from drillbook.faults.deployment_env import DeploymentEnv
from tests.fault_injectors.cases import ContractCase
from tests.local_env import shared_local_env


def make(request: pytest.FixtureRequest) -> ContractCase:
    shared = shared_local_env(request.config)
    app = shared.env.app
    fault = DeploymentEnv(**shared.where(), deployment="app", values={"DRILLBOOK_CONTRACT": "1"},
                          strategy="Recreate")
    return ContractCase(fault, steady=lambda: "DRILLBOOK_CONTRACT" not in app.env(),
                        broken=lambda: app.env().get("DRILLBOOK_CONTRACT") == "1", timeout=60)
