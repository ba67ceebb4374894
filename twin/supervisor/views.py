"""What the control API shows: JSON views of the controller's state (read under its lock).

Kept apart from the control loop so the loop reads as what it does, and the
shapes clients rely on (``kubectl get`` / ``describe`` / ``rollout history``) are
in one place.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from drillbook.twin.supervisor.model import Deployment, Pod

if TYPE_CHECKING:
    from drillbook.twin.supervisor.controller import Controller


def endpoints(ctl: Controller) -> dict[str, Any]:
    """Ready pods per deployment (what the front door routes to) and why the others are not."""
    out: dict[str, Any] = {}
    for deployment in ctl.state.deployments.values():
        pods = sorted(ctl.pods_of(deployment.name), key=lambda p: p.name)
        out[deployment.name] = {
            "region": deployment.region,
            "serves_traffic": deployment.serves_traffic,
            "ready": [{"name": p.name, "url": p.url(), "zone": p.zone} for p in pods
                      if p.ready and not p.terminating and p.name in ctl.processes],
            "not_ready": [{"name": p.name, "phase": p.phase, "reason": p.reason} for p in pods
                          if not (p.ready and not p.terminating)],
        }
    return {"deployments": out}


def status(ctl: Controller, name: str) -> dict[str, Any]:
    """One deployment: desired, updated, ready and available counts, rollout state, pods."""
    deployment = ctl.deployment(name)
    current = deployment.current
    pods = ctl.pods_of(name)
    live = [p for p in pods if not p.terminating]
    updated = [p for p in live if p.template_hash == current.template_hash]
    ready_updated = sum(1 for p in updated if p.ready)
    old = [p for p in live if p.template_hash != current.template_hash]
    complete = (len(updated) == deployment.replicas and ready_updated == deployment.replicas
                and not old and not any(p.terminating for p in pods))
    mark = ctl.progress.get(name)
    stalled = (not complete and mark is not None
               and time.monotonic() - mark.since > deployment.progress_deadline_s)
    return {
        "name": name, "region": deployment.region, "replicas": deployment.replicas,
        "updated": len(updated), "ready": sum(1 for p in live if p.ready), "available": ready_updated,
        "old": len(old), "zones": deployment.zones,
        "rollout": "complete" if complete else "stalled" if stalled else "progressing",
        "revision": current.revision, "version": current.version, "strategy": current.strategy,
        "env": current.env,
        "pods": [pod_status(ctl, p, deployment) for p in sorted(pods, key=lambda p: p.name)],
    }


def pod_status(ctl: Controller, pod: Pod, deployment: Deployment) -> dict[str, Any]:
    release = ctl.release_of(deployment, pod)
    view = asdict(pod)
    view["version"] = release.version if release else None
    view["revision"] = release.revision if release else pod.revision
    view["url"] = pod.url() if pod.pid else None
    view["probe_detail"] = ctl.prober.detail(pod.name)
    if pod.next_start_epoch is not None:
        view["restart_in_s"] = round(max(0.0, pod.next_start_epoch - time.time()), 3)
    return view


def history(ctl: Controller, name: str) -> list[dict[str, Any]]:
    return [asdict(r) | {"template_hash": r.template_hash} for r in ctl.deployment(name).releases]


def overview(ctl: Controller) -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "label": ctl.state.label,
        "zones": [asdict(z) for z in ctl.state.zones.values()],
        "deployments": [status(ctl, name) for name in ctl.state.deployments],
    }


def recent_events(ctl: Controller, limit: int = 100) -> list[dict[str, Any]]:
    return [asdict(e) for e in list(ctl.events)[-limit:]]
