"""``drillbook env check`` and the staging drivers reach the twin through the kubeconfig it writes,
as they reach a real cluster: the official client loads it, SelfSubjectAccessReview answers."""

from __future__ import annotations

from pathlib import Path

from drillbook.harness.config import load_config
from drillbook.harness.environments.factory import build_environment
from drillbook.harness.environments.preflight import READY, preflight
from drillbook.harness.environments.staging.environment import StagingEnvironment
from tests.twin.kube.support import Twin, twin

__all__ = ["twin"]
PROFILE = """
[environments.staging]
description = "the twin's Kubernetes API, through its kubeconfig"

[environments.staging.kubernetes]
kubeconfig = "{kubeconfig}"
context = "drillbook-local"
namespace = "production"
request_timeout = "5s"

[environments.staging.app]
deployment = "api"
selector = "app=api"

[environments.staging.workers]
deployment = "workers"
selector = "app=workers"
"""


def test_env_check_of_a_profile_on_the_twins_kubeconfig(twin: Twin, tmp_path: Path) -> None:
    path = tmp_path / "drillbook.toml"
    path.write_text(PROFILE.format(kubeconfig=twin.kubeconfig))
    env = build_environment("staging", load_config(path), tmp_path)
    assert isinstance(env, StagingEnvironment)
    checks = {(r.role, r.check): (r.status, r.detail) for r in preflight(env, timeout=10)}
    assert checks[("app", "API server reachable")] == (READY, "API server v1.32.0-drillbook-twin")
    assert checks[("app", "deployment api")] == (READY, "production/api: complete, 3/3 available")
    assert checks[("app", "RBAC permissions")] == (READY, "12 verbs allowed (SelfSubjectAccessReview)")
    assert checks[("workers", "deployment workers")][0] == READY
    replicas = env.app.replicas()
    assert len(replicas) == 3 and {r.zone for r in replicas} == {"az-a", "az-b"}
    assert all(r.ready and r.phase == "Running" for r in replicas)
    # `kubectl logs <pod>` through the role (pods/log): the replica's own output.
    assert env.app.logs(replicas[0].name).strip()
