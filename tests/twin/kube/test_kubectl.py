"""The real kubectl drives the twin: what it does happens to real processes."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from drillbook.harness import procs
from drillbook.twin.supervisor.process import pod_log
from tests.twin.app_plane_support import http, wait_for
from tests.twin.kube.support import KUBECTL, Twin, needs_kubectl, twin

__all__ = ["twin"]


def setup_function() -> None:
    needs_kubectl()


def kubectl_minor() -> int:
    """The minor version of the kubectl on PATH (its messages changed between versions)."""
    done = subprocess.run(
        [str(KUBECTL), "version", "--client", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return int(json.loads(done.stdout)["clientVersion"]["minor"].rstrip("+"))


def health(t: Twin) -> tuple[int, dict[str, object]]:
    answer = http("GET", f"{t.plane.front_door_url}/api/health", timeout=5)
    return answer.status, answer.body


def cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def test_delete_pod_is_followed_by_a_real_replacement(twin: Twin) -> None:
    t = twin
    victim = t.ok("get", "pods", "-l", "app=api", "-o", "jsonpath={.items[0].metadata.name}")
    old = next(p for p in t.pods() if p["name"] == victim)
    began = time.monotonic()
    assert t.ok("delete", "pod", victim).strip() == f'pod "{victim}" deleted'
    waited = time.monotonic() - began
    assert not procs.alive(old["pid"], old["ticks"])  # really signalled, and gone before kubectl returned
    t.ok("rollout", "status", "deployment/api", "--timeout=60s")
    api = [p for p in t.pods() if p["name"].startswith("api-")]
    assert len(api) == 3 and victim not in {p["name"] for p in api}
    fresh = [p for p in api if p["name"] not in {old["name"]}]
    assert all(
        procs.alive(p["pid"], p["ticks"]) and "drillbook.twin.service" in cmdline(p["pid"]) for p in fresh
    )
    assert wait_for(lambda: health(t)[0] == 200, 30, "health through the front door")
    print(f"kubectl delete pod returned in {waited:.2f}s")


def test_rollout_undo_serves_the_previous_release(twin: Twin) -> None:
    t = twin
    assert health(t)[1]["version"] == "1.0.0"
    t.ok("set", "image", "deployment/api", "api=compliant-api:1.1.1-hotfix1")
    t.ok("rollout", "status", "deployment/api", "--timeout=90s")
    assert wait_for(lambda: health(t)[1].get("version") == "1.1.1-hotfix1", 30, "the new release served")
    history = t.ok("rollout", "history", "deployment/api")
    assert "set image compliant-api:1.1.1-hotfix1" in history
    assert t.ok("rollout", "undo", "deployment/api").strip() == "deployment.apps/api rolled back"
    t.ok("rollout", "status", "deployment/api", "--timeout=90s")
    assert wait_for(lambda: health(t)[1].get("version") == "1.0.0", 30, "the previous release served")
    assert {p["version"] for p in t.plane.api.status()["pods"] if not p["terminating"]} == {"1.0.0"}
    assert t.plane.api.status()["revision"] == 3  # revision 1's template again, as Kubernetes numbers it
    # kubectl copied revision 1's change-cause back onto the deployment, as on a cluster.
    lines = t.ok("rollout", "history", "deployment/api").splitlines()[2:]
    assert dict(line.split(None, 1) for line in lines if line.strip()) == {
        "2": "set image compliant-api:1.1.1-hotfix1",
        "3": "initial release",
    }


def test_drain_of_an_az_a_node_moves_every_pod_to_az_b(twin: Twin) -> None:
    t = twin
    in_a = [p["name"] for p in t.pods() if p["zone"] == "az-a"]
    assert in_a
    out = t.ok("drain", "node-az-a", "--timeout=120s", timeout=150)
    # The last line is "node/node-az-a drained" (kubectl 1.20 prints "evicted" there).
    assert "node/node-az-a cordoned" in out and out.split()[-1] in ("drained", "evicted")
    assert all(f"pod/{name} evicted" in out for name in in_a), out
    t.ok("rollout", "status", "deployment/api", "--timeout=90s")
    t.ok("rollout", "status", "deployment/workers", "--timeout=90s")
    placed = {p["name"]: p["zone"] for p in t.pods() if not p["terminating"]}
    assert placed and set(placed.values()) == {"az-b"}
    listed = json.loads(t.ok("get", "pods", "-o", "json"))["items"]
    assert {p["spec"]["nodeName"] for p in listed} == {"node-az-b"}
    assert all(procs.alive(p["pid"], p["ticks"]) for p in t.pods())
    assert "SchedulingDisabled" in t.ok("get", "node", "node-az-a")
    assert health(t)[0] == 200
    t.ok("uncordon", "node-az-a")
    assert t.plane.supervisor.zones() == {"az-a": False, "az-b": False, "dr-az-a": False, "dr-az-b": False}


def test_logs_prints_a_replicas_log(twin: Twin) -> None:
    t = twin
    pod = next(p for p in t.pods() if p["name"].startswith("api-"))
    out = t.ok("logs", pod["name"])
    written = pod_log(Path(t.plane.state_dir / "logs"), pod["name"]).read_text()
    assert out == written and f"replica={pod['name']}" in out and "listening on" in out
    assert t.ok("logs", pod["name"], "--tail=1") == written.splitlines(keepends=True)[-1]
    deployment = t.kubectl("logs", "deployment/workers")
    assert deployment.returncode == 0 and "worker 1.0.0" in deployment.stdout
    previous = t.kubectl("logs", pod["name"], "--previous")
    assert previous.returncode == 1 and "previous terminated container" in previous.stderr


def test_get_pods_wide_shows_nodes_and_zones(twin: Twin) -> None:
    t = twin
    out = t.ok("get", "pods", "-o", "wide", "-L", "topology.kubernetes.io/zone")
    header, *rows = out.splitlines()
    assert header.split()[:9] == [
        "NAME",
        "READY",
        "STATUS",
        "RESTARTS",
        "AGE",
        "IP",
        "NODE",
        "NOMINATED",
        "NODE",
    ]
    assert header.split()[-1] == "ZONE"
    for pod in t.pods():
        row = next(r.split() for r in rows if r.startswith(pod["name"] + " "))
        assert row[1:3] == ["1/1", "Running"] and row[6] == f"node-{pod['zone']}" and row[-1] == pod["zone"]
    nodes = t.ok("get", "nodes", "-L", "topology.kubernetes.io/zone")
    assert {line.split()[0]: line.split()[-1] for line in nodes.splitlines()[1:]} == {
        "node-az-a": "az-a",
        "node-az-b": "az-b",
    }


def test_the_dr_context_shows_the_dr_region(twin: Twin) -> None:
    t = twin
    deployments = t.ok("--context", "drillbook-local-dr", "get", "deployments", "-o", "name")
    assert deployments.split() == ["deployment.apps/api-dr", "deployment.apps/workers-dr"]
    t.ok("--context", "drillbook-local-dr", "scale", "deployment/api-dr", "--replicas=1")
    t.ok("--context", "drillbook-local-dr", "rollout", "status", "deployment/api-dr", "--timeout=90s")
    dr_pods = t.ok("--context", "drillbook-local-dr", "get", "pods", "-o", "wide")
    assert "api-dr-" in dr_pods and "node-dr-az-" in dr_pods
    assert "api-dr-" not in t.ok("get", "pods")


def test_unknown_resources_and_names_are_kubernetes_errors_and_change_nothing(twin: Twin) -> None:
    t = twin
    before = t.snapshot()
    cases = [
        (("get", "widgets"), 'error: the server doesn\'t have a resource type "widgets"'),
        (("get", "pod", "nope"), 'Error from server (NotFound): pods "nope" not found'),
        # kubectl 1.32 says "error: no objects passed to scale ...", 1.20 "Error from server (NotFound): ..."
        (
            ("scale", "deployment/nope", "--replicas=9"),
            ("error: no objects passed to scale ", "Error from server (NotFound): "),
        ),
        (
            ("get", "--raw", "/api/v1/namespaces/production/widgets"),
            "Error from server (NotFound): the server could not find the requested resource",
        ),
        (
            ("patch", "deployment", "api", "-p", '{"spec":{"paused":true}}'),
            'The Deployment "api" is invalid: spec.paused: Forbidden: drillbook\'s twin cannot change it',
        ),
        (
            ("create", "deployment", "extra", "--image=compliant-api:1.0.0"),
            "error: failed to create deployment: drillbook's twin does not create deployments.apps",
        ),
    ]
    for args, message in cases:
        began = time.monotonic()
        done = t.kubectl(*args, timeout=60)
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        assert done.stderr.strip().startswith(message), (args, done.stderr)
        assert not any("nope" in a for a in args) or done.stderr.strip().endswith('"nope" not found')
        assert time.monotonic() - began < 30
    assert t.snapshot() == before


LEASE = """apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: drill-lock
spec:
  holderIdentity: {holder}
  leaseDurationSeconds: 60
"""


def test_a_lease_with_kubectl_apply_create_and_delete(twin: Twin, tmp_path: Path) -> None:
    t = twin
    if kubectl_minor() < 27:  # since 1.27 kubectl asks OpenAPI v3 whether the server validates fields
        pytest.skip(
            "this kubectl validates -f files against OpenAPI v2 schemas (protobuf), which the twin does "
            "not serve (--validate=false works)"
        )
    manifest = tmp_path / "lease.yaml"
    manifest.write_text(LEASE.format(holder="runner-a"))
    assert t.ok("apply", "-f", str(manifest)).strip() == "lease.coordination.k8s.io/drill-lock created"
    manifest.write_text(LEASE.format(holder="runner-b"))
    assert t.ok("apply", "-f", str(manifest)).strip() == "lease.coordination.k8s.io/drill-lock configured"
    assert t.ok("get", "lease", "drill-lock", "-o", "jsonpath={.spec.holderIdentity}") == "runner-b"
    again = t.kubectl("create", "-f", str(manifest))
    assert again.returncode == 1
    assert (
        again.stderr.strip()
        == f'Error from server (AlreadyExists): error when creating "{manifest}": leases.'
        'coordination.k8s.io "drill-lock" already exists'
    )
    manifest.write_text(LEASE.format(holder="x") + "  holder: typo\n")
    strict = t.kubectl("apply", "-f", str(manifest))
    assert strict.returncode == 1 and "unknown field 'spec.holder'" in strict.stderr
    assert t.ok("get", "lease", "drill-lock", "-o", "jsonpath={.spec.holderIdentity}") == "runner-b"
    assert t.ok("delete", "lease", "drill-lock").strip() == 'lease.coordination.k8s.io "drill-lock" deleted'
    assert "No resources found" in t.kubectl("get", "leases").stderr
