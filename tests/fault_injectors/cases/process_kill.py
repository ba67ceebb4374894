from __future__ import annotations

import pytest

from drillbook.faults.process_kill import ProcessKill
from tests.fault_injectors.cases import ContractCase


def make(request: pytest.FixtureRequest) -> ContractCase:
    server = request.getfixturevalue("http_server")
    fault = ProcessKill(server.pid, server.argv, str(server.pidfile), cwd=str(server.directory))
    return ContractCase(fault, steady=server.up, broken=lambda: not server.up(0.2))
