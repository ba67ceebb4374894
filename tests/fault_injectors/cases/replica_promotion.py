from __future__ import annotations

import pytest

from drillbook.faults.replica_promotion import ReplicaPromotion
from tests.fault_injectors.cases import ContractCase
from tests.local_env import shared_local_env


def make(request: pytest.FixtureRequest) -> ContractCase:
    shared = shared_local_env(request.config)
    replica = shared.env.local_replica

    def streaming() -> bool:
        return replica.running() and not replica.promoted() and replica.lag_s() is not None

    return ContractCase(ReplicaPromotion(**shared.where()), steady=streaming, broken=replica.promoted,
                        timeout=90)
