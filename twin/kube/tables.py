"""Server-side printing: ``kubectl get`` asks for a ``meta.k8s.io/v1`` Table (``Accept:
application/json;as=Table;v=v1;g=meta.k8s.io``) and prints its columns; ``-o wide`` adds the
columns of priority 1 (a pod's IP and NODE, a node's INTERNAL-IP...). The columns are those a
real API server sends for each kind. Every row carries the object's metadata, from which
``kubectl`` adds label columns (``-L topology.kubernetes.io/zone``) and sorts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drillbook.twin.kube.meta import age_seconds, human_duration
from drillbook.twin.kube.pods import display_status

Column = tuple[str, str, int]  # name, type, priority
Row = Callable[[dict[str, Any]], list[Any]]


def _age(obj: dict[str, Any]) -> str:
    return human_duration(age_seconds(obj["metadata"].get("creationTimestamp")))


def _pod(obj: dict[str, Any]) -> list[Any]:
    statuses = obj["status"].get("containerStatuses") or []
    ready = sum(1 for s in statuses if s.get("ready"))
    total = len(obj["spec"].get("containers") or [])
    restarts = sum(int(s.get("restartCount") or 0) for s in statuses)
    return [
        obj["metadata"]["name"],
        f"{ready}/{total}",
        display_status(obj),
        restarts,
        _age(obj),
        obj["status"].get("podIP") or "<none>",
        obj["spec"].get("nodeName") or "<none>",
        "<none>",
        "<none>",
    ]


def _node(obj: dict[str, Any]) -> list[Any]:
    ready = any(c["type"] == "Ready" and c["status"] == "True" for c in obj["status"]["conditions"])
    status = "Ready" if ready else "NotReady"
    if obj["spec"].get("unschedulable"):
        status += ",SchedulingDisabled"
    info = obj["status"]["nodeInfo"]
    internal = next((a["address"] for a in obj["status"]["addresses"] if a["type"] == "InternalIP"), "<none>")
    return [
        obj["metadata"]["name"],
        status,
        "<none>",
        _age(obj),
        info["kubeletVersion"],
        internal,
        "<none>",
        info["osImage"],
        info["kernelVersion"],
        info["containerRuntimeVersion"],
    ]


def _containers(obj: dict[str, Any]) -> tuple[str, str]:
    containers = obj["spec"]["template"]["spec"]["containers"]
    return ",".join(c["name"] for c in containers), ",".join(c["image"] for c in containers)


def _selector(obj: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in obj["spec"]["selector"]["matchLabels"].items())


def _deployment(obj: dict[str, Any]) -> list[Any]:
    status = obj["status"]
    names, images = _containers(obj)
    return [
        obj["metadata"]["name"],
        f"{status.get('readyReplicas', 0)}/{obj['spec']['replicas']}",
        status.get("updatedReplicas", 0),
        status.get("availableReplicas", 0),
        _age(obj),
        names,
        images,
        _selector(obj),
    ]


def _replicaset(obj: dict[str, Any]) -> list[Any]:
    status = obj["status"]
    names, images = _containers(obj)
    return [
        obj["metadata"]["name"],
        obj["spec"]["replicas"],
        status.get("replicas", 0),
        status.get("readyReplicas", 0),
        _age(obj),
        names,
        images,
        _selector(obj),
    ]


def _event(obj: dict[str, Any]) -> list[Any]:
    involved = obj["involvedObject"]
    return [
        human_duration(age_seconds(obj.get("lastTimestamp"))),
        obj["type"],
        obj["reason"],
        f"{involved['kind'].lower()}/{involved['name']}",
        obj["message"],
    ]


TABLES: dict[str, tuple[tuple[Column, ...], Row]] = {
    "pods": (
        (
            ("Name", "string", 0),
            ("Ready", "string", 0),
            ("Status", "string", 0),
            ("Restarts", "integer", 0),
            ("Age", "string", 0),
            ("IP", "string", 1),
            ("Node", "string", 1),
            ("Nominated Node", "string", 1),
            ("Readiness Gates", "string", 1),
        ),
        _pod,
    ),
    "nodes": (
        (
            ("Name", "string", 0),
            ("Status", "string", 0),
            ("Roles", "string", 0),
            ("Age", "string", 0),
            ("Version", "string", 0),
            ("Internal-IP", "string", 1),
            ("External-IP", "string", 1),
            ("OS-Image", "string", 1),
            ("Kernel-Version", "string", 1),
            ("Container-Runtime", "string", 1),
        ),
        _node,
    ),
    "namespaces": (
        (("Name", "string", 0), ("Status", "string", 0), ("Age", "string", 0)),
        lambda o: [o["metadata"]["name"], o["status"]["phase"], _age(o)],
    ),
    "deployments": (
        (
            ("Name", "string", 0),
            ("Ready", "string", 0),
            ("Up-to-date", "integer", 0),
            ("Available", "integer", 0),
            ("Age", "string", 0),
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ),
        _deployment,
    ),
    "replicasets": (
        (
            ("Name", "string", 0),
            ("Desired", "integer", 0),
            ("Current", "integer", 0),
            ("Ready", "integer", 0),
            ("Age", "string", 0),
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ),
        _replicaset,
    ),
    "leases": (
        (("Name", "string", 0), ("Holder", "string", 0), ("Age", "string", 0)),
        lambda o: [o["metadata"]["name"], (o.get("spec") or {}).get("holderIdentity") or "", _age(o)],
    ),
    "events": (
        (
            ("Last Seen", "string", 0),
            ("Type", "string", 0),
            ("Reason", "string", 0),
            ("Object", "string", 0),
            ("Message", "string", 0),
        ),
        _event,
    ),
}
_DEFAULT: tuple[tuple[Column, ...], Row] = (
    (("Name", "string", 0), ("Created At", "date", 0)),
    lambda o: [o["metadata"]["name"], o["metadata"].get("creationTimestamp")],
)


def wants_table(accept: str) -> bool:
    """Does the first acceptable type the client names ask for a Table?"""
    first = accept.split(",", 1)[0]
    return "as=Table" in first.replace(" ", "") and "g=meta.k8s.io" in first


def table(resource: str, objects: list[dict[str, Any]], resource_version: str) -> dict[str, Any]:
    columns, row = TABLES.get(resource, _DEFAULT)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": [
            {
                "name": name,
                "type": kind,
                "format": "name" if name == "Name" else "",
                "description": "",
                "priority": priority,
            }
            for name, kind, priority in columns
        ],
        "rows": [
            {
                "cells": row(obj),
                "object": {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": obj["metadata"],
                },
            }
            for obj in objects
        ],
    }
