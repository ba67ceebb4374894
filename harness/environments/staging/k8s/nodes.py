"""Cordon, uncordon and drain a node, or every node of a zone, as ``kubectl drain`` does.

Drain cordons the node, then evicts its pods through the Eviction API (so that
PodDisruptionBudgets are honoured: a 429 is retried until the timeout), and waits
until they are gone. Like kubectl it checks every pod before evicting any: pods of a
DaemonSet are refused unless ``ignore_daemonsets`` (then they are left running),
pods without a controller unless ``force``, pods with emptyDir data unless
``delete_emptydir_data``; mirror (static) pods are skipped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from drillbook.harness.calls.declared import KubeRule, declare
from drillbook.harness.environments.staging.k8s.client import (
    Kube,
    KubeError,
    KubeNotFound,
    KubeTooManyRequests,
)
from drillbook.harness.environments.staging.waiting import Progress, wait_until

CALLS = declare(
    __name__,
    "a zone's nodes: cordon and uncordon them, evict their pods (drain), wait for the evicted pods",
    # A drain evicts every pod of the node, whatever its namespace (as kubectl drain does).
    kube=(
        KubeRule("", "nodes", ("get", "list", "patch"), cluster=True),
        KubeRule("", "pods", ("get", "list"), cluster=True),
        KubeRule("", "pods/eviction", ("create",), cluster=True),
    ),
)

ZONE_LABEL = "topology.kubernetes.io/zone"
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"


class DrainRefused(KubeError):
    """A pod on the node cannot be evicted under the drain's options."""


@dataclass
class DrainReport:
    node: str
    cordoned_now: bool
    evicted: list[str] = field(default_factory=list)
    skipped_daemonset: list[str] = field(default_factory=list)
    seconds: float = 0.0


class Nodes:
    def __init__(self, kube: Kube, *, retry_interval: float = 5.0) -> None:
        self.kube = kube
        self.retry_interval = retry_interval

    def _hints(self, name: str) -> dict[int, str]:
        return {
            404: f"no node {name!r} in the cluster",
            403: "the Kubernetes credentials may not patch nodes "
            "or evict pods: grant patch on nodes and create on pods/eviction (docs/staging.md)",
        }

    def get(self, name: str) -> Any:
        return self.kube.call(f"read node {name}", self.kube.core.read_node, name, hints=self._hints(name))

    def in_zone(self, zone: str, *, label: str = ZONE_LABEL) -> list[str]:
        out = self.kube.call(
            f"list nodes in {zone}", self.kube.core.list_node, label_selector=f"{label}={zone}"
        )
        return sorted(n.metadata.name for n in out.items)

    def schedulable(self, name: str) -> bool:
        spec = self.get(name).spec
        return not (spec is not None and spec.unschedulable)

    def zones(self, *, label: str = ZONE_LABEL) -> dict[str, str | None]:
        """Each node's zone (None when unlabelled)."""
        out = self.kube.call("list nodes", self.kube.core.list_node)
        return {n.metadata.name: (n.metadata.labels or {}).get(label) for n in out.items}

    def patch(self, name: str, body: dict[str, Any], what: str) -> None:
        self.kube.call(f"{what} node {name}", self.kube.core.patch_node, name, body, hints=self._hints(name))

    def cordon(self, name: str, *, annotations: dict[str, str | None] | None = None) -> bool:
        """Mark unschedulable; False if it already was (then ``annotations`` are not set either)."""
        node = self.get(name)
        if node.spec is not None and node.spec.unschedulable:
            return False
        body: dict[str, Any] = {"spec": {"unschedulable": True}}
        if annotations:
            body["metadata"] = {"annotations": annotations}
        self.patch(name, body, "cordon")
        return True

    def uncordon(self, name: str, *, annotations: dict[str, str | None] | None = None) -> None:
        body: dict[str, Any] = {"spec": {"unschedulable": False}}
        if annotations:
            body["metadata"] = {"annotations": annotations}
        self.patch(name, body, "uncordon")

    def drain(
        self,
        name: str,
        *,
        ignore_daemonsets: bool = True,
        delete_emptydir_data: bool = False,
        force: bool = False,
        grace_period: int | None = None,
        timeout: float = 300.0,
        cordon_annotations: dict[str, str | None] | None = None,
        progress: Progress | None = None,
    ) -> DrainReport:
        started = time.monotonic()
        report = DrainReport(name, self.cordon(name, annotations=cordon_annotations))
        out = self.kube.call(
            f"list pods on node {name}",
            self.kube.core.list_pod_for_all_namespaces,
            field_selector=f"spec.nodeName={name}",
        )
        to_evict, refused = [], []
        for pod in out.items:
            meta = pod.metadata
            label = f"{meta.namespace}/{meta.name}"
            if MIRROR_ANNOTATION in (meta.annotations or {}):
                continue
            if pod.status is not None and pod.status.phase in ("Succeeded", "Failed"):
                to_evict.append(pod)
                continue
            owner = next((o for o in meta.owner_references or [] if o.controller), None)
            if owner is not None and owner.kind == "DaemonSet":
                if ignore_daemonsets:
                    report.skipped_daemonset.append(label)
                else:
                    refused.append(f"{label} (DaemonSet-managed: use ignore_daemonsets)")
                continue
            if owner is None and not force:
                refused.append(f"{label} (declares no controller: use force)")
                continue
            if not delete_emptydir_data and any(v.empty_dir is not None for v in (pod.spec.volumes or [])):
                refused.append(f"{label} (has emptyDir local data: use delete_emptydir_data)")
                continue
            to_evict.append(pod)
        if refused:
            raise DrainRefused(f"cannot drain node {name}: {'; '.join(refused)}")
        deadline = started + timeout
        for pod in to_evict:
            self._evict(pod, grace_period, deadline)
            report.evicted.append(f"{pod.metadata.namespace}/{pod.metadata.name}")
        self._wait_gone(name, to_evict, deadline - time.monotonic(), progress)
        report.seconds = time.monotonic() - started
        return report

    def _evict(self, pod: Any, grace_period: int | None, deadline: float) -> None:
        from kubernetes import client

        meta = pod.metadata
        body = client.V1Eviction(
            metadata=client.V1ObjectMeta(name=meta.name, namespace=meta.namespace),
            delete_options=client.V1DeleteOptions(grace_period_seconds=grace_period),
        )
        while True:
            try:
                self.kube.call(
                    f"evict pod {meta.namespace}/{meta.name}",
                    self.kube.core.create_namespaced_pod_eviction,
                    meta.name,
                    meta.namespace,
                    body,
                )
                return
            except KubeNotFound:
                return  # already gone
            except KubeTooManyRequests as exc:
                # A PodDisruptionBudget does not allow it yet: retry, as kubectl does.
                if time.monotonic() + self.retry_interval > deadline:
                    raise KubeTooManyRequests(
                        f"evicting {meta.namespace}/{meta.name} was refused until the "
                        f"drain's timeout (a PodDisruptionBudget): {exc}",
                        status=429,
                    ) from exc
                time.sleep(self.retry_interval)

    def _wait_gone(self, node: str, pods: list[Any], timeout: float, progress: Progress | None) -> None:
        wanted = {(p.metadata.namespace, p.metadata.name, p.metadata.uid) for p in pods}
        if not wanted:
            return

        def poll() -> tuple[bool, str]:
            left = 0
            for namespace, name, uid in wanted:
                try:
                    current = self.kube.call(
                        f"read pod {namespace}/{name}", self.kube.core.read_namespaced_pod, name, namespace
                    )
                except KubeNotFound:
                    continue
                if current.metadata.uid == uid:
                    left += 1
            return left == 0, f"{left} of {len(wanted)} evicted pods still on the node"

        wait_until(
            f"node {node} to be drained",
            poll,
            timeout=max(timeout, 0.0),
            interval=self.kube.poll_interval,
            progress=progress or self.kube.progress,
        )

    def drain_zone(self, zone: str, *, label: str = ZONE_LABEL, **options: Any) -> list[DrainReport]:
        nodes = self.in_zone(zone, label=label)
        if not nodes:
            raise KubeNotFound(f"no node has the label {label}={zone}: check the zone name")
        return [self.drain(node, **options) for node in nodes]
