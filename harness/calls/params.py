"""The identifying parameters of a call: which instance, snapshot, zone, secret, bucket,
namespace or object it was about. Chosen by name (an allow-list), never a body or a value:
``SecretString``, ``MasterUserPassword``, a token or a request body never get here, and
what does is passed through drillbook's redaction (known secret values are masked)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from drillbook.harness.redact import redact_text

#: Parameter names that identify what a call acts on, beyond any ``...Identifier``/``...Id``.
_NAMED = frozenset({
    "Bucket", "Key", "Prefix", "VersionStage", "SkipFinalSnapshot", "ForceFailover", "RestoreTime",
    "UseLatestRestorableTime", "SnapshotType", "AvailabilityZone", "MultiAZ", "DBInstanceClass",
    "ServerSideEncryption", "Name", "Type", "StartRecordName", "StartRecordType", "MaxRecords",
})
#: Ends of names that identify (``DBInstanceIdentifier``, ``HostedZoneId``, ``SecretId``...).
_SUFFIXES = ("Identifier", "Id", "Arn")
_MAX = 200


def aws_params(api_params: dict[str, Any]) -> dict[str, str]:
    """The identifying parameters of a boto3 call (and a Route 53 change batch's records)."""
    out: dict[str, str] = {}
    for key, value in api_params.items():
        if key == "ChangeBatch" and isinstance(value, dict):
            out["Changes"] = _changes(value)
        elif (key in _NAMED or key.endswith(_SUFFIXES)) and _scalar(value):
            out[key] = _text(value)
    return out


def _changes(batch: dict[str, Any]) -> str:
    """``UPSERT api.example.com. CNAME`` per change: the action, the name and type, no value."""
    parts = []
    for change in batch.get("Changes") or ():
        if isinstance(change, dict):
            rrset = change.get("ResourceRecordSet") or {}
            parts.append(f"{change.get('Action', '?')} {rrset.get('Name', '?')} {rrset.get('Type', '?')}")
    return _text("; ".join(parts))


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool | datetime)


def _text(value: Any) -> str:
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return redact_text(text)[:_MAX]


def kube_params(
    namespace: str | None, name: str | None, query: list[tuple[str, str]] | None
) -> dict[str, str]:
    """The namespace and name of a Kubernetes call, and the selectors of a list."""
    out: dict[str, str] = {}
    if namespace:
        out["namespace"] = _text(namespace)
    if name:
        out["name"] = _text(name)
    for key, value in query or ():
        if key in ("labelSelector", "fieldSelector") and _scalar(value):
            out[key] = _text(value)
    return out
