"""What every object of the twin's Kubernetes API shares: identifiers, times, names.

UIDs are derived (uuid5) from what identifies an object in the supervisor's state, so an
object keeps its UID across supervisor restarts and a replacement pod gets a new one.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

_UIDS = uuid.UUID("6f1c2b8e-4d0a-5e7b-9c3f-0d2a1b4c6e8f")

ZONE_LABEL = "topology.kubernetes.io/zone"
REGION_LABEL = "topology.kubernetes.io/region"
HOSTNAME_LABEL = "kubernetes.io/hostname"
HASH_LABEL = "pod-template-hash"
APP_LABEL = "app"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
CHANGE_CAUSE = "kubernetes.io/change-cause"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
NODE_PREFIX = "node-"
#: The twin's own name in versions, node info and events.
COMPONENT = "drillbook-twin"


@dataclass
class Rendered:
    """An object as the API shows it, and the region whose cluster view shows it (None: every view)."""

    resource: str
    obj: dict[str, Any]
    region: str | None = None

    @property
    def namespace(self) -> str | None:
        value = self.obj["metadata"].get("namespace")
        return str(value) if value else None

    @property
    def name(self) -> str:
        return str(self.obj["metadata"]["name"])


def uid(*parts: str) -> str:
    return str(uuid.uuid5(_UIDS, "/".join(parts)))


def pod_uid(label: str, name: str, created_at: str) -> str:
    """A pod's: a replacement (new name, new creation time) has another one."""
    return uid(label, "pod", name, created_at)


def node_uid(label: str, zone: str) -> str:
    return uid(label, "node", zone)


def parse_time(stamp: str | None) -> datetime | None:
    if not stamp:
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None


def k8s_time(stamp: str | None) -> str | None:
    """An ISO time of the supervisor (milliseconds) as Kubernetes writes one (seconds, Z)."""
    parsed = parse_time(stamp)
    return None if parsed is None else parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def micro_now() -> str:
    """A MicroTime (leases' acquire and renew times)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def age_seconds(stamp: str | None) -> float | None:
    parsed = parse_time(stamp)
    return None if parsed is None else (datetime.now(UTC) - parsed).total_seconds()


def human_duration(seconds: float | None) -> str:
    """Kubernetes' ``duration.HumanDuration`` (what the AGE column shows)."""
    if seconds is None:
        return "<unknown>"
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    years, days = hours // 24 // 365, (hours // 24) % 365
    if hours < 24 * 365 * 8:
        return f"{years}y{days}d" if days else f"{years}y"
    return f"{years}y"


def node_name(zone: str) -> str:
    """One node per zone: a cordoned node is a cordoned zone."""
    return f"{NODE_PREFIX}{zone}"


def zone_of_node(name: str) -> str | None:
    return name[len(NODE_PREFIX) :] if name.startswith(NODE_PREFIX) else None


def object_meta(
    name: str,
    *,
    uid_: str,
    created: str | None,
    namespace: str | None = None,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta["uid"] = uid_
    meta["creationTimestamp"] = created
    if labels:
        meta["labels"] = labels
    if annotations:
        meta["annotations"] = annotations
    meta.update({k: v for k, v in extra.items() if v is not None})
    return meta
