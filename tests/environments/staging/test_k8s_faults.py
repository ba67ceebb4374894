"""The Kubernetes faults beyond their contract: what their revert does after the drill's own
recovery, idempotent injection, and how much they say they would break."""

from __future__ import annotations

import pytest

from drillbook.faults.k8s_bad_rollout import BAD_ROLLOUT_OF, DEFAULT_BAD_IMAGE, K8sBadRollout
from drillbook.faults.k8s_pod_kill import K8sPodKill
from drillbook.faults.k8s_scale_to_zero import SCALED_FROM, K8sScaleToZero
from drillbook.faults.k8s_zone_drain import K8sZoneDrain
from drillbook.harness.environments.staging.k8s.deployments import Deployments
from drillbook.harness.environments.staging.k8s.nodes import Nodes
from drillbook.harness.environments.staging.k8s.rollout import Rollouts
from drillbook.harness.errors import InvalidDrillConfig
from tests.environments.staging.kube_target import KubeTarget


def params(t: KubeTarget) -> dict[str, object]:
    return {
        "namespace": t.namespace,
        "api_url": t.settings.api_url,
        "context": t.settings.context,
        "kubeconfig": t.settings.kubeconfig,
        "request_timeout": t.settings.request_timeout,
        "poll_interval": t.kube.poll_interval,
        "timeout": 120.0,
    }


def image(t: KubeTarget) -> str:
    return str(Deployments(t.kube).get(t.deployment).spec.template.spec.containers[0].image)


def test_bad_rollout_defaults_to_an_image_that_cannot_be_pulled(kube_target: KubeTarget) -> None:
    t = kube_target
    good = image(t)
    fault = K8sBadRollout(t.deployment, **params(t))  # type: ignore[arg-type]
    fault.inject()
    assert image(t) == DEFAULT_BAD_IMAGE
    fault.inject()  # twice: still one bad rollout
    assert Deployments(t.kube).annotations(t.deployment)[BAD_ROLLOUT_OF] == "1"
    fault.revert()
    assert image(t) == good and BAD_ROLLOUT_OF not in Deployments(t.kube).annotations(t.deployment)
    fault.revert()  # twice: nothing more is undone
    assert image(t) == good


def test_bad_rollout_revert_keeps_a_recovery_the_drill_made(kube_target: KubeTarget) -> None:
    """Scenario 5A: the drill rolled back itself; the fault's revert must not roll again."""
    t = kube_target
    deployments = Deployments(t.kube)
    fault = K8sBadRollout(t.deployment, env={"DATABASE_URL": None}, **params(t))  # type: ignore[arg-type]
    fault.inject()
    Rollouts(deployments).undo(t.deployment)  # the drill's recovery
    deployments.wait_available(t.deployment, timeout=120)
    revision = deployments.status(t.deployment).revision
    fault.revert()
    assert deployments.status(t.deployment).revision == revision  # no further rollout
    assert "DATABASE_URL" in deployments.env(t.deployment)


def test_bad_rollout_revert_keeps_a_fix_rolled_forward(kube_target: KubeTarget) -> None:
    """Scenario 5B: the missing variable set again (a new release, not a rollback)."""
    t = kube_target
    deployments = Deployments(t.kube)
    # Another URL of the same database (the twin's pods really connect to it).
    url = deployments.env(t.deployment)["DATABASE_URL"]
    fixed = f"{url}{'&' if '?' in url else '?'}application_name=fixed"
    fault = K8sBadRollout(t.deployment, env={"DATABASE_URL": None}, **params(t))  # type: ignore[arg-type]
    fault.inject()
    deployments.set_env(t.deployment, {"DATABASE_URL": fixed})
    fault.revert()
    assert deployments.env(t.deployment)["DATABASE_URL"] == fixed


def test_bad_rollout_arguments_are_checked() -> None:
    with pytest.raises(InvalidDrillConfig, match="env must map variable names"):
        K8sBadRollout("api", env={"X": 1})  # type: ignore[dict-item]


def test_scale_to_zero_records_the_count_on_the_deployment(kube_target: KubeTarget) -> None:
    t = kube_target
    deployments = Deployments(t.kube)
    fault = K8sScaleToZero(t.deployment, **params(t))  # type: ignore[arg-type]
    assert fault.blast().pods == 4
    fault.inject()
    fault.inject()  # twice: the first count stays recorded
    assert deployments.annotations(t.deployment)[SCALED_FROM] == "4"
    # Reverted from another process: only the deployment holds what to restore.
    K8sScaleToZero.from_params(fault.describe()).revert()
    assert deployments.status(t.deployment).available == 4
    assert SCALED_FROM not in deployments.annotations(t.deployment)


def test_pod_kill_says_how_many_pods_it_would_kill(kube_target: KubeTarget) -> None:
    t = kube_target
    blast = K8sPodKill(t.selector, percent=50, **params(t)).blast()  # type: ignore[arg-type]
    assert (blast.pods, blast.percent) == (2, 50.0)
    assert K8sPodKill(t.selector, count=1, **params(t)).blast().percent == 25.0  # type: ignore[arg-type]
    with pytest.raises(InvalidDrillConfig, match="exactly one of count"):
        K8sPodKill(t.selector, count=1, percent=10)


def test_zone_drain_leaves_nodes_cordoned_before_the_drill(kube_target: KubeTarget) -> None:
    t = kube_target
    t.require_nodes()
    nodes = Nodes(t.kube)
    if len(nodes.in_zone(t.zone)) < 2:
        pytest.skip(f"needs two nodes in {t.zone} (the twin has one node per zone)")
    first, second = nodes.in_zone(t.zone)[:2]
    nodes.cordon(first)  # an operator's cordon, before the drill
    fault = K8sZoneDrain(t.zone, grace_period=0, retry_interval=0.1, **params(t))  # type: ignore[arg-type]
    blast = fault.blast()
    assert blast.nodes == 2 and blast.pods is not None and blast.pods >= 1
    try:
        fault.inject()
        assert not nodes.schedulable(first) and not nodes.schedulable(second)
        fault.revert()
        assert nodes.schedulable(second) and not nodes.schedulable(first)
    finally:
        nodes.uncordon(first)
        nodes.uncordon(second)
