from __future__ import annotations

import pytest

from drillbook.faults.zone_failure import ZoneFailure
from tests.fault_injectors.cases import ContractCase
from tests.twin.app_plane_support import plane_steady, shared_plane


def make(request: pytest.FixtureRequest) -> ContractCase:
    plane = shared_plane(request)
    fault = ZoneFailure("az-a", control_url=plane.supervisor.url)

    def broken() -> bool:
        return plane.supervisor.zones()["az-a"] and all(
            r.zone != "az-a" for d in (plane.api, plane.workers) for r in d.replicas())

    return ContractCase(fault, steady=lambda: plane_steady(plane), broken=broken, timeout=60)
