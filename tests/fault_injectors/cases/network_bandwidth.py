from __future__ import annotations

import time

import pytest

from drillbook.faults.network_bandwidth import NetworkBandwidth
from tests.fault_injectors.cases import ContractCase
from tests.toxiproxy.services import proxied_redis

SIZE = 200_000


def make(request: pytest.FixtureRequest) -> ContractCase:
    service = proxied_redis(request)
    service.client().set("payload", b"x" * SIZE)
    fault = NetworkBandwidth(service.server.url, service.proxy.name, rate_kb_s=400)

    def fetch_seconds() -> float:
        client = service.client(timeout=5.0)
        try:
            start = time.monotonic()
            assert len(client.get("payload") or b"") == SIZE
            return time.monotonic() - start
        finally:
            client.close()

    # 200 kB at 400 kB/s takes 0.5 s; unthrottled, a few milliseconds.
    return ContractCase(fault, steady=lambda: fetch_seconds() < 0.2, broken=lambda: fetch_seconds() >= 0.4)
