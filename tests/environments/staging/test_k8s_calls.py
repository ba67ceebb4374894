"""The Kubernetes driver's calls, recorded against the emulator and the twin (real HTTP): each
one with its RBAC verb and resource, namespace and name, outcome, and the ``Audit-Id`` the
server answered with (as a real API server does)."""

from __future__ import annotations

import pytest

from drillbook.harness.calls.scope import CallLog, scope
from drillbook.harness.environments.staging.k8s.client import KubeNotFound
from drillbook.harness.environments.staging.k8s.deployments import Deployments
from drillbook.harness.records import CallerKind
from tests.environments.staging.kube_target import KubeTarget


def test_deployment_calls_are_recorded(kube_target: KubeTarget) -> None:
    deployments = Deployments(kube_target.kube)
    replicas = deployments.get(kube_target.deployment).spec.replicas
    log = CallLog()
    with scope(log, CallerKind.STEP, "scale the API"):
        deployments.scale(kube_target.deployment, replicas)
        with pytest.raises(KubeNotFound):
            deployments.get("no-such-deployment")
    calls = log.records()
    assert [(c.service, c.permission, c.outcome) for c in calls] == [
        ("kubernetes", "apps/deployments:patch", "ok"),
        ("kubernetes", "apps/deployments:get", "404"),
    ]
    assert calls[0].operation == "patch deployments"
    assert calls[0].params == {"namespace": kube_target.namespace, "name": kube_target.deployment}
    assert all(c.caller == "scale the API" for c in calls)
    assert all(c.request_id for c in calls) and calls[0].request_id != calls[1].request_id
