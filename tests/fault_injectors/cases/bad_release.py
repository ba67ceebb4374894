from __future__ import annotations

import pytest

from drillbook.faults.bad_release import BadRelease
from tests.fault_injectors.cases import ContractCase
from tests.twin.app_plane_support import http, plane_steady, shared_plane


def make(request: pytest.FixtureRequest) -> ContractCase:
    plane = shared_plane(request)
    fault = BadRelease("api", state_dir=str(plane.state_dir), timeout=90)

    def broken() -> bool:
        looping = any(r.phase == "CrashLoopBackOff" for r in plane.api.replicas())
        return looping and http("GET", f"{plane.front_door_url}/api/health", timeout=3).status == 503

    return ContractCase(fault, steady=lambda: plane_steady(plane), broken=broken, timeout=90)
