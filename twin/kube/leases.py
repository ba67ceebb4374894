"""``coordination.k8s.io/v1`` Leases: stored by the API (``kube.json``), with Kubernetes'
optimistic concurrency: an update or patch carrying a resourceVersion other than the
lease's current one is refused with 409 Conflict, a create of an existing name with 409
AlreadyExists, so two holders racing for one lease cannot both win."""

from __future__ import annotations

import re
import secrets
from typing import Any

from drillbook.twin.kube import meta
from drillbook.twin.kube.errors import AlreadyExists, BadRequest, Invalid

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
API_VERSION = "coordination.k8s.io/v1"
_TIMES = ("acquireTime", "renewTime")
SPEC_FIELDS = (
    "holderIdentity",
    "leaseDurationSeconds",
    "leaseTransitions",
    "preferredHolder",
    "strategy",
    *_TIMES,
)


def unknown_fields(body: Any) -> list[str]:
    """Fields of a lease's spec no Lease has (``fieldValidation=Strict`` refuses them)."""
    spec = body.get("spec") if isinstance(body, dict) else None
    return sorted(f"spec.{k}" for k in spec if k not in SPEC_FIELDS) if isinstance(spec, dict) else []


def check_name(name: Any, what: str = "metadata.name") -> str:
    if not isinstance(name, str) or not name:
        raise Invalid(f"{what}: Required value: name or generateName is required")
    if len(name) > 253 or not _NAME.match(name):
        raise Invalid(
            f"{what}: Invalid value: {name!r}: a lowercase RFC 1123 subdomain must consist of lower "
            "case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric "
            "character"
        )
    return name


def _check_spec(spec: Any) -> dict[str, Any]:
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        raise Invalid("spec must be an object")
    duration = spec.get("leaseDurationSeconds")
    if duration is not None and (
        isinstance(duration, bool) or not isinstance(duration, int) or duration <= 0
    ):
        raise Invalid(f"spec.leaseDurationSeconds: Invalid value: {duration!r}: must be greater than 0")
    transitions = spec.get("leaseTransitions")
    if transitions is not None and (
        isinstance(transitions, bool) or not isinstance(transitions, int) or transitions < 0
    ):
        raise Invalid(
            f"spec.leaseTransitions: Invalid value: {transitions!r}: must be greater than or equal to 0"
        )
    holder = spec.get("holderIdentity")
    if holder is not None and not isinstance(holder, str):
        raise Invalid("spec.holderIdentity must be a string")
    for field in _TIMES:
        value = spec.get(field)
        if value is not None and meta.parse_time(str(value)) is None:
            raise Invalid(f"spec.{field}: Invalid value: {value!r}: not an RFC 3339 time")
    # An unknown field is dropped, as the API server decodes into its types (or refused: Strict).
    return {k: v for k, v in spec.items() if k in SPEC_FIELDS}


def created(body: Any, namespace: str, existing: set[str]) -> dict[str, Any]:
    """A new lease from a create request's body."""
    if not isinstance(body, dict):
        raise BadRequest("the body of a create must be a JSON object")
    source = body.get("metadata") or {}
    name = source.get("name")
    if not name and source.get("generateName"):
        name = f"{source['generateName']}{secrets.token_hex(3)[:5]}"
    name = check_name(name)
    if source.get("namespace") not in (None, "", namespace):
        raise BadRequest(
            f"the namespace of the object ({source['namespace']}) does not match the namespace on "
            f"the request ({namespace})"
        )
    if name in existing:
        raise AlreadyExists(
            f'leases.coordination.k8s.io "{name}" already exists',
            details={"name": name, "group": "coordination.k8s.io", "kind": "leases"},
        )
    return {
        "apiVersion": API_VERSION,
        "kind": "Lease",
        "metadata": meta.object_meta(
            name,
            uid_=meta.uid("lease", namespace, name, meta.micro_now()),
            created=meta.now(),
            namespace=namespace,
            labels=_labels(source, "labels"),
            annotations=_labels(source, "annotations"),
        ),
        "spec": _check_spec(body.get("spec")),
    }


def updated(current: dict[str, Any], body: Any) -> dict[str, Any]:
    """The lease ``body`` asks for (from an update or a patch result); identity fields stay."""
    if not isinstance(body, dict):
        raise BadRequest("the body of an update must be a JSON object")
    source = body.get("metadata") or {}
    name = current["metadata"]["name"]
    if source.get("name") not in (None, name):
        raise BadRequest(
            f"the name of the object ({source['name']}) does not match the name on the URL ({name})"
        )
    if source.get("uid") not in (None, current["metadata"]["uid"]):
        raise Invalid(f"metadata.uid: Invalid value: {source['uid']!r}: field is immutable")
    out = {**current, "spec": _check_spec(body.get("spec"))}
    out["metadata"] = {**current["metadata"]}
    for part in ("labels", "annotations"):
        out["metadata"].pop(part, None)
        value = _labels(source, part)
        if value:
            out["metadata"][part] = value
    return out


def _labels(source: dict[str, Any], part: str) -> dict[str, str] | None:
    value = source.get(part)
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise Invalid(f"metadata.{part} must map strings to strings")
    return dict(value)
