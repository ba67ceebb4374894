from __future__ import annotations

import pytest

from drillbook.faults.k8s_pod_kill import K8sPodKill
from tests.environments.staging.kube_case import cluster
from tests.fault_injectors.cases import ContractCase


def make(request: pytest.FixtureRequest) -> ContractCase:
    c = cluster(request)
    fault = K8sPodKill("app=api", percent=50, grace_period=0, deployment="api", **c.params)  # type: ignore[arg-type]

    def broken() -> bool:
        return bool(fault.killed) and not set(fault.killed) & {p.name for p in c.pods()}

    return ContractCase(fault, steady=c.available, broken=broken)
