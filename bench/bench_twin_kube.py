"""The twin's Kubernetes API (issue #13, part 2): median latency of each call it serves, through the
official client (the staging drivers' code path) against an app plane on real PostgreSQL, Redis
and moto. Figures printed, nothing asserted.

A call is timed from the request to the answer; what it sets off (a rollout, a pod's replacement)
is waited for between runs, untimed. The supervisor's own control API is timed beside the
comparable reads and writes, as the cost of the Kubernetes layer.

``bench_twin.py`` runs these calls as its ``kube`` section on a whole local environment; run
alone, this file measures them on an app plane of its own:

    python bench/bench_twin_kube.py [--runs 20]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kubernetes import client, watch

from drillbook.twin.app_plane import AppPlane
from tests.twin.app_plane_support import start_plane, start_platform

NS = "production"
T = 10


def timed(fn: Callable[[], Any], runs: int, between: Callable[[], Any] | None = None) -> list[float]:
    out = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        out.append(time.perf_counter() - began)
        if between is not None:
            between()
    return out


def raw_get(url: str, accept: str = "application/json") -> bytes:
    request = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=T) as response:
        return bytes(response.read())


def report(rows: list[tuple[str, list[float]]]) -> None:
    width = max(len(name) for name, _ in rows)
    print(f"{'call':<{width}}  {'median ms':>9}  {'p90 ms':>7}  {'runs':>4}")
    for name, samples in rows:
        ordered = sorted(samples)
        p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
        print(
            f"{name:<{width}}  {statistics.median(samples) * 1000:9.2f}  {p90 * 1000:7.2f}  {len(samples):4d}"
        )


def bench(plane: AppPlane, runs: int) -> list[tuple[str, list[float]]]:
    configuration = client.Configuration()
    configuration.host = plane.kube_url
    api = client.ApiClient(configuration)
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    leases, reviews = client.CoordinationV1Api(api), client.AuthorizationV1Api(api)
    url, control = plane.kube_url, plane.supervisor.url
    few = max(3, runs // 4)

    def available() -> None:
        plane.api.wait_available(timeout=120)

    def a_pod() -> str:
        return str(
            core.list_namespaced_pod(NS, label_selector="app=api", _request_timeout=T).items[0].metadata.name
        )

    rows: list[tuple[str, list[float]]] = [
        ("GET /version", timed(lambda: raw_get(f"{url}/version"), runs)),
        ("GET /api", timed(lambda: raw_get(f"{url}/api"), runs)),
        ("GET /apis", timed(lambda: raw_get(f"{url}/apis"), runs)),
        ("GET /api/v1 (resource list)", timed(lambda: raw_get(f"{url}/api/v1"), runs)),
        (
            "list pods (all namespaces)",
            timed(lambda: core.list_pod_for_all_namespaces(_request_timeout=T), runs),
        ),
        (
            "list pods labelSelector=app=api",
            timed(lambda: core.list_namespaced_pod(NS, label_selector="app=api", _request_timeout=T), runs),
        ),
        (
            "list pods fieldSelector=spec.nodeName",
            timed(
                lambda: core.list_pod_for_all_namespaces(
                    field_selector="spec.nodeName=node-az-a", _request_timeout=T
                ),
                runs,
            ),
        ),
        (
            "list pods as a Table (kubectl get)",
            timed(
                lambda: raw_get(
                    f"{url}/api/v1/namespaces/{NS}/pods", "application/json;as=Table;v=v1;g=meta.k8s.io"
                ),
                runs,
            ),
        ),
    ]
    pod = a_pod()
    rows += [
        ("get pod", timed(lambda: core.read_namespaced_pod(pod, NS, _request_timeout=T), runs)),
        (
            "pods/log tailLines=10",
            timed(lambda: core.read_namespaced_pod_log(pod, NS, tail_lines=10, _request_timeout=T), runs),
        ),
        ("list nodes", timed(lambda: core.list_node(_request_timeout=T), runs)),
        ("get node", timed(lambda: core.read_node("node-az-a", _request_timeout=T), runs)),
        ("list namespaces", timed(lambda: core.list_namespace(_request_timeout=T), runs)),
        ("list events", timed(lambda: core.list_namespaced_event(NS, _request_timeout=T), runs)),
        (
            "get deployment",
            timed(lambda: apps.read_namespaced_deployment("api", NS, _request_timeout=T), runs),
        ),
        (
            "  supervisor API GET /v1/deployments/api",
            timed(lambda: raw_get(f"{control}/v1/deployments/api"), runs),
        ),
        (
            "get deployments/scale",
            timed(lambda: apps.read_namespaced_deployment_scale("api", NS, _request_timeout=T), runs),
        ),
        ("list replicasets", timed(lambda: apps.list_namespaced_replica_set(NS, _request_timeout=T), runs)),
    ]
    flip = iter(range(10**6))
    rows.append(
        (
            "patch node (cordon / uncordon)",
            timed(
                lambda: core.patch_node(
                    "node-az-b",
                    {"spec": {"unschedulable": True if next(flip) % 2 == 0 else None}},
                    _request_timeout=T,
                ),
                runs,
            ),
        )
    )
    core.patch_node("node-az-b", {"spec": {"unschedulable": None}}, _request_timeout=T)
    rows.append(
        (
            "patch deployment (annotation)",
            timed(
                lambda: apps.patch_namespaced_deployment(
                    "api",
                    NS,
                    {"metadata": {"annotations": {"bench": str(time.monotonic())}}},
                    _request_timeout=T,
                ),
                runs,
            ),
        )
    )
    sizes = iter([4, 3] * runs)
    rows.append(
        (
            "patch deployments/scale (3 <-> 4)",
            timed(
                lambda: apps.patch_namespaced_deployment_scale(
                    "api", NS, {"spec": {"replicas": next(sizes)}}, _request_timeout=T
                ),
                few,
                available,
            ),
        )
    )
    sizes = iter([4, 3] * runs)
    rows.append(
        ("  supervisor API POST scale (3 <-> 4)", timed(lambda: plane.api.scale(next(sizes)), few, available))
    )
    values = iter(range(10**6))
    rows.append(
        (
            "patch deployment template env (a rollout)",
            timed(
                lambda: apps.patch_namespaced_deployment(
                    "api",
                    NS,
                    {
                        "spec": {
                            "template": {
                                "spec": {
                                    "containers": [
                                        {
                                            "name": "api",
                                            "env": [{"name": "BENCH", "value": str(next(values))}],
                                        }
                                    ]
                                }
                            }
                        }
                    },
                    _request_timeout=T,
                ),
                few,
                available,
            ),
        )
    )
    rows.append(
        (
            "delete pod (grace 0)",
            timed(
                lambda: core.delete_namespaced_pod(a_pod(), NS, grace_period_seconds=0, _request_timeout=T),
                few,
                available,
            ),
        )
    )
    rows.append(
        (
            "pods/eviction",
            timed(
                lambda: core.create_namespaced_pod_eviction(
                    a_pod(),
                    NS,
                    client.V1Eviction(metadata=client.V1ObjectMeta(name=a_pod(), namespace=NS)),
                    _request_timeout=T,
                ),
                few,
                available,
            ),
        )
    )
    rows.append(("watch: a pod deletion seen (delete -> DELETED)", watch_delay(core, few, available)))
    names = iter(f"bench-{i}" for i in range(10**6))
    created: list[str] = []

    def create() -> None:
        name = next(names)
        leases.create_namespaced_lease(
            NS,
            client.V1Lease(
                metadata=client.V1ObjectMeta(name=name), spec=client.V1LeaseSpec(holder_identity="bench")
            ),
            _request_timeout=T,
        )
        created.append(name)

    rows.append(("create lease", timed(create, runs)))
    lease = leases.read_namespaced_lease(created[0], NS, _request_timeout=T)
    rows.append(
        ("get lease", timed(lambda: leases.read_namespaced_lease(created[0], NS, _request_timeout=T), runs))
    )

    def renew() -> None:
        nonlocal lease
        lease.spec.renew_time = "2030-01-01T00:00:00.000000Z"
        lease = leases.replace_namespaced_lease(created[0], NS, lease, _request_timeout=T)

    rows.append(("update lease (with its resourceVersion)", timed(renew, runs)))
    rows.append(
        (
            "delete lease",
            timed(
                lambda: leases.delete_namespaced_lease(created.pop(), NS, _request_timeout=T),
                len(created) - 1,
            ),
        )
    )
    review = client.V1SelfSubjectAccessReview(
        spec=client.V1SelfSubjectAccessReviewSpec(
            resource_attributes=client.V1ResourceAttributes(verb="delete", resource="pods", namespace=NS)
        )
    )
    rows.append(
        (
            "SelfSubjectAccessReview",
            timed(lambda: reviews.create_self_subject_access_review(review, _request_timeout=T), runs),
        )
    )
    api.close()
    return rows


def watch_delay(core: Any, runs: int, between: Callable[[], Any]) -> list[float]:
    out = []
    for _ in range(runs):
        out.append(one_watch_delay(core))
        between()
    return out


def one_watch_delay(core: Any) -> float:
    """From a pod's deletion to its DELETED event on a watch opened before."""
    listed = core.list_namespaced_pod(NS, label_selector="app=api", _request_timeout=T)
    victim = listed.items[0].metadata.name
    seen = threading.Event()
    stream = watch.Watch()

    def follow() -> None:
        for event in stream.stream(
            core.list_namespaced_pod,
            NS,
            resource_version=listed.metadata.resource_version,
            timeout_seconds=30,
            _request_timeout=40,
        ):
            if event["type"] == "DELETED" and event["object"].metadata.name == victim:
                seen.set()
                stream.stop()

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    time.sleep(0.3)  # the watch is open
    began = time.perf_counter()
    core.delete_namespaced_pod(victim, NS, grace_period_seconds=0, _request_timeout=T)
    seen.wait(30)
    elapsed = time.perf_counter() - began
    reader.join(35)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="drillbook-bench-kube-", dir="/tmp"))
    base.chmod(0o755)
    platform = start_platform(base)
    try:
        plane = start_plane(platform, base / "app", workers=1)
        try:
            report(bench(plane, args.runs))
        finally:
            plane.stop()
    finally:
        platform.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
