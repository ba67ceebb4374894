"""Rollout history and undo, as ``kubectl rollout undo`` does it.

A deployment's revisions are its ReplicaSets (those it controls), each annotated
with ``deployment.kubernetes.io/revision``. Undo copies the pod template of the
previous revision (or of ``to_revision``) back into the deployment, without the
``pod-template-hash`` label; the deployment controller then brings that ReplicaSet
back under a new revision number.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from drillbook.harness.calls.declared import KubeRule, declare
from drillbook.harness.environments.staging.k8s.client import Kube, KubeError
from drillbook.harness.environments.staging.k8s.deployments import REVISION, Deployments
from drillbook.harness.environments.staging.waiting import wait_until

CALLS = declare(
    __name__, "a deployment's revisions (its ReplicaSets)", kube=KubeRule("apps", "replicasets", ("list",))
)

HASH_LABEL = "pod-template-hash"
HISTORY = "deployment.kubernetes.io/revision-history"
CHANGE_CAUSE = "kubernetes.io/change-cause"


class RolloutError(KubeError):
    """No revision to go back to, or the deployment is paused."""


@dataclass(frozen=True)
class Revision:
    number: int
    replicaset: str
    image: str | None
    template: dict[str, Any]
    #: Earlier numbers of this revision (rolled back to): ``deployment.kubernetes.io/revision-history``.
    earlier: tuple[int, ...] = ()
    #: ``kubernetes.io/change-cause``, as ``kubectl rollout history`` shows it.
    cause: str = ""


def _clean(template: dict[str, Any]) -> dict[str, Any]:
    clean = copy.deepcopy(template)
    labels = (clean.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(HASH_LABEL, None)
    return clean


class Rollouts:
    def __init__(self, deployments: Deployments) -> None:
        self.deployments = deployments
        self.kube: Kube = deployments.kube

    def history(self, name: str) -> list[Revision]:
        """Oldest first."""
        d = self.deployments.get(name)
        uid = d.metadata.uid
        selector = ",".join(f"{k}={v}" for k, v in sorted((d.spec.selector.match_labels or {}).items()))
        out = self.kube.call(
            f"list ReplicaSets of {name}",
            self.kube.apps.list_namespaced_replica_set,
            self.deployments.namespace,
            label_selector=selector,
        )
        revisions = []
        for rs in out.items:
            owners = rs.metadata.owner_references or []
            if not any(o.uid == uid and o.controller for o in owners):
                continue
            annotations = rs.metadata.annotations or {}
            number = int(annotations.get(REVISION, "0"))
            earlier = tuple(int(n) for n in annotations.get(HISTORY, "").split(",") if n.strip().isdigit())
            template = self.kube.plain(rs.spec.template)
            containers = template.get("spec", {}).get("containers") or [{}]
            revisions.append(
                Revision(
                    number,
                    rs.metadata.name,
                    containers[0].get("image"),
                    template,
                    earlier,
                    annotations.get(CHANGE_CAUSE, ""),
                )
            )
        return sorted(revisions, key=lambda r: r.number)

    def undo(self, name: str, *, to_revision: int = 0, observe_timeout: float = 60.0) -> Revision | None:
        """Roll back to the previous revision (or ``to_revision``); the revision rolled back to,
        or None when the deployment already runs that template (kubectl: "skipped rollback").

        A change the deployment controller has not observed yet has no revision yet: undo first
        waits (up to ``observe_timeout``) until it is observed, so that "previous" means the
        revision before the latest change, also right after that change."""

        def observed() -> tuple[bool, str]:
            status = self.deployments.status(name)
            return status.observed_generation >= status.generation, status.explain()

        wait_until(
            f"deployment {name} to observe its latest spec",
            observed,
            timeout=observe_timeout,
            interval=self.kube.poll_interval,
        )
        d = self.deployments.get(name)
        if d.spec.paused:
            raise RolloutError(f"deployment {name!r} is paused: resume it before rolling back")
        history = self.history(name)
        current = int((d.metadata.annotations or {}).get(REVISION, "0"))
        if to_revision:
            target = next((r for r in history if r.number == to_revision), None)
            if target is None:
                known = ", ".join(str(r.number) for r in history) or "none"
                raise RolloutError(
                    f"unable to find revision {to_revision} of deployment {name!r} (revisions: {known})"
                )
        else:
            older = [r for r in history if r.number < current]
            if not older:
                raise RolloutError(
                    f"no rollout history found for deployment {name!r}: there is no previous "
                    "revision to go back to"
                )
            target = older[-1]
        template = _clean(target.template)
        if _clean(self.kube.plain(d.spec.template)) == template:
            return None
        self.deployments.patch(
            name,
            [{"op": "replace", "path": "/spec/template", "value": template}],
            f"roll back to revision {target.number}",
        )
        return target
