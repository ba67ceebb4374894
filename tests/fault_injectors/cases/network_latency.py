from __future__ import annotations

import pytest

from drillbook.faults.network_latency import NetworkLatency
from tests.fault_injectors.cases import ContractCase
from tests.toxiproxy.services import proxied_redis


def make(request: pytest.FixtureRequest) -> ContractCase:
    service = proxied_redis(request)
    fault = NetworkLatency(service.server.url, service.proxy.name, latency_ms=400, jitter_ms=20)
    return ContractCase(
        fault,
        steady=lambda: service.ping_seconds() < 0.2,
        broken=lambda: service.ping_seconds() >= 0.35,
    )
