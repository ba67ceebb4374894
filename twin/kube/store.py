"""What only the Kubernetes API knows, kept beside the supervisor's state in ``kube.json``:
leases, the namespaces created through the API, and the labels and annotations set on nodes,
deployments and pods (``kubectl label``, ``annotate``, a fault's own bookkeeping).

Written atomically after every change, so a supervisor started again (it adopts the running
pods) serves the same leases with the same resourceVersions.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drillbook.twin.supervisor.store import write_atomic

SCHEMA_VERSION = 1


def _key(*parts: str | None) -> str:
    return "/".join(p or "" for p in parts)


@dataclass
class KubeStore:
    path: Path
    leases: dict[str, dict[str, Any]] = field(default_factory=dict)
    namespaces: dict[str, dict[str, Any]] = field(default_factory=dict)
    overlays: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    resource_version: int = 0
    _saved: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, path: Path) -> KubeStore:
        try:
            data = json.loads(path.read_text())
        except (FileNotFoundError, ValueError):
            data = {}
        if not isinstance(data, dict):
            data = {}
        return cls(
            path,
            dict(data.get("leases") or {}),
            dict(data.get("namespaces") or {}),
            dict(data.get("overlays") or {}),
            int(data.get("resource_version") or 0),
        )

    def save(self, resource_version: int) -> None:
        """Write it if anything but the version changed (the version only keeps later ones above it:
        the clock does that too, and a saved lease carries its own)."""
        content = {"leases": self.leases, "namespaces": self.namespaces, "overlays": self.overlays}
        if content == self._saved:
            return
        self.resource_version = max(self.resource_version, resource_version)
        document = {"schema_version": SCHEMA_VERSION, "resource_version": self.resource_version, **content}
        write_atomic(self.path, json.dumps(document, indent=1, sort_keys=True))
        self._saved = copy.deepcopy(content)

    # -- labels and annotations of objects the supervisor renders ------------------------------

    def overlay(self, resource: str, namespace: str | None, name: str) -> dict[str, dict[str, str]]:
        return self.overlays.get(_key(resource, namespace, name), {})

    def set_overlay(
        self,
        resource: str,
        namespace: str | None,
        name: str,
        *,
        labels: dict[str, str],
        annotations: dict[str, str],
    ) -> None:
        key = _key(resource, namespace, name)
        if labels or annotations:
            self.overlays[key] = {"labels": dict(labels), "annotations": dict(annotations)}
        else:
            self.overlays.pop(key, None)

    def forget(self, resource: str, keep: set[tuple[str | None, str]]) -> None:
        """Drop the overlays of ``resource`` objects that no longer exist (deleted pods)."""
        prefix = f"{resource}/"
        for key in [k for k in self.overlays if k.startswith(prefix)]:
            _, namespace, name = key.split("/", 2)
            if (namespace or None, name) not in keep:
                del self.overlays[key]

    # -- leases ---------------------------------------------------------------------------------

    def lease(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.leases.get(_key(namespace, name))

    def put_lease(self, obj: dict[str, Any]) -> None:
        self.leases[_key(obj["metadata"]["namespace"], obj["metadata"]["name"])] = obj

    def delete_lease(self, namespace: str, name: str) -> None:
        self.leases.pop(_key(namespace, name), None)
