"""Pods by label selector: list them, and kill a count or a percentage of them with a grace
period (deletion, as ``kubectl delete pod --grace-period``: their controller recreates them)."""

from __future__ import annotations

import builtins
import contextlib
import math
import random
from dataclasses import dataclass
from typing import Any

from drillbook.harness.calls.declared import KubeRule, declare
from drillbook.harness.environments.staging.k8s.client import Kube, KubeNotFound
from drillbook.harness.errors import InvalidDrillConfig

CALLS = declare(
    __name__,
    "list a deployment's pods, kill pods; the pods of a node (every namespace)",
    kube=(
        KubeRule("", "pods", ("list", "delete")),
        KubeRule("", "pods", ("list",), cluster=True),
    ),
)


@dataclass(frozen=True)
class PodState:
    name: str
    namespace: str
    uid: str
    phase: str
    ready: bool
    node: str | None
    #: The first waiting reason of a container (CrashLoopBackOff, ImagePullBackOff), else None.
    waiting: str | None
    restarts: int
    image: str | None
    owner_kind: str | None
    owner_name: str | None
    terminating: bool

    @classmethod
    def from_model(cls, pod: Any) -> PodState:
        status = pod.status
        conditions = (status.conditions if status else None) or []
        containers = (status.container_statuses if status else None) or []
        waiting = next(
            (
                c.state.waiting.reason
                for c in containers
                if c.state is not None and c.state.waiting is not None
            ),
            None,
        )
        owners = pod.metadata.owner_references or []
        owner = next((o for o in owners if o.controller), owners[0] if owners else None)
        spec_containers = pod.spec.containers if pod.spec else []
        return cls(
            name=pod.metadata.name,
            namespace=pod.metadata.namespace or "",
            uid=pod.metadata.uid or "",
            phase=(status.phase if status else None) or "Unknown",
            ready=any(c.type == "Ready" and c.status == "True" for c in conditions),
            node=pod.spec.node_name if pod.spec else None,
            waiting=waiting,
            restarts=sum(c.restart_count or 0 for c in containers),
            image=spec_containers[0].image if spec_containers else None,
            owner_kind=owner.kind if owner else None,
            owner_name=owner.name if owner else None,
            terminating=pod.metadata.deletion_timestamp is not None,
        )

    @property
    def display_phase(self) -> str:
        return self.waiting or ("Terminating" if self.terminating else self.phase)


@dataclass(frozen=True)
class Killed:
    namespace: str
    selector: str
    matched: int
    names: tuple[str, ...]
    grace_period: int


def victims_count(matched: int, *, count: int | None, percent: float | None) -> int:
    if (count is None) == (percent is None):
        raise InvalidDrillConfig("give exactly one of count (pods) or percent (of the matching pods)")
    if count is not None:
        if count < 1:
            raise InvalidDrillConfig(f"count must be at least 1, got {count}")
        return min(count, matched)
    assert percent is not None
    if not 0 < percent <= 100:
        raise InvalidDrillConfig(f"percent must be in (0, 100], got {percent:g}")
    return min(matched, max(1, math.ceil(matched * percent / 100)))


class Pods:
    def __init__(self, kube: Kube) -> None:
        self.kube = kube

    def list(
        self, selector: str, *, namespace: str | None = None, field_selector: str | None = None
    ) -> list[PodState]:
        ns = namespace or self.kube.namespace
        kwargs: dict[str, Any] = {"label_selector": selector}
        if field_selector:
            kwargs["field_selector"] = field_selector
        out = self.kube.call(
            f"list pods {selector!r} in {ns}", self.kube.core.list_namespaced_pod, ns, **kwargs
        )
        return sorted((PodState.from_model(p) for p in out.items), key=lambda p: p.name)

    def on_node(self, node: str) -> builtins.list[PodState]:
        out = self.kube.call(
            f"list pods on node {node}",
            self.kube.core.list_pod_for_all_namespaces,
            field_selector=f"spec.nodeName={node}",
        )
        return [PodState.from_model(p) for p in out.items]

    def kill(
        self,
        selector: str,
        *,
        count: int | None = None,
        percent: float | None = None,
        grace_period: int = 30,
        max_pods: int | None = None,
        namespace: str | None = None,
        seed: int | None = None,
    ) -> Killed:
        """Delete ``count`` (or ``percent`` %) of the running pods matching ``selector``.

        Raises when nothing matches (the selector is probably wrong) or when more than
        ``max_pods`` would be killed (the blast-radius limit)."""
        ns = namespace or self.kube.namespace
        candidates = [p for p in self.list(selector, namespace=ns) if not p.terminating]
        if not candidates:
            raise KubeNotFound(
                f"no running pod matches selector {selector!r} in namespace {ns!r}: check "
                f"{self.kube.where} selector (and namespace)"
            )
        n = victims_count(len(candidates), count=count, percent=percent)
        if max_pods is not None and n > max_pods:
            raise InvalidDrillConfig(f"killing {n} pods of {len(candidates)} exceeds max_pods = {max_pods}")
        chosen = random.Random(seed).sample(candidates, n)
        killed: builtins.list[str] = []
        for pod in chosen:
            with contextlib.suppress(KubeNotFound):  # gone already: it counts as killed
                self.kube.call(
                    f"delete pod {pod.name}",
                    self.kube.core.delete_namespaced_pod,
                    pod.name,
                    ns,
                    grace_period_seconds=grace_period,
                )
            killed.append(pod.name)
        return Killed(ns, selector, len(candidates), tuple(sorted(killed)), grace_period)
