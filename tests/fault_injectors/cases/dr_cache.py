from __future__ import annotations

import pytest

from drillbook.faults.dr_cache import DrCache
from drillbook.twin.cache import LocalCache
from tests.fault_injectors.cases import ContractCase
from tests.local_env import shared_local_env


def make(request: pytest.FixtureRequest) -> ContractCase:
    shared = shared_local_env(request.config)
    change = DrCache(**shared.where())
    cache = LocalCache("127.0.0.1", change.port)
    return ContractCase(
        change,
        steady=lambda: not cache.ping(0.3) and not change.directory.exists(),
        broken=lambda: cache.ping(0.3),
    )
