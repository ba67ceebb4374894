from __future__ import annotations

import pytest

from drillbook.faults.restored_database import RestoredDatabase
from tests.fault_injectors.cases import ContractCase
from tests.local_env import shared_local_env


def make(request: pytest.FixtureRequest) -> ContractCase:
    shared = shared_local_env(request.config)
    database = shared.env.local_database
    fault = RestoredDatabase(**shared.where(), instance="contract-restore", snapshot="latest")

    def present() -> bool:
        return any(i.name == "contract-restore" and i.running() for i in database.instances())

    return ContractCase(fault, steady=lambda: not present(), broken=present, timeout=60)
