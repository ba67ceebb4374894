"""Nodes, namespaces and events as the API shows them.

One node per zone of the supervisor (``node-az-a``, labelled ``topology.kubernetes.io/zone``):
``spec.unschedulable`` is the zone's cordon, so ``kubectl cordon``/``uncordon`` cordon the
zone without moving a pod, and ``kubectl drain`` (a cordon, then an eviction of each pod)
moves every pod of the zone into the others. The supervisor's events are core/v1 Events.
"""

from __future__ import annotations

import platform
from typing import TYPE_CHECKING, Any

from drillbook.twin.kube import meta, workloads
from drillbook.twin.kube.meta import Rendered, object_meta

if TYPE_CHECKING:
    from drillbook.twin.supervisor.controller import Controller

KUBELET_VERSION = "v1.32.0-drillbook-twin"
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
_WARNINGS = {"BackOff", "Failed", "Unhealthy", "FailedScheduling", "LoopError"}


def zone_regions(ctl: Controller) -> dict[str, str]:
    """Each zone's region: that of the deployments running there."""
    out: dict[str, str] = {}
    for d in ctl.state.deployments.values():
        for zone in d.zones:
            out.setdefault(zone, d.region)
    return out


def node(ctl: Controller, zone: str, overlay: dict[str, Any]) -> Rendered:
    name = meta.node_name(zone)
    cordoned = ctl.state.zones[zone].cordoned
    region = zone_regions(ctl).get(zone)
    labels = {
        meta.HOSTNAME_LABEL: name,
        meta.ZONE_LABEL: zone,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": platform.machine(),
        **({meta.REGION_LABEL: region} if region else {}),
        **overlay.get("labels", {}),
    }
    spec: dict[str, Any] = {}
    if cordoned:
        spec = {
            "unschedulable": True,
            "taints": [
                {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule", "timeAdded": None}
            ],
        }
    created = meta.k8s_time(ctl.state.created_at)
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": object_meta(
            name,
            uid_=meta.node_uid(ctl.state.label, zone),
            created=created,
            labels=labels,
            annotations=overlay.get("annotations") or None,
        ),
        "spec": spec,
        "status": {
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "the supervisor runs this zone's pods",
                    "lastHeartbeatTime": created,
                    "lastTransitionTime": created,
                }
            ],
            "addresses": [
                {"type": "InternalIP", "address": "127.0.0.1"},
                {"type": "Hostname", "address": name},
            ],
            "capacity": {"pods": "110"},
            "allocatable": {"pods": "110"},
            "nodeInfo": {
                "kubeletVersion": KUBELET_VERSION,
                "kubeProxyVersion": KUBELET_VERSION,
                "osImage": platform.platform(terse=True),
                "kernelVersion": platform.release(),
                "operatingSystem": "linux",
                "architecture": platform.machine(),
                "containerRuntimeVersion": "drillbook-supervisor://1",
                "machineID": "",
                "systemUUID": "",
                "bootID": "",
            },
        },
    }
    if cordoned:
        obj["spec"]["taints"][0]["timeAdded"] = created
    return Rendered("nodes", obj, region)


def namespace(ctl: Controller, name: str, stored: dict[str, Any] | None, overlay: dict[str, Any]) -> Rendered:
    """A namespace: the system ones and the deployments' exist from the start; others were created."""
    source = dict((stored or {}).get("metadata") or {})
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": object_meta(
            name,
            uid_=source.get("uid") or meta.uid(ctl.state.label, "namespace", name),
            created=source.get("creationTimestamp") or meta.k8s_time(ctl.state.created_at),
            labels={"kubernetes.io/metadata.name": name, **overlay.get("labels", {})},
            annotations=overlay.get("annotations") or None,
        ),
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }
    return Rendered("namespaces", obj)


def events(ctl: Controller) -> list[Rendered]:
    """The supervisor's recent events (pods, deployments, zones) as core/v1 Events."""
    pods = ctl.state.pods
    zones = zone_regions(ctl)
    out = []
    for event in ctl.events:
        kind, name, region, involved_uid = "Pod", event.object, None, None
        if event.object in ctl.state.deployments:
            deployment = ctl.state.deployments[event.object]
            kind, region, involved_uid = (
                "Deployment",
                deployment.region,
                workloads.deployment_uid(ctl, deployment),
            )
        elif event.object in ctl.state.zones:
            kind, name, region = "Node", meta.node_name(event.object), zones.get(event.object)
            involved_uid = meta.node_uid(ctl.state.label, event.object)
        elif event.object in pods:
            pod = pods[event.object]
            owner = ctl.state.deployments.get(pod.deployment)
            region = owner.region if owner else None
            involved_uid = meta.pod_uid(ctl.state.label, pod.name, pod.created_at)
        elif event.object == "supervisor":
            kind = "Supervisor"
        at = meta.k8s_time(event.at)
        involved = {"kind": kind, "name": name, "apiVersion": "apps/v1" if kind == "Deployment" else "v1"}
        if kind in ("Pod", "Deployment"):
            involved["namespace"] = ctl.state.namespace
        if involved_uid:
            involved["uid"] = involved_uid
        event_name = f"{name}.{meta.uid(event.at, event.object, event.reason, event.message)[:8]}"
        obj: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": object_meta(
                event_name,
                uid_=meta.uid(ctl.state.label, "event", event.at, event_name),
                created=at,
                namespace=ctl.state.namespace,
            ),
            "involvedObject": involved,
            "reason": event.reason,
            "message": event.message,
            "type": "Warning" if event.reason in _WARNINGS else "Normal",
            "source": {"component": meta.COMPONENT},
            "count": 1,
            "firstTimestamp": at,
            "lastTimestamp": at,
            "reportingComponent": meta.COMPONENT,
            "reportingInstance": "",
        }
        out.append(Rendered("events", obj, region))
    return out
