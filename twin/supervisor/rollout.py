"""What a deployment needs next: the deployment controller's decision, as a pure function.

RollingUpdate (``max_surge`` 1, ``max_unavailable`` 0 by default, Kubernetes'
rounding for 3 replicas): a new pod is created first, an old one stops only
once enough pods are ready, so a release whose pods never become ready stalls
with the old pods still serving. Recreate: every old pod stops, then the new
ones start (a bad release then takes the whole service down).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from drillbook.twin.supervisor.model import RECREATE, Deployment, Pod


@dataclass
class Plan:
    create: int = 0
    terminate: list[Pod] = field(default_factory=list)


def plan(deployment: Deployment, pods: Sequence[Pod]) -> Plan:
    """``pods``: the deployment's pods, terminating ones included."""
    target = deployment.current.template_hash
    desired = deployment.replicas
    live = [p for p in pods if not p.terminating]
    new = [p for p in live if p.template_hash == target]
    old = [p for p in live if p.template_hash != target]
    out = Plan()

    if deployment.current.strategy == RECREATE and old:
        out.terminate = list(old)
        return out
    if deployment.current.strategy == RECREATE and any(
        p.terminating and p.template_hash != target for p in pods
    ):
        return out  # Recreate starts new pods only once the old ones are gone

    if len(new) > desired:
        out.terminate += _least_useful(new)[: len(new) - desired]
        new = [p for p in new if p not in out.terminate]

    surge = deployment.max_surge if old else 0
    room = desired + surge - (len(new) + len(old))
    out.create = max(0, min(desired - len(new), room))

    if old:
        ready = sum(1 for p in new if p.ready) + sum(1 for p in old if p.ready)
        floor = max(0, desired - deployment.max_unavailable)
        for pod in _least_useful(old):
            if not pod.ready:
                out.terminate.append(pod)  # an unready pod serves nobody: no availability lost
            elif ready - 1 >= floor or desired == 0:
                out.terminate.append(pod)
                ready -= 1
    return out


def _least_useful(pods: Sequence[Pod]) -> list[Pod]:
    """Scale-down order: unready before ready, then newest first (as Kubernetes does)."""
    return sorted(pods, key=lambda p: (p.ready, _neg(p.created_at)))


def _neg(stamp: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in stamp)
