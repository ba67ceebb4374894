from __future__ import annotations

import pytest

from drillbook.faults.k8s_scale_to_zero import K8sScaleToZero
from tests.environments.staging.kube_case import cluster
from tests.fault_injectors.cases import ContractCase


def make(request: pytest.FixtureRequest) -> ContractCase:
    c = cluster(request)
    fault = K8sScaleToZero("api", **c.params)  # type: ignore[arg-type]
    return ContractCase(
        fault, steady=lambda: c.available() and len(c.pods()) == 4, broken=lambda: c.pods() == []
    )
