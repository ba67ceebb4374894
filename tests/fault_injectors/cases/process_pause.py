from __future__ import annotations

import pytest

from drillbook.faults.process_pause import ProcessPause
from tests.fault_injectors.cases import ContractCase


def make(request: pytest.FixtureRequest) -> ContractCase:
    server = request.getfixturevalue("http_server")
    return ContractCase(ProcessPause(server.pid), steady=server.up, broken=lambda: not server.up(0.2))
