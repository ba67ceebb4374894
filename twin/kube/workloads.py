"""Deployments and their ReplicaSets as the API shows them, from the supervisor's state.

A supervisor deployment is an ``apps/v1`` Deployment; each of its releases (revisions) is a
ReplicaSet named ``<deployment>-<template hash>``, annotated with its revision number and
owned by the deployment, so ``kubectl rollout history`` and ``rollout undo`` work as on a
cluster. The pod template holds what a release is: the image (``compliant-api:<version>``),
the environment, and the ``kubectl.kubernetes.io/restartedAt`` annotation of a restart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drillbook.twin.kube import meta
from drillbook.twin.kube.meta import Rendered, object_meta
from drillbook.twin.supervisor import views
from drillbook.twin.supervisor.model import Deployment, Pod, Release

if TYPE_CHECKING:
    from drillbook.twin.supervisor.controller import Controller

APPS = "apps/v1"


def repository(deployment: Deployment) -> str:
    return f"compliant-{deployment.name.removesuffix('-dr')}"


def image_of(deployment: Deployment, version: str) -> str:
    """A version of the supervisor's images as an image reference; a reference that is not one
    of ours is kept as it was given (it names no known image: ImagePullBackOff)."""
    return version if "/" in version or ":" in version else f"{repository(deployment)}:{version}"


def version_of(deployment: Deployment, image: str) -> str:
    prefix = f"{repository(deployment)}:"
    return image[len(prefix) :] if image.startswith(prefix) else image


def hash_of(release: Release) -> str:
    return release.template_hash[:8]


def replicaset_name(deployment: Deployment, template_hash: str) -> str:
    return f"{deployment.name}-{template_hash[:8]}"


def deployment_uid(ctl: Controller, deployment: Deployment) -> str:
    return meta.uid(ctl.state.label, "deployment", deployment.name)


def replicaset_uid(ctl: Controller, deployment: Deployment, template_hash: str) -> str:
    return meta.uid(ctl.state.label, "replicaset", deployment.name, template_hash[:8])


def selector(deployment: Deployment) -> dict[str, str]:
    return {meta.APP_LABEL: deployment.name}


def template(
    ctl: Controller, deployment: Deployment, release: Release, *, hashed: bool = False
) -> dict[str, Any]:
    labels = selector(deployment) | ({meta.HASH_LABEL: hash_of(release)} if hashed else {})
    template_meta: dict[str, Any] = {"labels": labels}
    if release.restarted_at:
        template_meta["annotations"] = {meta.RESTARTED_AT: release.restarted_at}
    container = {
        "name": deployment.name,
        "image": image_of(deployment, release.version),
        "env": [{"name": k, "value": v} for k, v in release.env.items()],
        "imagePullPolicy": "IfNotPresent",
    }
    return {
        "metadata": template_meta,
        "spec": {
            "containers": [container],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": int(ctl.state.probes.termination_grace_s),
        },
    }


def _owner(kind: str, name: str, uid: str, api_version: str = APPS) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": name,
        "uid": uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def deployment(ctl: Controller, d: Deployment, overlay: dict[str, Any]) -> Rendered:
    status = views.status(ctl, d.name)
    current = d.current
    rs_name = replicaset_name(d, current.template_hash)
    complete, stalled = status["rollout"] == "complete", status["rollout"] == "stalled"
    live = len([p for p in ctl.pods_of(d.name) if not p.terminating])
    minimum = max(0, d.replicas - d.max_unavailable)
    changed = meta.k8s_time(current.created_at)
    progressing = (
        ("False", "ProgressDeadlineExceeded", f'ReplicaSet "{rs_name}" has timed out progressing.')
        if stalled
        else ("True", "NewReplicaSetAvailable", f'ReplicaSet "{rs_name}" has successfully progressed.')
        if complete
        else ("True", "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.')
    )
    available = status["ready"] >= minimum
    annotations = {**overlay.get("annotations", {}), meta.REVISION: str(current.revision)}
    obj: dict[str, Any] = {
        "apiVersion": APPS,
        "kind": "Deployment",
        "metadata": object_meta(
            d.name,
            uid_=deployment_uid(ctl, d),
            created=meta.k8s_time(ctl.state.created_at),
            namespace=ctl.state.namespace,
            labels={**selector(d), **overlay.get("labels", {})},
            annotations=annotations,
            generation=d.generation,
        ),
        "spec": {
            "replicas": d.replicas,
            "selector": {"matchLabels": selector(d)},
            "template": template(ctl, d, current),
            "strategy": {"type": current.strategy}
            | (
                {"rollingUpdate": {"maxSurge": d.max_surge, "maxUnavailable": d.max_unavailable}}
                if current.strategy == "RollingUpdate"
                else {}
            ),
            "revisionHistoryLimit": d.revision_history_limit,
            "progressDeadlineSeconds": int(d.progress_deadline_s),
        },
        "status": {
            # The generation the supervisor's control loop has acted on (its next pass, at once).
            "observedGeneration": d.observed_generation,
            "replicas": live,
            "updatedReplicas": status["updated"],
            "readyReplicas": status["ready"],
            # Ready pods of every revision, as Kubernetes counts them (old ones serve during a rollout).
            "availableReplicas": status["ready"],
            "unavailableReplicas": max(0, d.replicas - status["ready"]),
            "conditions": [
                {
                    "type": "Available",
                    "status": "True" if available else "False",
                    "reason": "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
                    "message": "Deployment has minimum availability."
                    if available
                    else "Deployment does not have minimum availability.",
                    "lastUpdateTime": changed,
                    "lastTransitionTime": changed,
                },
                {
                    "type": "Progressing",
                    "status": progressing[0],
                    "reason": progressing[1],
                    "message": progressing[2],
                    "lastUpdateTime": changed,
                    "lastTransitionTime": changed,
                },
            ],
        },
    }
    return Rendered("deployments", obj, d.region)


def replicasets(ctl: Controller, d: Deployment) -> list[Rendered]:
    out = []
    pods = [p for p in ctl.pods_of(d.name) if not p.terminating]
    for release in d.releases:
        mine = [p for p in pods if p.template_hash == release.template_hash]
        current = release is d.current
        ready = sum(1 for p in mine if p.ready)
        annotations = {
            meta.REVISION: str(release.revision),
            meta.DESIRED_REPLICAS: str(d.replicas),
            meta.MAX_REPLICAS: str(d.replicas + d.max_surge),
        }
        if release.cause:
            annotations[meta.CHANGE_CAUSE] = release.cause
        if release.earlier:
            annotations[meta.REVISION_HISTORY] = ",".join(str(n) for n in release.earlier)
        labels = selector(d) | {meta.HASH_LABEL: hash_of(release)}
        obj: dict[str, Any] = {
            "apiVersion": APPS,
            "kind": "ReplicaSet",
            "metadata": object_meta(
                replicaset_name(d, release.template_hash),
                uid_=replicaset_uid(ctl, d, release.template_hash),
                created=meta.k8s_time(release.created_at),
                namespace=ctl.state.namespace,
                labels=labels,
                annotations=annotations,
                generation=1,
                ownerReferences=[_owner("Deployment", d.name, deployment_uid(ctl, d))],
            ),
            "spec": {
                "replicas": d.replicas if current else len(mine),
                "selector": {"matchLabels": labels},
                "template": template(ctl, d, release, hashed=True),
            },
            "status": {
                "replicas": len(mine),
                "fullyLabeledReplicas": len(mine),
                "readyReplicas": ready,
                "availableReplicas": ready,
                "observedGeneration": 1,
            },
        }
        out.append(Rendered("replicasets", obj, d.region))
    return out


def pod_owner(ctl: Controller, d: Deployment, pod: Pod) -> dict[str, Any]:
    return _owner(
        "ReplicaSet", replicaset_name(d, pod.template_hash), replicaset_uid(ctl, d, pod.template_hash)
    )


def scale(ctl: Controller, d: Deployment, rendered: dict[str, Any]) -> dict[str, Any]:
    """The ``deployments/scale`` subresource (``autoscaling/v1`` Scale)."""
    source = rendered["metadata"]
    return {
        "apiVersion": "autoscaling/v1",
        "kind": "Scale",
        "metadata": {
            k: source[k]
            for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if k in source
        },
        "spec": {"replicas": d.replicas},
        "status": {
            "replicas": rendered["status"]["replicas"],
            "selector": ",".join(f"{k}={v}" for k, v in selector(d).items()),
        },
    }
