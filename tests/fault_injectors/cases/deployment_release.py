from __future__ import annotations

import pytest

from drillbook.faults.deployment_release import DeploymentRelease
from drillbook.twin.service.images import GOOD_VERSION, HOTFIX_VERSION
from tests.fault_injectors.cases import ContractCase
from tests.local_env import SharedEnv


def make(request: pytest.FixtureRequest) -> ContractCase:
    shared: SharedEnv = request.getfixturevalue("local_env")
    api = shared.env.app
    fault = DeploymentRelease("local", str(shared.state_dir), deployment="app", version=HOTFIX_VERSION,
                              values={"FEATURE_FLAGS_URL": "http://flags.test/v1"}, timeout=90)

    def release() -> tuple[str, str | None, str]:
        status = api.status()  # type: ignore[attr-defined]
        return status["version"], status["env"].get("FEATURE_FLAGS_URL"), status["rollout"]

    def steady() -> bool:
        return release() == (GOOD_VERSION, None, "complete")

    def broken() -> bool:
        return release() == (HOTFIX_VERSION, "http://flags.test/v1", "complete")

    return ContractCase(fault, steady=steady, broken=broken, timeout=90)
