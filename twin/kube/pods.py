"""Pods as the API shows them: each one a supervisor pod, a real process on a node of its zone.

The supervisor's pod phases map onto Kubernetes' pod status: a running process is phase
``Running`` (ready when its readiness probe passes), a process that exited once shows its
container ``terminated`` (``Error``), one exiting again and again ``waiting``
(``CrashLoopBackOff``), an unknown version ``waiting`` (``ImagePullBackOff``, phase
``Pending``), a pod no zone can take ``Pending`` (``Unschedulable``), and a pod asked to stop
carries a ``deletionTimestamp`` until its process is gone.
"""

from __future__ import annotations

import re
import signal
from typing import TYPE_CHECKING, Any

from drillbook.twin.kube import meta, workloads
from drillbook.twin.kube.meta import Rendered, object_meta
from drillbook.twin.supervisor.model import CRASH_LOOP, ERROR, IMAGE_PULL, PENDING, Deployment, Pod

if TYPE_CHECKING:
    from drillbook.twin.supervisor.controller import Controller

_EXIT = re.compile(r"exit code (-?\d+)")
_SIGNAL = re.compile(r"killed by (SIG\w+)")


def exit_code(last_exit: str) -> int:
    """``exit code 78`` -> 78; ``killed by SIGKILL`` -> 137 (128 + signal, as a container runtime says)."""
    found = _EXIT.search(last_exit)
    if found:
        return int(found.group(1))
    killed = _SIGNAL.search(last_exit)
    if killed and killed.group(1) in signal.Signals.__members__:
        return 128 + int(signal.Signals[killed.group(1)])
    return 1 if last_exit else 0


def _container_status(pod: Pod, image: str, name: str) -> dict[str, Any]:
    state: dict[str, Any]
    if pod.pid is not None:
        state = {"running": {"startedAt": meta.k8s_time(pod.started_at)}}
    elif pod.phase == IMAGE_PULL:
        state = {"waiting": {"reason": "ImagePullBackOff", "message": pod.reason}}
    elif pod.phase == CRASH_LOOP:
        state = {"waiting": {"reason": "CrashLoopBackOff", "message": pod.reason}}
    elif pod.phase == ERROR:
        state = {
            "terminated": {"reason": "Error", "exitCode": exit_code(pod.last_exit), "message": pod.reason}
        }
    else:
        state = {"waiting": {"reason": "ContainerCreating"}}
    status: dict[str, Any] = {
        "name": name,
        "image": image,
        "imageID": "",
        "ready": bool(pod.ready and not pod.terminating),
        "restartCount": pod.restarts,
        "started": pod.pid is not None,
        "state": state,
    }
    if pod.last_exit and pod.restarts:
        status["lastState"] = {
            "terminated": {"reason": "Error", "exitCode": exit_code(pod.last_exit), "message": pod.last_exit}
        }
    else:
        status["lastState"] = {}
    if pod.pid is not None:
        status["containerID"] = f"drillbook://{pod.pid}"
    return status


def pod(ctl: Controller, d: Deployment, p: Pod, overlay: dict[str, Any]) -> Rendered:
    release = ctl.release_of(d, p)
    spec_template = workloads.template(ctl, d, release or d.current)
    container = spec_template["spec"]["containers"][0]
    if p.port:
        container["ports"] = [{"containerPort": p.port, "protocol": "TCP"}]
    ready = bool(p.ready and not p.terminating)
    scheduled = p.zone is not None
    changed = meta.k8s_time(p.started_at or p.created_at)
    conditions = [
        {
            "type": "PodScheduled",
            "status": "True" if scheduled else "False",
            "lastTransitionTime": meta.k8s_time(p.created_at),
        }
    ]
    if not scheduled:
        conditions[0].update(reason="Unschedulable", message=p.reason)
    else:
        conditions += [
            {"type": t, "status": "True" if ready else "False", "lastTransitionTime": changed}
            for t in ("Initialized", "Ready", "ContainersReady")
        ]
        conditions[1]["status"] = "True"
    labels = {
        **spec_template["metadata"]["labels"],
        meta.HASH_LABEL: p.template_hash[:8],
        **({meta.ZONE_LABEL: p.zone} if p.zone else {}),
        **overlay.get("labels", {}),
    }
    annotations = {**spec_template["metadata"].get("annotations", {}), **overlay.get("annotations", {})}
    extra: dict[str, Any] = {"ownerReferences": [workloads.pod_owner(ctl, d, p)]}
    if p.terminating:
        extra["deletionTimestamp"] = meta.k8s_time(p.deleted_at) or meta.k8s_time(p.created_at)
        extra["deletionGracePeriodSeconds"] = int(ctl.state.probes.termination_grace_s)
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": object_meta(
            p.name,
            uid_=meta.pod_uid(ctl.state.label, p.name, p.created_at),
            created=meta.k8s_time(p.created_at),
            namespace=ctl.state.namespace,
            labels=labels,
            annotations=annotations,
            generateName=f"{workloads.replicaset_name(d, p.template_hash)}-",
            **extra,
        ),
        "spec": {
            **spec_template["spec"],
            "nodeName": meta.node_name(p.zone) if p.zone else None,
            "schedulerName": "default-scheduler",
        },
        "status": {
            "phase": _phase(p),
            "conditions": conditions,
            "hostIP": "127.0.0.1" if scheduled else None,
            "podIP": "127.0.0.1" if p.pid is not None else None,
            "startTime": meta.k8s_time(p.started_at) if scheduled else None,
            "containerStatuses": [_container_status(p, container["image"], container["name"])]
            if scheduled
            else [],
            "qosClass": "BestEffort",
        },
    }
    if not scheduled:
        del obj["spec"]["nodeName"]
    obj["status"] = {k: v for k, v in obj["status"].items() if v is not None}
    return Rendered("pods", obj, d.region)


def _phase(p: Pod) -> str:
    if p.zone is None or (p.phase in (PENDING, IMAGE_PULL) and p.pid is None and not p.restarts):
        return "Pending"
    return "Running"


def display_status(obj: dict[str, Any]) -> str:
    """The STATUS column of ``kubectl get pods``."""
    if obj["metadata"].get("deletionTimestamp"):
        return "Terminating"
    for status in obj["status"].get("containerStatuses") or []:
        state = status.get("state") or {}
        for key in ("waiting", "terminated"):
            reason = (state.get(key) or {}).get("reason")
            if reason:
                return str(reason)
    return str(obj["status"].get("phase", "Unknown"))
