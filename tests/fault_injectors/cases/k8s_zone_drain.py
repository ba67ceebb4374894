from __future__ import annotations

import pytest

from drillbook.faults.k8s_zone_drain import K8sZoneDrain
from tests.environments.staging.kube_case import cluster
from tests.fault_injectors.cases import ContractCase


def make(request: pytest.FixtureRequest) -> ContractCase:
    c = cluster(request)
    fault = K8sZoneDrain("az-a", grace_period=0, retry_interval=0.1, **c.params)  # type: ignore[arg-type]
    zone_a = c.nodes().in_zone("az-a")

    def steady() -> bool:
        return c.available() and all(c.nodes().schedulable(n) for n in zone_a)

    def broken() -> bool:
        return not any(c.nodes().schedulable(n) for n in zone_a) and all(
            p.node not in zone_a for p in c.pods()
        )

    return ContractCase(fault, steady=steady, broken=broken)
