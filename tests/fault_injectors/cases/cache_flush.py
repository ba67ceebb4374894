from __future__ import annotations

import uuid

import pytest
import redis

from drillbook.faults.cache_flush import CacheFlush
from tests.fault_injectors.cases import ContractCase
from tests.local_env import shared_local_env


def make(request: pytest.FixtureRequest) -> ContractCase:
    shared = shared_local_env(request.config)
    cache = shared.env.cache
    client = redis.Redis.from_url(cache.url(), socket_timeout=2.0, socket_connect_timeout=2.0)
    key = f"contract-case-{uuid.uuid4().hex}"
    client.set(key, "session", ex=600)  # a session the flush must take with it
    return ContractCase(CacheFlush(**shared.where()), steady=lambda: cache.ping(0.5),
                        broken=lambda: client.exists(key) == 0)
