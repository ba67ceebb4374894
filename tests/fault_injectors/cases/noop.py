from __future__ import annotations

import pytest

from drillbook.faults.noop import NoopFault
from tests.fault_injectors.cases import ContractCase


def make(request: pytest.FixtureRequest) -> ContractCase:
    fault = NoopFault("contract")
    return ContractCase(fault, steady=lambda: True)
