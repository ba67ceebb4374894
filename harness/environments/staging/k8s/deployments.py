"""Deployments: scale, rollout restart (the annotation ``kubectl rollout restart`` sets), set
env and image (a new rollout), annotations, and waiting until a rollout is complete and
available, with the same conditions as ``kubectl rollout status``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from drillbook.harness.calls.declared import KubeRule, declare
from drillbook.harness.environments.staging.k8s.client import Kube, KubeNotFound
from drillbook.harness.environments.staging.k8s.pods import Pods, PodState
from drillbook.harness.environments.staging.waiting import Progress, Waited, wait_until
from drillbook.harness.errors import InvalidDrillConfig

CALLS = declare(
    __name__,
    "read a deployment; scale it, set its image, variables and annotations (patch)",
    kube=KubeRule("apps", "deployments", ("get", "patch")),
)

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
REVISION = "deployment.kubernetes.io/revision"


@dataclass(frozen=True)
class RolloutStatus:
    name: str
    generation: int
    observed_generation: int
    replicas: int  # desired
    current: int  # pods of every revision
    updated: int
    ready: int
    available: int
    revision: str | None

    @property
    def done(self) -> bool:
        return self.explain() == "complete"

    def explain(self) -> str:
        if self.observed_generation < self.generation:
            return "waiting for the deployment spec update to be observed"
        if self.updated < self.replicas:
            return f"{self.updated} of {self.replicas} new replicas have been updated"
        if self.current > self.updated:
            return f"{self.current - self.updated} old replicas are pending termination"
        if self.available < self.updated:
            return f"{self.available} of {self.updated} updated replicas are available"
        return "complete"


def json_pointer(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


class Deployments:
    def __init__(self, kube: Kube, *, namespace: str | None = None) -> None:
        self.kube = kube
        self.namespace = namespace or kube.namespace

    def _hints(self, name: str) -> dict[int, str]:
        return {
            404: f"no deployment {name!r} in namespace {self.namespace!r}: check {self.kube.where} "
            "deployment (and namespace)",
            403: f"the Kubernetes credentials may not change deployment {name!r} in {self.namespace!r}: "
            "grant get/patch on deployments (docs/staging.md)",
        }

    def get(self, name: str) -> Any:
        return self.kube.call(
            f"read deployment {name}",
            self.kube.apps.read_namespaced_deployment,
            name,
            self.namespace,
            hints=self._hints(name),
        )

    def patch(self, name: str, body: Any, what: str) -> Any:
        """A strategic merge patch (a dict) or a JSON patch (a list of operations)."""
        return self.kube.call(
            f"{what} deployment {name}",
            self.kube.apps.patch_namespaced_deployment,
            name,
            self.namespace,
            body,
            hints=self._hints(name),
        )

    def status(self, name: str) -> RolloutStatus:
        d = self.get(name)
        s = d.status
        return RolloutStatus(
            name=name,
            generation=int(d.metadata.generation or 0),
            observed_generation=int((s.observed_generation if s else None) or 0),
            replicas=int(d.spec.replicas if d.spec.replicas is not None else 1),
            current=int((s.replicas if s else None) or 0),
            updated=int((s.updated_replicas if s else None) or 0),
            ready=int((s.ready_replicas if s else None) or 0),
            available=int((s.available_replicas if s else None) or 0),
            revision=(d.metadata.annotations or {}).get(REVISION),
        )

    def selector(self, name: str) -> str:
        labels = self.get(name).spec.selector.match_labels or {}
        return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))

    def pods(self, name: str) -> list[PodState]:
        return Pods(self.kube).list(self.selector(name), namespace=self.namespace)

    def annotations(self, name: str) -> dict[str, str]:
        return dict(self.get(name).metadata.annotations or {})

    # -- changes ---------------------------------------------------------------------------

    def scale(self, name: str, replicas: int) -> None:
        if replicas < 0:
            raise InvalidDrillConfig(f"replicas must be >= 0, got {replicas}")
        self.patch(name, {"spec": {"replicas": replicas}}, f"scale to {replicas}")

    def rollout_restart(self, name: str) -> str:
        """New pods for the same template, as ``kubectl rollout restart`` does."""
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.patch(
            name, {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: at}}}}}, "rollout restart"
        )
        return at

    def container_index(self, d: Any, container: str | None) -> int:
        containers = d.spec.template.spec.containers
        if container is None:
            return 0
        for index, c in enumerate(containers):
            if c.name == container:
                return index
        names = ", ".join(c.name for c in containers)
        raise InvalidDrillConfig(
            f"deployment {d.metadata.name!r} has no container {container!r} (it has {names})"
        )

    def set_env(self, name: str, env: dict[str, str | None], *, container: str | None = None) -> None:
        """A new rollout with these variables set (None removes one), as ``kubectl set env``."""
        d = self.get(name)
        index = self.container_index(d, container)
        current = self.kube.plain(d.spec.template.spec.containers[index]).get("env") or []
        updated = []
        for entry in current:
            if entry["name"] in env:
                value = env[entry["name"]]
                if value is not None:
                    updated.append({"name": entry["name"], "value": value})
            else:
                updated.append(entry)
        known = {e["name"] for e in current}
        updated += [{"name": k, "value": v} for k, v in env.items() if v is not None and k not in known]
        self.patch(
            name,
            [{"op": "add", "path": f"/spec/template/spec/containers/{index}/env", "value": updated}],
            "set env of",
        )

    def env(self, name: str, *, container: str | None = None) -> dict[str, str]:
        d = self.get(name)
        c = d.spec.template.spec.containers[self.container_index(d, container)]
        out: dict[str, str] = {}
        for e in c.env or []:
            if e.value_from is not None:
                ref = e.value_from.secret_key_ref or e.value_from.config_map_key_ref
                out[e.name] = f"<from {getattr(ref, 'name', '?')}/{getattr(ref, 'key', '?')}>"
            else:
                out[e.name] = e.value or ""
        return out

    def set_image(self, name: str, image: str, *, container: str | None = None) -> None:
        d = self.get(name)
        index = self.container_index(d, container)
        self.patch(
            name,
            [{"op": "add", "path": f"/spec/template/spec/containers/{index}/image", "value": image}],
            "set image of",
        )

    def annotate(self, name: str, annotations: dict[str, str | None]) -> None:
        """Set (None: remove) annotations on the deployment itself; no rollout."""
        self.patch(name, {"metadata": {"annotations": annotations}}, "annotate")

    # -- waiting -------------------------------------------------------------------------------

    def wait_available(
        self, name: str, *, timeout: float = 300.0, progress: Progress | None = None
    ) -> Waited:
        """Until the rollout is complete and every updated replica is available."""

        def poll() -> tuple[bool, str]:
            status = self.status(name)
            state = status.explain()
            if status.done:
                return True, state
            # An unready pod that restarted is crash-looping even while its process runs.
            problems = sorted(
                {
                    f"{p.name} {p.display_phase}" + (f" ({p.restarts} restarts)" if p.restarts else "")
                    for p in self.pods(name)
                    if p.waiting or (not p.ready and (p.phase != "Running" or p.restarts))
                }
            )
            return False, state + (f"; pods: {', '.join(problems[:5])}" if problems else "")

        return wait_until(
            f"deployment {self.namespace}/{name} to be available",
            poll,
            timeout=timeout,
            interval=self.kube.poll_interval,
            progress=progress or self.kube.progress,
        )

    def exists(self, name: str) -> bool:
        try:
            self.get(name)
        except KubeNotFound:
            return False
        return True
