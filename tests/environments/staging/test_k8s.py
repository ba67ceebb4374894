"""The Kubernetes drivers through the official client, against the API emulator and the twin
over HTTP (or a real cluster: see kube_target.py)."""

from __future__ import annotations

import time

import pytest
from kubernetes import client

from drillbook.harness.environments.staging.k8s.client import (
    Kube,
    KubeConfigError,
    KubeNotFound,
    KubeUnreachable,
)
from drillbook.harness.environments.staging.k8s.deployments import RESTARTED_AT, Deployments
from drillbook.harness.environments.staging.k8s.nodes import DrainRefused, Nodes
from drillbook.harness.environments.staging.k8s.pods import Pods, victims_count
from drillbook.harness.environments.staging.k8s.role import KubeDeployment
from drillbook.harness.environments.staging.k8s.rollout import RolloutError, Rollouts
from drillbook.harness.environments.staging.settings import DeploymentSettings, KubeSettings
from drillbook.harness.environments.staging.waiting import WaitTimeout
from drillbook.harness.errors import InvalidDrillConfig
from drillbook.twin.postgres import free_port
from tests.environments.staging.kube_target import KubeTarget


def names(t: KubeTarget) -> set[str]:
    return {p.name for p in Pods(t.kube).list(t.selector)}


def settled_names(t: KubeTarget, timeout: float = 30.0) -> set[str]:
    """The pods once none is terminating: a rollout is complete when its old pods are asked to
    stop (status.replicas counts no terminating pod), not when their processes are gone."""
    deadline = time.monotonic() + timeout
    pods = Pods(t.kube).list(t.selector)
    while any(p.terminating for p in pods) and time.monotonic() < deadline:
        time.sleep(0.05)
        pods = Pods(t.kube).list(t.selector)
    return {p.name for p in pods}


# -- pods ------------------------------------------------------------------------------------------


def test_kill_a_count_of_pods_and_the_replicaset_replaces_them(kube_target: KubeTarget) -> None:
    t = kube_target
    before = names(t)
    killed = Pods(t.kube).kill(t.selector, count=2, grace_period=0, seed=1)
    assert killed.matched == 4 and len(killed.names) == 2 and set(killed.names) <= before
    # The deployment's status may still count the killed pods: wait for the replacements.
    deadline = time.monotonic() + 60
    while (after := names(t)) and (len(after) != 4 or set(killed.names) & after) \
            and time.monotonic() < deadline:
        time.sleep(0.1)
    Deployments(t.kube).wait_available(t.deployment, timeout=60)
    assert len(after) == 4 and not set(killed.names) & after  # replaced by new pods


def test_kill_a_percentage(kube_target: KubeTarget) -> None:
    t = kube_target
    assert len(Pods(t.kube).kill(t.selector, percent=50, grace_period=0).names) == 2
    assert victims_count(4, count=None, percent=10) == 1  # rounded up: at least one
    assert victims_count(4, count=9, percent=None) == 4
    with pytest.raises(InvalidDrillConfig, match="exactly one of count"):
        victims_count(4, count=1, percent=50)
    with pytest.raises(InvalidDrillConfig, match="exceeds max_pods = 1"):
        Pods(t.kube).kill(t.selector, count=3, max_pods=1)


def test_a_selector_matching_nothing_names_the_key(kube_target: KubeTarget) -> None:
    with pytest.raises(
        KubeNotFound,
        match=r"no running pod matches selector 'app=nothing' in namespace "
        r"'.*': check \[environments.staging.app\] selector",
    ):
        Pods(kube_target.kube).kill("app=nothing", count=1)


# -- deployments --------------------------------------------------------------------------------------


def test_scale_to_zero_and_back(kube_target: KubeTarget) -> None:
    t = kube_target
    deployments = Deployments(t.kube)
    deployments.scale(t.deployment, 0)
    deployments.wait_available(t.deployment, timeout=60)
    # As kubectl rollout status, the wait may end on a status from before the pods were asked to
    # stop (on Kubernetes, before the ReplicaSet's status has synced): the pods are then gone
    # within moments. The twin observes a change once its control loop has acted on it.
    deadline = time.monotonic() + 30
    while deployments.status(t.deployment).current != 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert deployments.status(t.deployment).current == 0 and settled_names(t) == set()
    deployments.scale(t.deployment, 3)
    deployments.wait_available(t.deployment, timeout=60)
    assert deployments.status(t.deployment).available == 3 and len(settled_names(t)) == 3


def test_rollout_restart_replaces_every_pod(kube_target: KubeTarget) -> None:
    t = kube_target
    deployments = Deployments(t.kube)
    before, revision = names(t), deployments.status(t.deployment).revision
    at = deployments.rollout_restart(t.deployment)
    template = deployments.get(t.deployment).spec.template
    assert template.metadata.annotations[RESTARTED_AT] == at
    deployments.wait_available(t.deployment, timeout=120)
    assert not before & settled_names(t) and deployments.status(t.deployment).revision != revision


def test_a_bad_env_rollout_crash_loops_until_undone(kube_target: KubeTarget) -> None:
    t = kube_target
    deployments = Deployments(t.kube)
    lines: list[str] = []
    deployments.set_env(t.deployment, {"DATABASE_URL": None, "FEATURE": "on"})
    assert "DATABASE_URL" not in deployments.env(t.deployment)
    assert deployments.env(t.deployment)["FEATURE"] == "on"
    started = time.monotonic()
    with pytest.raises(WaitTimeout) as caught:
        deployments.wait_available(t.deployment, timeout=3, progress=lines.append)
    assert time.monotonic() - started < 15
    # Seen between two starts (CrashLoopBackOff, Error) or while it runs again (restarts).
    assert any(word in caught.value.last_state for word in ("CrashLoopBackOff", "Error", "restarts"))
    assert lines and all("to be available" in line for line in lines)
    # The old pods keep serving during the bad rollout (no downtime, like maxSurge).
    assert deployments.status(t.deployment).available >= 1
    history = Rollouts(deployments).history(t.deployment)
    assert [r.number for r in history] == [1, 2]
    target = Rollouts(deployments).undo(t.deployment)
    assert target is not None and target.number == 1
    deployments.wait_available(t.deployment, timeout=120)
    assert "DATABASE_URL" in deployments.env(t.deployment)
    # The template of revision 1 came back under a new revision number, as in Kubernetes.
    assert [r.number for r in Rollouts(deployments).history(t.deployment)] == [2, 3]


def test_a_bad_image_rollout_and_undo_to_a_named_revision(kube_target: KubeTarget) -> None:
    t = kube_target
    deployments = Deployments(t.kube)
    rollouts = Rollouts(deployments)
    good_image = deployments.get(t.deployment).spec.template.spec.containers[0].image
    deployments.set_image(t.deployment, "registry.invalid/compliant-api:does-not-exist")
    with pytest.raises(WaitTimeout, match=r"ImagePullBackOff|ErrImagePull"):
        deployments.wait_available(t.deployment, timeout=3)
    with pytest.raises(RolloutError, match="unable to find revision 9"):
        rollouts.undo(t.deployment, to_revision=9)
    assert rollouts.undo(t.deployment, to_revision=1) is not None
    deployments.wait_available(t.deployment, timeout=120)
    assert deployments.get(t.deployment).spec.template.spec.containers[0].image == good_image
    assert rollouts.undo(t.deployment, to_revision=3) is None  # already running it: skipped


def test_undo_without_history_is_a_clear_error(kube_target: KubeTarget) -> None:
    with pytest.raises(RolloutError, match="no rollout history found"):
        Rollouts(Deployments(kube_target.kube)).undo(kube_target.deployment)


def test_missing_deployment_names_the_key(kube_target: KubeTarget) -> None:
    with pytest.raises(
        KubeNotFound,
        match=r"no deployment 'nope' in namespace '.*': check "
        r"\[environments.staging.app\] deployment",
    ):
        Deployments(kube_target.kube).scale("nope", 1)


def test_wait_available_times_out_within_its_limit(kube_target: KubeTarget) -> None:
    t = kube_target
    deployments = Deployments(t.kube)
    deployments.set_image(t.deployment, "registry.invalid/never:1")
    started = time.monotonic()
    with pytest.raises(WaitTimeout) as caught:
        deployments.wait_available(t.deployment, timeout=1.0)
    assert 1.0 <= time.monotonic() - started < 10 and caught.value.objective == 1.0
    assert "deployment " in str(caught.value) and "did not complete within 1.000s" in str(caught.value)


# -- the role -------------------------------------------------------------------------------------------


def test_the_deployment_role(kube_target: KubeTarget) -> None:
    t = kube_target
    role = KubeDeployment(
        t.kube, DeploymentSettings(kube=t.settings, deployment=t.deployment, selector=t.selector)
    )
    replicas = role.replicas()
    assert len(replicas) == 4 and all(r.ready and r.phase == "Running" for r in replicas)
    status = role.status()  # the local supervisor's shape, which drills read
    assert (status["rollout"], status["revision"], status["available"]) == ("complete", 1, 4)
    assert {p["revision"] for p in status["pods"]} == {1} and status["env"]["DATABASE_URL"]
    assert [h["revision"] for h in role.history()] == [1]
    assert role.env()["DATABASE_URL"].startswith("postgresql://")
    assert len(role.kill(count=1)) == 1
    role.wait_available(timeout=60)
    role.set_image("1.1")
    assert Deployments(t.kube).get(t.deployment).spec.template.spec.containers[0].image.endswith(":1.1")
    role.rollout_undo()
    role.wait_available(timeout=120)
    if t.kind != "real":
        assert {r.zone for r in role.replicas()} == {"az-a", "az-b"}
        in_a = [r.name for r in role.replicas() if r.zone == "az-a"]
        assert sorted(role.kill(zone="az-a")) == sorted(in_a)


# -- nodes ------------------------------------------------------------------------------------------------


def test_cordon_and_uncordon(kube_target: KubeTarget) -> None:
    kube_target.require_nodes()
    nodes = Nodes(kube_target.kube)
    node = nodes.in_zone(kube_target.zone)[0]
    assert nodes.cordon(node) is True and not nodes.schedulable(node)
    assert nodes.cordon(node) is False  # already cordoned
    nodes.uncordon(node)
    assert nodes.schedulable(node)


def test_drain_a_node_evicts_its_pods_and_leaves_daemonset_pods(kube_target: KubeTarget) -> None:
    t = kube_target
    t.require_nodes()
    nodes = Nodes(t.kube, retry_interval=0.1)
    node = nodes.in_zone(t.zone)[0]
    try:
        if t.emulator is not None:  # the emulator runs a DaemonSet pod on every node
            with pytest.raises(DrainRefused, match="DaemonSet-managed"):
                nodes.drain(node, ignore_daemonsets=False)
        report = nodes.drain(node, grace_period=0, timeout=60)
        if t.emulator is not None:
            assert report.cordoned_now is False  # the refused drain had cordoned it already, like kubectl
            assert report.skipped_daemonset and all("log-agent" in p for p in report.skipped_daemonset)
        Deployments(t.kube).wait_available(t.deployment, timeout=120)
        assert all(p.node != node for p in Pods(t.kube).list(t.selector))
    finally:
        nodes.uncordon(node)


def test_drain_refuses_pods_without_a_controller_unless_forced(kube_target: KubeTarget) -> None:
    t = kube_target
    t.require_nodes()
    if t.kind == "twin":
        pytest.skip("the twin runs only its deployments' pods: a pod without a controller cannot exist there")
    nodes = Nodes(t.kube, retry_interval=0.1)
    node = nodes.in_zone(t.zone)[0]
    t.kube.core.create_namespaced_pod(
        t.namespace,
        client.V1Pod(
            metadata=client.V1ObjectMeta(name="bare-pod", labels={"app": "bare"}),
            spec=client.V1PodSpec(
                node_name=node,
                containers=[client.V1Container(name="c", image="busybox:1.36", command=["sleep", "3600"])],
            ),
        ),
    )
    try:
        with pytest.raises(DrainRefused, match="declares no controller"):
            nodes.drain(node)
        nodes.drain(node, force=True, grace_period=0, timeout=60)
        assert Pods(t.kube).list("app=bare") == []
    finally:
        nodes.uncordon(node)


def test_drain_retries_evictions_a_disruption_budget_refuses(kube_target: KubeTarget) -> None:
    t = kube_target
    if t.emulator is None:
        pytest.skip("needs the emulator's scripted 429 answers")
    t.emulator.evictions_blocked = 2
    nodes = Nodes(t.kube, retry_interval=0.1)
    node = nodes.in_zone("az-a")[0]
    report = nodes.drain(node, grace_period=0, timeout=30)
    assert report.evicted and t.emulator.evictions_blocked == 0
    nodes.uncordon(node)


def test_drain_a_whole_zone(kube_target: KubeTarget) -> None:
    t = kube_target
    t.require_nodes()
    nodes = Nodes(t.kube, retry_interval=0.1)
    try:
        reports = nodes.drain_zone(t.zone, grace_period=0, timeout=120)
        assert {r.node for r in reports} == set(nodes.in_zone(t.zone))
        Deployments(t.kube).wait_available(t.deployment, timeout=120)
        zones = nodes.zones()
        assert all(zones.get(p.node or "") != t.zone for p in Pods(t.kube).list(t.selector))
        with pytest.raises(KubeNotFound, match=r"no node has the label topology\.kubernetes\.io/zone=az-z"):
            nodes.drain_zone("az-z")
    finally:
        for node in nodes.in_zone(t.zone):
            nodes.uncordon(node)


# -- configuration and reachability -----------------------------------------------------------------


def test_an_unreachable_api_server_is_a_clear_error_within_the_timeout() -> None:
    settings = KubeSettings(api_url=f"http://127.0.0.1:{free_port()}", namespace="x", request_timeout=1.0)
    started = time.monotonic()
    with pytest.raises(KubeUnreachable, match="did not answer within 1s"):
        Deployments(Kube(settings)).get("api")
    assert time.monotonic() - started < 15


def test_a_missing_kubeconfig_context_is_a_config_error(tmp_path: object) -> None:
    with pytest.raises(
        KubeConfigError,
        match=r"\[environments.staging.app\]: cannot load kubeconfig "
        r"/nonexistent/kubeconfig context 'staging'",
    ):
        Kube(
            KubeSettings(kubeconfig="/nonexistent/kubeconfig", context="staging"),
            where="[environments.staging.app]",
        )
