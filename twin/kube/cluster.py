"""The twin's Kubernetes API over one supervisor: its state rendered as objects, and requests
carried out through the supervisor's own operations, under the supervisor's lock.

There is one source of truth, the supervisor's state: the API keeps no copy of a pod or a
deployment, it renders them on each request (``render``) and remembers only their
resourceVersions (``cache.py``) and what the supervisor has no notion of (``store.py``:
leases, namespaces made through the API, labels and annotations).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drillbook.twin.kube import access, changes, leases, meta, nodes, patch, pods, workloads
from drillbook.twin.kube.cache import ObjectCache
from drillbook.twin.kube.errors import (
    AlreadyExists,
    BadRequest,
    Forbidden,
    NotFound,
    conflict,
    not_emulated,
    not_found,
)
from drillbook.twin.kube.meta import Rendered
from drillbook.twin.kube.resources import BY_NAME, Resource
from drillbook.twin.kube.store import KubeStore

if TYPE_CHECKING:
    from drillbook.twin.supervisor.controller import Controller

KUBE_FILE = "kube.json"
PRIMARY = "primary"


class KubeApi:
    def __init__(self, ctl: Controller, state_dir: Path) -> None:
        self.ctl = ctl
        self.store = KubeStore.load(state_dir / KUBE_FILE)
        self.cache = ObjectCache(floor=self.store.resource_version + 1)
        self.cache.prime([Rendered("leases", copy.deepcopy(obj)) for obj in self.store.leases.values()])

    @property
    def namespace(self) -> str:
        return self.ctl.state.namespace

    def namespaces(self) -> list[str]:
        return list(dict.fromkeys([*nodes.SYSTEM_NAMESPACES, self.namespace, *self.store.namespaces]))

    # -- rendering --------------------------------------------------------------------------------

    def render(self, resource: str) -> list[Rendered]:
        """Every object of ``resource`` as it is now (the caller holds the supervisor's lock)."""
        ctl, store = self.ctl, self.store
        deployments = ctl.state.deployments
        if resource == "pods":
            return [
                pods.pod(ctl, deployments[p.deployment], p, store.overlay("pods", self.namespace, p.name))
                for p in sorted(ctl.state.pods.values(), key=lambda p: p.name)
                if p.deployment in deployments
            ]
        if resource == "deployments":
            return [
                workloads.deployment(ctl, d, store.overlay("deployments", self.namespace, d.name))
                for d in deployments.values()
            ]
        if resource == "replicasets":
            return [rs for d in deployments.values() for rs in workloads.replicasets(ctl, d)]
        if resource == "nodes":
            return [
                nodes.node(ctl, zone, store.overlay("nodes", None, meta.node_name(zone)))
                for zone in ctl.state.zones
            ]
        if resource == "namespaces":
            return [
                nodes.namespace(
                    ctl, name, store.namespaces.get(name), store.overlay("namespaces", None, name)
                )
                for name in self.namespaces()
            ]
        if resource == "events":
            return nodes.events(ctl)
        if resource == "leases":
            return [Rendered("leases", copy.deepcopy(obj)) for obj in store.leases.values()]
        return []

    def observed(self, resource: str, region: str = PRIMARY) -> tuple[list[Rendered], int]:
        """The objects of ``resource`` the cluster view of ``region`` shows, with their versions."""
        with self.ctl.lock:
            rendered = self.render(resource)
            version = self.cache.observe(resource, rendered)
        return [r for r in rendered if r.region in (None, region)], version

    def get(self, res: Resource, namespace: str | None, name: str, region: str = PRIMARY) -> dict[str, Any]:
        found, _ = self.observed(res.name, region)
        for r in found:
            if r.name == name and (r.namespace == namespace or not res.namespaced):
                return r.obj
        raise not_found(res.name, res.group, name)

    # -- changes ------------------------------------------------------------------------------------

    def update(
        self,
        res: Resource,
        namespace: str | None,
        name: str,
        body: Any,
        region: str = PRIMARY,
        *,
        content_type: str | None = None,
    ) -> dict[str, Any]:
        """A PUT (``content_type`` None: ``body`` is the whole object) or a PATCH of ``body``."""
        with self.ctl.lock:
            current = self.get(res, namespace, name, region)
            if content_type is None:
                if not isinstance(body, dict):
                    raise BadRequest("the body of an update must be a JSON object")
                new, whole = body, False
            else:
                new, whole = patch.apply(current, body, content_type), True
            asked = (new.get("metadata") or {}).get("resourceVersion")
            if asked not in (None, "", current["metadata"]["resourceVersion"]):
                raise conflict(res.name, res.group, name)
            self._change(res, namespace, name, current, new, whole=whole)
            self._saved()
            return self.get(res, namespace, name, region)

    def _change(
        self,
        res: Resource,
        namespace: str | None,
        name: str,
        current: dict[str, Any],
        new: dict[str, Any],
        *,
        whole: bool,
    ) -> None:
        if res.name == "deployments":
            changes.deployment(self.ctl, self.store, name, current, new, whole=whole)
        elif res.name == "nodes":
            changes.node(self.ctl, self.store, str(meta.zone_of_node(name)), current, new, whole=whole)
        elif res.name in ("pods", "namespaces"):
            changes.labels_only(self.store, res.name, namespace, name, current, new, whole=whole)
        elif res.name == "leases":
            self.store.put_lease(leases.updated(current, new))
        else:
            raise not_emulated(f"changing {res.qualified}")

    def scale(
        self,
        namespace: str | None,
        name: str,
        body: Any = None,
        region: str = PRIMARY,
        *,
        content_type: str | None = None,
    ) -> dict[str, Any]:
        """``deployments/<name>/scale``: read it (``body`` None), replace it or patch it."""
        res = BY_NAME["apps", "deployments"]
        with self.ctl.lock:
            current = workloads.scale(
                self.ctl, self.ctl.deployment(name), self.get(res, namespace, name, region)
            )
            if body is not None:
                new = body if content_type is None else patch.apply(current, body, content_type)
                asked = (new.get("metadata") or {}).get("resourceVersion") if isinstance(new, dict) else None
                if asked not in (None, "", current["metadata"]["resourceVersion"]):
                    raise conflict(res.name, res.group, name)
                replicas = (new.get("spec") or {}).get("replicas") if isinstance(new, dict) else None
                if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
                    raise BadRequest(f"spec.replicas must be a whole number >= 0, not {replicas!r}")
                self.ctl.scale(name, replicas)
                self._saved()
                current = workloads.scale(
                    self.ctl, self.ctl.deployment(name), self.get(res, namespace, name, region)
                )
            return current

    def create(
        self, res: Resource, namespace: str | None, body: Any, region: str = PRIMARY
    ) -> dict[str, Any]:
        if res.name == "selfsubjectaccessreviews":
            return access.review(body)
        with self.ctl.lock:
            if res.name == "leases":
                assert namespace is not None
                if namespace not in self.namespaces():
                    raise not_found("namespaces", "", namespace)
                lease = leases.created(
                    body, namespace, {r.name for r in self.observed("leases")[0] if r.namespace == namespace}
                )
                self.store.put_lease(lease)
                self._saved()
                return self.get(res, namespace, lease["metadata"]["name"], region)
            if res.name == "namespaces":
                name = leases.check_name(
                    (body.get("metadata") or {}).get("name") if isinstance(body, dict) else None
                )
                if name in self.namespaces():
                    raise AlreadyExists(
                        f'namespaces "{name}" already exists', details={"name": name, "kind": "namespaces"}
                    )
                self.store.namespaces[name] = {
                    "metadata": {
                        "uid": meta.uid("namespace", name, meta.micro_now()),
                        "creationTimestamp": meta.now(),
                    }
                }
                given = body.get("metadata") or {}
                self.store.set_overlay(
                    "namespaces",
                    None,
                    name,
                    labels=dict(given.get("labels") or {}),
                    annotations=dict(given.get("annotations") or {}),
                )
                self._saved()
                return self.get(res, None, name, region)
        raise not_emulated(
            f"creating {res.qualified} (the twin runs only the pods of its deployments)"
            if res.name == "pods"
            else f"creating {res.qualified}"
        )

    def delete(
        self, res: Resource, namespace: str | None, name: str, options: dict[str, Any], region: str = PRIMARY
    ) -> dict[str, Any]:
        with self.ctl.lock:
            current = self.get(res, namespace, name, region)
            preconditions = options.get("preconditions") or {}
            if preconditions.get("uid") not in (None, current["metadata"]["uid"]) or preconditions.get(
                "resourceVersion"
            ) not in (None, current["metadata"]["resourceVersion"]):
                raise conflict(res.name, res.group, name)
            if res.name == "pods":
                self.ctl.delete_pod(name, _grace(options))
            elif res.name == "leases":
                assert namespace is not None
                self.store.delete_lease(namespace, name)
            elif res.name == "namespaces":
                if name not in self.store.namespaces:
                    raise Forbidden(
                        f'namespaces "{name}" is forbidden: drillbook\'s twin keeps its own '
                        "namespaces (only one created through the API may be deleted)"
                    )
                del self.store.namespaces[name]
                for lease in [k for k, v in self.store.leases.items() if v["metadata"]["namespace"] == name]:
                    del self.store.leases[lease]
            else:
                raise not_emulated(f"deleting {res.qualified}")
            self._saved()
            try:
                return self.get(res, namespace, name, region)
            except NotFound:
                return current

    def evict(self, namespace: str | None, name: str, body: Any, region: str = PRIMARY) -> None:
        """``pods/<name>/eviction``: the pod is terminated as a deletion would (no disruption budgets)."""
        with self.ctl.lock:
            self.get(BY_NAME["", "pods"], namespace, name, region)
            options = (body.get("deleteOptions") or {}) if isinstance(body, dict) else {}
            self.ctl.delete_pod(name, _grace(options), evicted=True)

    def _saved(self) -> None:
        """After a change: leases carry their new versions; what only the API keeps is saved."""
        found, version = self.observed("leases")
        for r in found:
            self.store.put_lease(r.obj)
        self.store.forget("pods", {(self.namespace, name) for name in self.ctl.state.pods})
        self.store.save(version)


def _grace(options: dict[str, Any]) -> float | None:
    value = options.get("gracePeriodSeconds")
    if value is None or value == "":
        return None
    try:
        grace = float(value)
    except (TypeError, ValueError):
        raise BadRequest(f"gracePeriodSeconds must be a number of seconds, not {value!r}") from None
    if grace < 0:
        raise BadRequest(f"gracePeriodSeconds must be 0 or more, not {value!r}")
    return grace
