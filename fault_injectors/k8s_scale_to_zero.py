"""Scale a deployment to zero replicas; revert scales it back to what it had."""

from __future__ import annotations

from typing import Any

from drillbook.faults.base import Fault
from drillbook.harness.environments.guard import Blast
from drillbook.harness.environments.staging.k8s.cluster import Cluster
from drillbook.harness.environments.staging.k8s.deployments import Deployments

SCALED_FROM = "drillbook.io/scaled-from"


class K8sScaleToZero(Fault):
    """Scales ``deployment`` to 0: every pod of it stops (the service is down).

    The replica count it had is written into the deployment's own annotation
    ``drillbook.io/scaled-from`` in the same patch, so any process can revert it:
    revert scales back to that count, removes the annotation and waits until the
    deployment is available. Without the annotation there is nothing to revert.
    """

    name = "k8s_scale_to_zero"
    blast_radius = "every pod of one deployment"
    rollback = "scale back to the recorded replica count and wait until available"

    def __init__(
        self,
        deployment: str,
        *,
        namespace: str = "default",
        context: str | None = None,
        kubeconfig: str | None = None,
        api_url: str | None = None,
        in_cluster: bool = False,
        request_timeout: float = 15.0,
        timeout: float = 300.0,
        poll_interval: float = 2.0,
    ) -> None:
        self.deployment = deployment
        self.cluster = Cluster(namespace, context, kubeconfig, api_url, in_cluster, request_timeout)
        self.timeout = timeout
        self.poll_interval = poll_interval

    def _deployments(self) -> Deployments:
        return Deployments(self.cluster.connect(where=f"fault {self.name}", poll_interval=self.poll_interval))

    def blast(self) -> Blast:
        replicas = self._deployments().status(self.deployment).replicas
        return Blast(pods=replicas, percent=100.0)

    def inject(self) -> None:
        deployments = self._deployments()
        d = deployments.get(self.deployment)
        annotations = d.metadata.annotations or {}
        # Injected twice: keep the first recorded count (the deployment is at 0 already).
        original = annotations.get(SCALED_FROM) or str(d.spec.replicas if d.spec.replicas is not None else 1)
        deployments.patch(
            self.deployment,
            {"metadata": {"annotations": {SCALED_FROM: original}}, "spec": {"replicas": 0}},
            "scale to zero",
        )

    def revert(self) -> None:
        deployments = self._deployments()
        recorded = deployments.annotations(self.deployment).get(SCALED_FROM)
        if recorded is None:
            return  # never injected, or reverted already
        deployments.patch(
            self.deployment,
            {"metadata": {"annotations": {SCALED_FROM: None}}, "spec": {"replicas": int(recorded)}},
            "scale back",
        )
        deployments.wait_available(self.deployment, timeout=self.timeout)

    def describe(self) -> dict[str, Any]:
        return {
            "deployment": self.deployment,
            **self.cluster.params(),
            "timeout": self.timeout,
            "poll_interval": self.poll_interval,
        }
