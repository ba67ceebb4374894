from __future__ import annotations

import pytest

from drillbook.faults.replica_kill import ReplicaKill
from tests.fault_injectors.cases import ContractCase
from tests.twin.app_plane_support import plane_steady, shared_plane


def make(request: pytest.FixtureRequest) -> ContractCase:
    plane = shared_plane(request)
    baseline = sum(r.restarts for r in plane.api.replicas())
    fault = ReplicaKill("api", count=2, state_dir=str(plane.state_dir), timeout=60)
    return ContractCase(fault, steady=lambda: plane_steady(plane),
                        broken=lambda: sum(r.restarts for r in plane.api.replicas()) >= baseline + 2,
                        timeout=60)
