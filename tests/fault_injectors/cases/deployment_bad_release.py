from __future__ import annotations

import pytest

from drillbook.faults.deployment_bad_release import DeploymentBadRelease, image_tag
from drillbook.twin.service.images import BAD_VERSION, GOOD_VERSION
from tests.fault_injectors.cases import ContractCase
from tests.local_env import SharedEnv


def make(request: pytest.FixtureRequest) -> ContractCase:
    shared: SharedEnv = request.getfixturevalue("local_env")
    api = shared.env.app
    fault = DeploymentBadRelease("local", str(shared.state_dir), BAD_VERSION, timeout=90)

    def release() -> tuple[str, str]:
        status = api.status()
        return image_tag(status["version"]), status["rollout"]

    def steady() -> bool:
        return release() == (GOOD_VERSION, "complete")

    def broken() -> bool:
        return release()[0] == BAD_VERSION and any(r.phase == "CrashLoopBackOff" for r in api.replicas())

    return ContractCase(fault, steady=steady, broken=broken, timeout=90)
