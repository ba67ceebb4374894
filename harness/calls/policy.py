"""The IAM policy (JSON) and the Kubernetes Role and ClusterRole (YAML) a staging run needs,
generated from the drivers' declarations (:mod:`~drillbook.harness.calls.declared`): exactly
the actions and verbs drillbook calls, and nothing else."""

from __future__ import annotations

import json
from collections.abc import Iterable

from drillbook.harness.calls.declared import Declaration, KubeRule

NAME = "drillbook"
_SIDS = {"rds": "Rds", "route53": "Route53", "secretsmanager": "SecretsManager", "s3": "S3",
         "sts": "Sts", "iam": "Iam", "ec2": "Ec2"}


def iam_policy(declarations: Iterable[Declaration]) -> dict[str, object]:
    """One statement per service, its actions sorted. ``Resource`` is ``*``: narrow it to the
    profile's instance, snapshot, bucket, zone and secret ARNs (docs/staging.md)."""
    actions: dict[str, set[str]] = {}
    for declaration in declarations:
        for group in declaration.aws:
            actions.setdefault(group.service, set()).update(group.permissions)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": f"Drillbook{_SIDS.get(service, service.title())}",
                "Effect": "Allow",
                "Action": sorted(names),
                "Resource": "*",
            }
            for service, names in sorted(actions.items())
        ],
    }


def iam_json(declarations: Iterable[Declaration]) -> str:
    return json.dumps(iam_policy(declarations), indent=2) + "\n"


def merged_rules(declarations: Iterable[Declaration], *, cluster: bool) -> list[KubeRule]:
    """The declared rules of one scope, one per (group, resource), verbs merged and sorted."""
    verbs: dict[tuple[str, str], set[str]] = {}
    for declaration in declarations:
        for rule in declaration.kube:
            if rule.cluster == cluster:
                verbs.setdefault((rule.group, rule.resource), set()).update(rule.verbs)
    return [KubeRule(g, r, tuple(sorted(v)), cluster) for (g, r), v in sorted(verbs.items())]


def rbac_yaml(declarations: Iterable[Declaration], *, namespace: str, name: str = NAME) -> str:
    """A Role in ``namespace`` (deployments, pods, evictions, the lease) and a ClusterRole
    (nodes, and pods of every namespace for a drain), as ``kubectl apply -f`` takes them."""
    declared = list(declarations)
    documents = [
        _document("Role", name, namespace, merged_rules(declared, cluster=False)),
        _document("ClusterRole", name, None, merged_rules(declared, cluster=True)),
    ]
    return "---\n".join(d for d in documents if d)


def _document(kind: str, name: str, namespace: str | None, rules: list[KubeRule]) -> str:
    if not rules:
        return ""
    lines = ["apiVersion: rbac.authorization.k8s.io/v1", f"kind: {kind}", "metadata:", f"  name: {name}"]
    if namespace is not None:
        lines.append(f"  namespace: {json.dumps(namespace)}")
    lines.append("rules:")
    for rule in rules:
        lines += [
            f"- apiGroups: [{json.dumps(rule.group)}]",
            f"  resources: [{json.dumps(rule.resource)}]",
            f"  verbs: [{', '.join(json.dumps(v) for v in rule.verbs)}]",
        ]
    return "\n".join(lines) + "\n"


def permissions(declarations: Iterable[Declaration]) -> set[str]:
    """Every permission the policy and the roles grant, in the form calls record them."""
    return {p for d in declarations for p in d.permissions}
