from __future__ import annotations

import pytest

from drillbook.faults.network_partition import NetworkPartition
from tests.fault_injectors.cases import ContractCase
from tests.toxiproxy.services import connect_fails, proxied_redis


def make(request: pytest.FixtureRequest) -> ContractCase:
    service = proxied_redis(request)
    fault = NetworkPartition(service.server.url, service.proxy.name, mode="down")
    return ContractCase(fault, steady=service.ping, broken=lambda: connect_fails(service.port))
