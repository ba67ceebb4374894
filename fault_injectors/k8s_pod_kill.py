"""Kill pods chosen by label selector: a count or a percentage, with a grace period."""

from __future__ import annotations

from typing import Any

from drillbook.faults.base import Fault
from drillbook.harness.environments.guard import Blast
from drillbook.harness.environments.staging.k8s.cluster import Cluster
from drillbook.harness.environments.staging.k8s.deployments import Deployments
from drillbook.harness.environments.staging.k8s.pods import Pods, victims_count
from drillbook.harness.environments.staging.waiting import wait_until


class K8sPodKill(Fault):
    """Deletes ``count`` pods (or ``percent`` % of them, rounded up) among the running pods
    matching ``selector``, with ``grace_period`` seconds to stop (0: at once, like a crash).

    Their controller (a ReplicaSet) recreates them. Revert waits for that: until
    ``deployment`` (when given) is available again, else until every pod matching the
    selector is ready again. ``max_pods`` caps how many pods one injection may kill.
    """

    name = "k8s_pod_kill"
    blast_radius = "the chosen pods of one label selector (count or percent)"
    rollback = "nothing to undo: the ReplicaSet recreates the pods; revert waits until they are ready"

    def __init__(
        self,
        selector: str,
        *,
        count: int | None = None,
        percent: float | None = None,
        grace_period: int = 30,
        deployment: str | None = None,
        max_pods: int | None = None,
        namespace: str = "default",
        context: str | None = None,
        kubeconfig: str | None = None,
        api_url: str | None = None,
        in_cluster: bool = False,
        request_timeout: float = 15.0,
        timeout: float = 300.0,
        poll_interval: float = 2.0,
        seed: int | None = None,
    ) -> None:
        victims_count(1, count=count, percent=percent)  # checks the arguments now
        self.selector = selector
        self.count = count
        self.percent = percent
        self.grace_period = grace_period
        self.deployment = deployment
        self.max_pods = max_pods
        self.cluster = Cluster(namespace, context, kubeconfig, api_url, in_cluster, request_timeout)
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.seed = seed
        self.killed: tuple[str, ...] = ()

    def _pods(self) -> Pods:
        return Pods(self.cluster.connect(where=f"fault {self.name}", poll_interval=self.poll_interval))

    def blast(self) -> Blast:
        """How many pods, and what share of the matching ones, an injection now would kill."""
        matched = len([p for p in self._pods().list(self.selector) if not p.terminating])
        pods = victims_count(matched, count=self.count, percent=self.percent)
        return Blast(pods=pods, percent=100.0 * pods / matched if matched else 0.0)

    def inject(self) -> None:
        killed = self._pods().kill(
            self.selector,
            count=self.count,
            percent=self.percent,
            grace_period=self.grace_period,
            max_pods=self.max_pods,
            seed=self.seed,
        )
        self.killed = killed.names

    def revert(self) -> None:
        pods = self._pods()
        if self.deployment:
            Deployments(pods.kube).wait_available(self.deployment, timeout=self.timeout)
            return

        def ready() -> tuple[bool, str]:
            found = [p for p in pods.list(self.selector) if not p.terminating]
            not_ready = [p.name for p in found if not p.ready]
            return bool(found) and not not_ready, f"{len(found) - len(not_ready)} of {len(found)} pods ready"

        wait_until(
            f"pods {self.selector!r} to be ready", ready, timeout=self.timeout, interval=self.poll_interval
        )

    def describe(self) -> dict[str, Any]:
        return {
            "selector": self.selector,
            "count": self.count,
            "percent": self.percent,
            "grace_period": self.grace_period,
            "deployment": self.deployment,
            "max_pods": self.max_pods,
            **self.cluster.params(),
            "timeout": self.timeout,
            "poll_interval": self.poll_interval,
            "seed": self.seed,
        }
