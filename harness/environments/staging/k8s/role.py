"""A Kubernetes deployment as the ``app`` or ``workers`` role
(:class:`~drillbook.harness.environments.base.DeploymentRole`)."""

from __future__ import annotations

from typing import Any

from drillbook.harness.calls.declared import KubeRule, declare
from drillbook.harness.environments.base import ReplicaStatus
from drillbook.harness.environments.staging.k8s.client import Kube
from drillbook.harness.environments.staging.k8s.deployments import Deployments
from drillbook.harness.environments.staging.k8s.nodes import Nodes
from drillbook.harness.environments.staging.k8s.pods import Pods
from drillbook.harness.environments.staging.k8s.rollout import Rollouts
from drillbook.harness.environments.staging.settings import DeploymentSettings

CALLS = declare(
    __name__,
    "the app role: kill pods, read a crashed replica's log",
    kube=(KubeRule("", "pods", ("delete",)), KubeRule("", "pods/log", ("get",))),
)


class KubeDeployment:
    def __init__(self, kube: Kube, settings: DeploymentSettings) -> None:
        self.kube = kube
        self.settings = settings
        self.name = settings.deployment
        self.deployments = Deployments(kube)
        self.pods = Pods(kube)
        self.nodes = Nodes(kube)

    def replicas(self) -> list[ReplicaStatus]:
        zones = self.nodes.zones()
        return [
            ReplicaStatus(
                name=p.name,
                zone=zones.get(p.node) if p.node else None,
                phase=p.display_phase,
                ready=p.ready,
                restarts=p.restarts,
                release=p.image,
            )
            for p in self.pods.list(self.settings.selector)
        ]

    def scale(self, count: int) -> None:
        self.deployments.scale(self.name, count)

    def set_env(self, **env: str | None) -> None:
        self.deployments.set_env(self.name, env, container=self.settings.container)

    def set_image(self, version: str, *, strategy: str | None = None) -> None:
        """``version`` is a whole image reference (with ``/`` or ``:``) or a tag for the current image;
        ``strategy`` (``Recreate``, ``RollingUpdate``) is set in the same patch when given."""
        if "/" in version or ":" in version:
            image = version
        else:
            d = self.deployments.get(self.name)
            containers = d.spec.template.spec.containers
            current = next(
                (c.image for c in containers if c.name == self.settings.container), containers[0].image
            )
            repository = current.split("@", 1)[0]
            if ":" in repository.rsplit("/", 1)[-1]:
                repository = repository[: repository.rfind(":")]
            image = f"{repository}:{version}"
        if strategy is None:
            self.deployments.set_image(self.name, image, container=self.settings.container)
            return
        d = self.deployments.get(self.name)
        index = self.deployments.container_index(d, self.settings.container)
        ops = [{"op": "add", "path": f"/spec/template/spec/containers/{index}/image", "value": image},
               *_strategy_ops(d, strategy)]
        self.deployments.patch(self.name, ops, f"set image ({strategy}) of")

    def strategy(self) -> str:
        """The deployment's rollout strategy (``Recreate`` or ``RollingUpdate``)."""
        d = self.deployments.get(self.name)
        return str(d.spec.strategy.type if d.spec.strategy and d.spec.strategy.type else "RollingUpdate")

    def set_strategy(self, strategy: str) -> None:
        """The strategy alone (no rollout on Kubernetes)."""
        d = self.deployments.get(self.name)
        self.deployments.patch(self.name, _strategy_ops(d, strategy), f"set strategy {strategy} of")

    def rollout_restart(self) -> None:
        self.deployments.rollout_restart(self.name)

    def rollout_undo(self, to_revision: int | None = None) -> None:
        Rollouts(self.deployments).undo(self.name, to_revision=to_revision or 0)

    def history(self) -> list[dict[str, Any]]:
        """Oldest first, as ``kubectl rollout history``: revision, version (the image), cause."""
        return [
            {"revision": r.number, "version": r.image, "cause": r.cause, "replicaset": r.replicaset}
            for r in Rollouts(self.deployments).history(self.name)
        ]

    def kill(self, count: int | None = None, zone: str | None = None) -> list[str]:
        """Delete ``count`` pods (all when None), or every pod on the nodes of ``zone``."""
        if zone is not None:
            zones = self.nodes.zones()
            names = [
                p.name for p in self.pods.list(self.settings.selector) if p.node and zones.get(p.node) == zone
            ]
            for name in names:
                self.kube.call(
                    f"delete pod {name}", self.kube.core.delete_namespaced_pod, name, self.kube.namespace
                )
            return names
        if count is None:
            return list(self.pods.kill(self.settings.selector, percent=100.0).names)
        return list(self.pods.kill(self.settings.selector, count=count).names)

    def status(self) -> dict[str, Any]:
        """The deployment as the local supervisor's ``status()`` shows one (drills read this shape)."""
        d = self.deployments.get(self.name)
        rollout = self.deployments.status(self.name)
        zones = self.nodes.zones()
        revisions = {r.replicaset: r.number for r in Rollouts(self.deployments).history(self.name)}
        pods = self.pods.list(self.settings.selector)
        conditions = (d.status.conditions if d.status else None) or []
        stalled = any(c.type == "Progressing" and c.reason == "ProgressDeadlineExceeded" for c in conditions)
        return {
            "name": self.name,
            "replicas": rollout.replicas,
            "updated": rollout.updated,
            "ready": rollout.ready,
            "available": rollout.available,
            "old": max(rollout.current - rollout.updated, 0),
            "zones": sorted({z for z in zones.values() if z}),
            "rollout": "complete" if rollout.done else "stalled" if stalled else "progressing",
            "revision": int(rollout.revision or 0),
            "version": d.spec.template.spec.containers[0].image,
            "env": self.env(),
            "pods": [
                {
                    "name": p.name,
                    "phase": p.display_phase,
                    "ready": p.ready,
                    "restarts": p.restarts,
                    "revision": revisions.get(p.owner_name or ""),
                    "terminating": p.terminating,
                    "node": p.node,
                    "zone": zones.get(p.node) if p.node else None,
                }
                for p in pods
            ],
        }

    def wait_available(self, timeout: float = 120.0) -> None:
        self.deployments.wait_available(self.name, timeout=timeout)

    def env(self) -> dict[str, str]:
        return self.deployments.env(self.name, container=self.settings.container)

    def logs(self, pod: str, *, previous: bool = False) -> str:
        """``kubectl logs <pod> [--previous]`` (the profile's container, if it names one)."""
        options: dict[str, Any] = {"previous": previous}
        if self.settings.container:
            options["container"] = self.settings.container
        what = f"read the {'previous ' if previous else ''}log of pod {pod}"
        return str(self.kube.call(what, self.kube.core.read_namespaced_pod_log, pod, self.kube.namespace,
                                  **options))


def _strategy_ops(d: Any, strategy: str) -> list[dict[str, Any]]:
    """JSON patch operations for ``strategy``: Kubernetes refuses ``Recreate`` beside ``rollingUpdate``."""
    ops: list[dict[str, Any]] = [{"op": "replace", "path": "/spec/strategy/type", "value": strategy}]
    if strategy == "Recreate" and d.spec.strategy is not None and d.spec.strategy.rolling_update is not None:
        ops.append({"op": "remove", "path": "/spec/strategy/rollingUpdate"})
    return ops
