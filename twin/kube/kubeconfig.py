"""The kubeconfig ``drillbook env up`` writes, so that ``kubectl`` and the official client reach
the twin's Kubernetes API unchanged (``KUBECONFIG=<state dir>/kubeconfig``).

Contexts: ``drillbook-local`` (the primary region's cluster, namespace ``production``, the
current context) and, when the DR region runs, ``drillbook-local-dr``. Plain HTTP on
loopback and no credentials: the twin has no users (as the supervisor's own API).
"""

from __future__ import annotations

import json
from pathlib import Path

from drillbook.twin.supervisor.store import write_atomic

CONTEXT = "drillbook-local"
DR_CONTEXT = f"{CONTEXT}-dr"


def kubeconfig(url: str, namespace: str, *, dr: bool = False) -> dict[str, object]:
    clusters = [(CONTEXT, url)] + ([(DR_CONTEXT, f"{url}/clusters/dr")] if dr else [])
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": name, "cluster": {"server": server}} for name, server in clusters],
        "users": [{"name": "drillbook", "user": {}}],
        "contexts": [
            {"name": name, "context": {"cluster": name, "user": "drillbook", "namespace": namespace}}
            for name, _ in clusters
        ],
        "current-context": CONTEXT,
    }


def write_kubeconfig(path: Path, url: str, namespace: str, *, dr: bool = False) -> Path:
    """Write it (JSON, which is YAML too); readable by this user only, as kubectl writes one."""
    write_atomic(path, json.dumps(kubeconfig(url, namespace, dr=dr), indent=2) + "\n")
    return path
