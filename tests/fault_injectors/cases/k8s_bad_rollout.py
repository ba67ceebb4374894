from __future__ import annotations

import pytest

from drillbook.faults.k8s_bad_rollout import K8sBadRollout
from tests.environments.staging.kube_case import cluster
from tests.fault_injectors.cases import ContractCase


def make(request: pytest.FixtureRequest) -> ContractCase:
    c = cluster(request)
    # The application needs DATABASE_URL (the emulator crash-loops its pods without it).
    fault = K8sBadRollout("api", env={"DATABASE_URL": None}, **c.params)  # type: ignore[arg-type]
    return ContractCase(
        fault, steady=c.available, broken=lambda: any(p.waiting == "CrashLoopBackOff" for p in c.pods())
    )
