"""Roll out a bad release: an image that cannot run, or a broken environment variable."""

from __future__ import annotations

from typing import Any

from drillbook.faults.base import Fault
from drillbook.harness.environments.guard import Blast
from drillbook.harness.environments.staging.k8s.cluster import Cluster
from drillbook.harness.environments.staging.k8s.deployments import REVISION, Deployments, json_pointer
from drillbook.harness.environments.staging.k8s.rollout import Rollouts
from drillbook.harness.errors import FaultError, InvalidDrillConfig

BAD_ROLLOUT_OF = "drillbook.io/bad-rollout-of"
DEFAULT_BAD_IMAGE = "registry.invalid/drillbook/bad-release:0"


class K8sBadRollout(Fault):
    """Starts a rollout of ``deployment`` that cannot become ready (Scenario 5): a new
    ``image`` (default: one that cannot be pulled) or ``env`` changes (a value, or None to
    remove a variable the application needs: it crash-loops).

    The revision that ran before is written into the deployment's annotation
    ``drillbook.io/bad-rollout-of`` in the same JSON patch. Revert rolls back to exactly
    that revision, as ``kubectl rollout undo --to-revision`` does, removes the
    annotation and waits until the deployment is available; without the annotation
    there is nothing to revert, so reverting twice never undoes twice.
    """

    name = "k8s_bad_rollout"
    blast_radius = "one deployment's new pods (the old ones keep serving while the rollout is stuck)"
    rollback = "rollout undo to the revision before the bad one, then wait until available"

    def __init__(
        self,
        deployment: str,
        *,
        image: str | None = None,
        env: dict[str, str | None] | None = None,
        container: str | None = None,
        namespace: str = "default",
        context: str | None = None,
        kubeconfig: str | None = None,
        api_url: str | None = None,
        in_cluster: bool = False,
        request_timeout: float = 15.0,
        timeout: float = 300.0,
        poll_interval: float = 2.0,
    ) -> None:
        if image is None and not env:
            image = DEFAULT_BAD_IMAGE
        if env is not None and not all(
            isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in env.items()
        ):
            raise InvalidDrillConfig("env must map variable names to strings (or None to remove one)")
        self.deployment = deployment
        self.image = image
        self.env = dict(env) if env else None
        self.container = container
        self.cluster = Cluster(namespace, context, kubeconfig, api_url, in_cluster, request_timeout)
        self.timeout = timeout
        self.poll_interval = poll_interval

    def _deployments(self) -> Deployments:
        return Deployments(self.cluster.connect(where=f"fault {self.name}", poll_interval=self.poll_interval))

    def blast(self) -> Blast:
        return Blast(pods=self._deployments().status(self.deployment).replicas, percent=100.0)

    def inject(self) -> None:
        deployments = self._deployments()
        d = deployments.get(self.deployment)
        annotations = d.metadata.annotations or {}
        if BAD_ROLLOUT_OF in annotations:
            return  # injected already: the bad release is rolling out
        revision = annotations.get(REVISION)
        if revision is None:
            raise FaultError(
                f"deployment {self.deployment!r} has no revision yet (its controller has not "
                "observed it): wait until it is available before the drill"
            )
        ops: list[dict[str, Any]] = [
            {"op": "add", "path": f"/metadata/annotations/{json_pointer(BAD_ROLLOUT_OF)}", "value": revision}
        ]
        index = deployments.container_index(d, self.container)
        container = f"/spec/template/spec/containers/{index}"
        if self.image is not None:
            ops.append({"op": "add", "path": f"{container}/image", "value": self.image})
        if self.env:
            current = deployments.kube.plain(d.spec.template.spec.containers[index]).get("env") or []
            env = [e for e in current if e["name"] not in self.env]
            env += [{"name": k, "value": v} for k, v in self.env.items() if v is not None]
            ops.append({"op": "add", "path": f"{container}/env", "value": env})
        deployments.patch(self.deployment, ops, "roll out a bad release of")

    def revert(self) -> None:
        deployments = self._deployments()
        good = deployments.annotations(self.deployment).get(BAD_ROLLOUT_OF)
        if good is None:
            return  # never injected, or reverted already
        if self._still_bad(deployments):
            rollouts = Rollouts(deployments)
            history = rollouts.history(self.deployment)
            if any(r.number == int(good) for r in history):
                rollouts.undo(self.deployment, to_revision=int(good), observe_timeout=self.timeout)
            elif not any(int(good) in r.earlier for r in history):
                raise FaultError(
                    f"deployment {self.deployment!r} still runs the bad release and revision {good} "
                    "(the one before it) is no longer in its history: roll it back by hand"
                )
        # else: the drill's recovery fixed it (undo, or a fix rolled forward): keep that release.
        deployments.annotate(self.deployment, {BAD_ROLLOUT_OF: None})
        deployments.wait_available(self.deployment, timeout=self.timeout)

    def _still_bad(self, deployments: Deployments) -> bool:
        d = deployments.get(self.deployment)
        container = d.spec.template.spec.containers[deployments.container_index(d, self.container)]
        if self.image is not None and container.image == self.image:
            return True
        if self.env:
            current = {e.name: e.value for e in container.env or []}
            return all(
                current.get(k) == v if v is not None else k not in current for k, v in self.env.items()
            )
        return False

    def describe(self) -> dict[str, Any]:
        return {
            "deployment": self.deployment,
            "image": self.image,
            "env": self.env,
            "container": self.container,
            **self.cluster.params(),
            "timeout": self.timeout,
            "poll_interval": self.poll_interval,
        }
