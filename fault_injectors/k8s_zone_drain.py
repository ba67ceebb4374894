"""Lose a zone: cordon and drain every node labelled with it."""

from __future__ import annotations

from typing import Any

from drillbook.faults.base import Fault
from drillbook.harness.environments.guard import Blast
from drillbook.harness.environments.staging.k8s.cluster import Cluster
from drillbook.harness.environments.staging.k8s.nodes import ZONE_LABEL, Nodes
from drillbook.harness.environments.staging.k8s.pods import Pods
from drillbook.harness.errors import FaultError

CORDONED_BY = "drillbook.io/cordoned-by"


class K8sZoneDrain(Fault):
    """Cordons every node with ``label=zone`` (``topology.kubernetes.io/zone`` by default) and
    evicts their pods as ``kubectl drain`` does (DaemonSet pods are left, as with
    ``--ignore-daemonsets``): the workloads must reschedule into the other zones (Scenario 4).

    Each node the fault cordons gets the annotation ``drillbook.io/cordoned-by`` in the same
    patch; revert uncordons exactly those nodes and removes the annotation (a node that
    was cordoned before the drill stays cordoned). Evicted pods are not moved back.
    """

    name = "k8s_zone_drain"
    blast_radius = "every node of one zone and every pod on them"
    rollback = "uncordon the nodes the drill cordoned (pods stay where they were rescheduled)"

    def __init__(
        self,
        zone: str,
        *,
        label: str = ZONE_LABEL,
        ignore_daemonsets: bool = True,
        delete_emptydir_data: bool = False,
        force: bool = False,
        grace_period: int | None = None,
        namespace: str = "default",
        context: str | None = None,
        kubeconfig: str | None = None,
        api_url: str | None = None,
        in_cluster: bool = False,
        request_timeout: float = 15.0,
        timeout: float = 600.0,
        poll_interval: float = 2.0,
        retry_interval: float = 5.0,
    ) -> None:
        self.zone = zone
        self.label = label
        self.ignore_daemonsets = ignore_daemonsets
        self.delete_emptydir_data = delete_emptydir_data
        self.force = force
        self.grace_period = grace_period
        self.cluster = Cluster(namespace, context, kubeconfig, api_url, in_cluster, request_timeout)
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.retry_interval = retry_interval

    def _nodes(self) -> Nodes:
        kube = self.cluster.connect(where=f"fault {self.name}", poll_interval=self.poll_interval)
        return Nodes(kube, retry_interval=self.retry_interval)

    def blast(self) -> Blast:
        nodes = self._nodes()
        names = nodes.in_zone(self.zone, label=self.label)
        pods = Pods(nodes.kube)
        count = sum(1 for node in names for p in pods.on_node(node) if p.owner_kind != "DaemonSet")
        return Blast(pods=count, nodes=len(names))

    def inject(self) -> None:
        nodes = self._nodes()
        names = nodes.in_zone(self.zone, label=self.label)
        if not names:
            raise FaultError(f"no node has the label {self.label}={self.zone}: check the zone name")
        for node in names:
            nodes.drain(
                node,
                ignore_daemonsets=self.ignore_daemonsets,
                delete_emptydir_data=self.delete_emptydir_data,
                force=self.force,
                grace_period=self.grace_period,
                timeout=self.timeout,
                cordon_annotations={CORDONED_BY: self.name},
            )

    def revert(self) -> None:
        nodes = self._nodes()
        for node in nodes.in_zone(self.zone, label=self.label):
            if (nodes.get(node).metadata.annotations or {}).get(CORDONED_BY) == self.name:
                nodes.uncordon(node, annotations={CORDONED_BY: None})

    def describe(self) -> dict[str, Any]:
        return {
            "zone": self.zone,
            "label": self.label,
            "ignore_daemonsets": self.ignore_daemonsets,
            "delete_emptydir_data": self.delete_emptydir_data,
            "force": self.force,
            "grace_period": self.grace_period,
            **self.cluster.params(),
            "timeout": self.timeout,
            "poll_interval": self.poll_interval,
            "retry_interval": self.retry_interval,
        }
