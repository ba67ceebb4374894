"""The twin's Kubernetes API through the official client: discovery, leases and their conflicts,
watches, evictions, logs, selectors, and refusals that change nothing."""

from __future__ import annotations

import json
import signal
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from drillbook.harness import procs
from tests.twin.app_plane_support import wait_for
from tests.twin.kube.support import Twin, twin

__all__ = ["twin"]
NS = "production"
T = 10  # every call's timeout


@pytest.fixture
def api(twin: Twin) -> Iterator[client.ApiClient]:
    configuration = client.Configuration()
    configuration.host = twin.plane.kube_url
    with client.ApiClient(configuration) as api_client:
        yield api_client


def raw(
    url: str, method: str = "GET", body: Any = None, content_type: str = "application/json"
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=T) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def status_of(exc: pytest.ExceptionInfo[ApiException]) -> tuple[int, str, str]:
    body = json.loads(exc.value.body)
    return exc.value.status, body["reason"], body["message"]


def test_discovery_lists_what_is_served(api: client.ApiClient) -> None:
    assert client.VersionApi(api).get_code(_request_timeout=T).git_version.startswith("v1.32")
    assert client.CoreApi(api).get_api_versions(_request_timeout=T).versions == ["v1"]
    groups = {g.name for g in client.ApisApi(api).get_api_versions(_request_timeout=T).groups}
    assert groups == {"apps", "coordination.k8s.io", "authorization.k8s.io", "policy"}
    assert client.PolicyV1Api(api).get_api_resources(_request_timeout=T).resources == []
    core = {r.name: r for r in client.CoreV1Api(api).get_api_resources(_request_timeout=T).resources}
    assert (core["pods/eviction"].group, core["pods/eviction"].version, core["pods/eviction"].kind) == (
        "policy",
        "v1",
        "Eviction",
    )
    assert "log" in core["pods/log"].name and core["nodes"].namespaced is False
    apps = {r.name: r for r in client.AppsV1Api(api).get_api_resources(_request_timeout=T).resources}
    assert (apps["deployments/scale"].group, apps["deployments/scale"].kind) == ("autoscaling", "Scale")


def test_an_unknown_path_is_a_404_status(twin: Twin) -> None:
    for path in ("/api/v1/namespaces/production/widgets", "/apis/example.com/v1/things", "/api/v2"):
        code, body = raw(twin.plane.kube_url + path)
        assert code == 404 and (body["kind"], body["reason"], body["code"]) == ("Status", "NotFound", 404)
        assert body["message"] == "the server could not find the requested resource"


def test_leases_and_their_conflicts(twin: Twin, api: client.ApiClient) -> None:
    leases = client.CoordinationV1Api(api)
    body = client.V1Lease(
        metadata=client.V1ObjectMeta(name="drillbook-run"),
        spec=client.V1LeaseSpec(holder_identity="runner-a", lease_duration_seconds=30),
    )
    created = leases.create_namespaced_lease(NS, body, _request_timeout=T)
    first = created.metadata.resource_version
    assert created.spec.holder_identity == "runner-a" and created.metadata.uid
    with pytest.raises(ApiException) as exists:
        leases.create_namespaced_lease(NS, body, _request_timeout=T)
    assert status_of(exists)[:2] == (409, "AlreadyExists")
    # Runner b read the lease; runner a renews it first; b's update with the old version loses.
    stale = leases.read_namespaced_lease("drillbook-run", NS, _request_timeout=T)
    created.spec.renew_time = "2030-01-01T00:00:00.000000Z"
    renewed = leases.replace_namespaced_lease("drillbook-run", NS, created, _request_timeout=T)
    assert int(renewed.metadata.resource_version) > int(first)
    stale.spec.holder_identity = "runner-b"
    with pytest.raises(ApiException) as lost:
        leases.replace_namespaced_lease("drillbook-run", NS, stale, _request_timeout=T)
    assert status_of(lost)[:2] == (409, "Conflict") and "the object has been modified" in status_of(lost)[2]
    with pytest.raises(ApiException) as lost_patch:
        leases.patch_namespaced_lease(
            "drillbook-run",
            NS,
            {"metadata": {"resourceVersion": first}, "spec": {"holderIdentity": "runner-b"}},
            _request_timeout=T,
        )
    assert status_of(lost_patch)[0] == 409
    assert (
        leases.read_namespaced_lease("drillbook-run", NS, _request_timeout=T).spec.holder_identity
        == "runner-a"
    )
    patched = leases.patch_namespaced_lease(
        "drillbook-run", NS, {"spec": {"leaseTransitions": 1}}, _request_timeout=T
    )
    assert patched.spec.lease_transitions == 1 and patched.spec.holder_identity == "runner-a"
    with pytest.raises(ApiException) as invalid:
        leases.patch_namespaced_lease(
            "drillbook-run", NS, {"spec": {"leaseDurationSeconds": 0}}, _request_timeout=T
        )
    assert status_of(invalid)[:2] == (422, "Invalid")
    with pytest.raises(ApiException) as precondition:
        leases.delete_namespaced_lease(
            "drillbook-run",
            NS,
            body=client.V1DeleteOptions(preconditions=client.V1Preconditions(resource_version=first)),
            _request_timeout=T,
        )
    assert status_of(precondition)[0] == 409
    with pytest.raises(ApiException) as no_namespace:
        leases.create_namespaced_lease("nowhere", body, _request_timeout=T)
    assert status_of(no_namespace)[:2] == (404, "NotFound")
    assert [x.metadata.name for x in leases.list_namespaced_lease(NS, _request_timeout=T).items] == [
        "drillbook-run"
    ]
    leases.delete_namespaced_lease("drillbook-run", NS, _request_timeout=T)
    with pytest.raises(ApiException) as gone:
        leases.read_namespaced_lease("drillbook-run", NS, _request_timeout=T)
    assert status_of(gone) == (404, "NotFound", 'leases.coordination.k8s.io "drillbook-run" not found')


def test_a_restarted_supervisor_serves_the_same_api_and_leases(twin: Twin, api: client.ApiClient) -> None:
    leases = client.CoordinationV1Api(api)
    lease = leases.create_namespaced_lease(
        NS,
        client.V1Lease(
            metadata=client.V1ObjectMeta(name="kept"), spec=client.V1LeaseSpec(holder_identity="a")
        ),
        _request_timeout=T,
    )
    url = twin.plane.kube_url
    supervisor = next(p for p in twin.plane.processes if p.name == "supervisor")
    procs.signal_if_same(supervisor.pid, supervisor.ticks, signal.SIGKILL)
    assert procs.wait_gone(supervisor.pid, 10)
    twin.plane.restart_supervisor()
    assert twin.plane.kube_url == url  # the kubeconfig stays valid
    again = leases.read_namespaced_lease("kept", NS, _request_timeout=T)
    assert again.metadata.resource_version == lease.metadata.resource_version
    assert again.metadata.uid == lease.metadata.uid


def test_a_watch_sees_a_deleted_pod_and_its_replacement(twin: Twin, api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    listed = core.list_namespaced_pod(NS, label_selector="app=api", _request_timeout=T)
    victim = listed.items[0].metadata.name
    seen: list[tuple[str, str]] = []
    stream = watch.Watch()

    def follow() -> None:
        for event in stream.stream(
            core.list_namespaced_pod,
            NS,
            label_selector="app=api",
            resource_version=listed.metadata.resource_version,
            timeout_seconds=30,
            _request_timeout=40,
        ):
            seen.append((event["type"], event["object"].metadata.name))
            if event["type"] == "DELETED":
                stream.stop()

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    core.delete_namespaced_pod(victim, NS, grace_period_seconds=0, _request_timeout=T)
    reader.join(35)
    assert ("DELETED", victim) in seen and any(t == "ADDED" and n != victim for t, n in seen)
    assert ("MODIFIED", victim) in seen  # terminating first, then gone
    assert seen.index(("DELETED", victim)) > seen.index(("MODIFIED", victim))


def test_eviction_logs_and_selectors(twin: Twin, api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    running = core.list_namespaced_pod(
        NS, field_selector="status.phase=Running,spec.nodeName=node-az-a", _request_timeout=T
    ).items
    assert running and all(p.spec.node_name == "node-az-a" for p in running)
    assert (
        core.list_pod_for_all_namespaces(
            field_selector="spec.nodeName=node-nowhere", _request_timeout=T
        ).items
        == []
    )
    with pytest.raises(ApiException) as unsupported:
        core.list_namespaced_pod(NS, field_selector="spec.hostname=x", _request_timeout=T)
    assert status_of(unsupported) == (400, "BadRequest", "field label not supported: spec.hostname")
    pod = running[0].metadata.name
    log = core.read_namespaced_pod_log(pod, NS, tail_lines=1, _request_timeout=T)
    assert (
        log.count("\n") == 1
        and core.read_namespaced_pod_log(pod, NS, limit_bytes=5, _request_timeout=T)
        == core.read_namespaced_pod_log(pod, NS, _request_timeout=T)[:5]
    )
    pid = next(p["pid"] for p in twin.pods() if p["name"] == pod)
    core.create_namespaced_pod_eviction(
        pod, NS, client.V1Eviction(metadata=client.V1ObjectMeta(name=pod, namespace=NS)), _request_timeout=T
    )
    wait_for(lambda: not procs.alive(pid), 30, "the evicted pod's process gone")
    with pytest.raises(ApiException) as gone:
        core.create_namespaced_pod_eviction(
            "api-nope",
            NS,
            client.V1Eviction(metadata=client.V1ObjectMeta(name="api-nope", namespace=NS)),
            _request_timeout=T,
        )
    assert status_of(gone)[0] == 404


def test_changes_the_twin_cannot_carry_out_change_nothing(twin: Twin, api: client.ApiClient) -> None:
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    before = twin.snapshot()
    generation = apps.read_namespaced_deployment("api", NS, _request_timeout=T).metadata.generation
    refused = [
        lambda: apps.patch_namespaced_deployment(
            "api",
            NS,
            [
                {
                    "op": "add",
                    "path": "/spec/template/spec/containers/-",
                    "value": {"name": "sidecar", "image": "x"},
                }
            ],
            _request_timeout=T,
        ),
        lambda: apps.patch_namespaced_deployment(
            "api", NS, {"spec": {"template": {"metadata": {"labels": {"tier": "web"}}}}}, _request_timeout=T
        ),
        lambda: apps.patch_namespaced_deployment(
            "api", NS, {"spec": {"replicas": 5, "paused": True}}, _request_timeout=T
        ),
        lambda: core.patch_node(
            "node-az-a", {"spec": {"taints": [{"key": "gpu", "effect": "NoSchedule"}]}}, _request_timeout=T
        ),
        lambda: core.patch_node(
            "node-az-a", {"metadata": {"labels": {"topology.kubernetes.io/zone": "az-b"}}}, _request_timeout=T
        ),
    ]
    for change in refused:
        with pytest.raises(ApiException) as caught:
            change()
        assert status_of(caught)[:2] == (422, "Invalid"), status_of(caught)
    assert twin.snapshot() == before
    assert apps.read_namespaced_deployment("api", NS, _request_timeout=T).metadata.generation == generation


def test_scale_status_and_access_reviews(twin: Twin, api: client.ApiClient) -> None:
    apps = client.AppsV1Api(api)
    scale = apps.read_namespaced_deployment_scale("api", NS, _request_timeout=T)
    assert (scale.spec.replicas, scale.status.selector) == (3, "app=api")
    before = apps.read_namespaced_deployment("api", NS, _request_timeout=T)
    apps.patch_namespaced_deployment_scale("api", NS, {"spec": {"replicas": 2}}, _request_timeout=T)
    after = apps.read_namespaced_deployment("api", NS, _request_timeout=T)
    assert after.spec.replicas == 2 and after.metadata.generation == before.metadata.generation + 1

    def read() -> Any:
        return apps.read_namespaced_deployment("api", NS, _request_timeout=T)

    observed = wait_for(
        lambda: (d := read()).status.observed_generation == after.metadata.generation and d,
        10,
        "the scale observed",
    )
    assert observed.status.replicas == 2  # once observed, the pod going away is not counted
    wait_for(
        lambda: len([p for p in twin.plane.api.status()["pods"] if not p["terminating"]]) == 2,
        30,
        "scaled to 2",
    )
    conditions = {
        c.type: c for c in apps.read_namespaced_deployment("api", NS, _request_timeout=T).status.conditions
    }
    assert conditions["Available"].status == "True"
    reviews = client.AuthorizationV1Api(api)

    def allowed(verb: str, resource: str, group: str = "", sub: str = "") -> bool:
        attributes = client.V1ResourceAttributes(
            verb=verb, resource=resource, group=group, subresource=sub, namespace=NS
        )
        review = client.V1SelfSubjectAccessReview(
            spec=client.V1SelfSubjectAccessReviewSpec(resource_attributes=attributes)
        )
        return bool(reviews.create_self_subject_access_review(review, _request_timeout=T).status.allowed)

    assert allowed("delete", "pods") and allowed("create", "pods", sub="eviction")
    assert allowed("patch", "deployments", "apps") and allowed("list", "replicasets", "apps")
    assert allowed("patch", "nodes") and allowed("update", "leases", "coordination.k8s.io")
    assert not allowed("create", "pods") and not allowed("get", "secrets")


def test_namespaces_created_through_the_api(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    core.create_namespace(
        client.V1Namespace(metadata=client.V1ObjectMeta(name="drillbook-leases")), _request_timeout=T
    )
    names = {n.metadata.name for n in core.list_namespace(_request_timeout=T).items}
    assert {"default", "kube-system", "production", "drillbook-leases"} <= names
    with pytest.raises(ApiException) as kept:
        core.delete_namespace("production", _request_timeout=T)
    assert status_of(kept)[0] == 403
    core.delete_namespace("drillbook-leases", _request_timeout=T)
    with pytest.raises(ApiException) as invalid:
        core.create_namespace(
            client.V1Namespace(metadata=client.V1ObjectMeta(name="Not_A_Name")), _request_timeout=T
        )
    assert status_of(invalid)[:2] == (422, "Invalid")
    assert "drillbook-leases" not in {n.metadata.name for n in core.list_namespace(_request_timeout=T).items}
