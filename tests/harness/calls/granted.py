"""What ``drillbook env policy``'s IAM policy and Kubernetes Roles grant, in the form the
journal records calls' permissions (``rds:StopDBInstance``, ``core/pods/eviction:create``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def granted_by(policy: Mapping[str, Any], documents: Iterable[Mapping[str, Any]]) -> set[str]:
    """The actions of the policy's statements and every verb of the Roles' rules."""
    statements = policy["Statement"]
    assert isinstance(statements, list)
    granted = {a for s in statements for a in s["Action"]}
    for doc in documents:
        for rule in doc["rules"]:
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    granted |= {f"{group or 'core'}/{resource}:{v}" for v in rule["verbs"]}
    return granted
