from __future__ import annotations

import pytest
import redis

from drillbook.faults.network_reset import NetworkReset
from tests.fault_injectors.cases import ContractCase
from tests.toxiproxy.services import proxied_redis


def make(request: pytest.FixtureRequest) -> ContractCase:
    service = proxied_redis(request)
    fault = NetworkReset(service.server.url, service.proxy.name)

    def reset() -> bool:
        client = service.client()
        try:
            client.ping()
        except redis.ConnectionError as exc:
            return "reset" in str(exc).lower()
        finally:
            client.close()
        return False

    return ContractCase(fault, steady=service.ping, broken=reset)
