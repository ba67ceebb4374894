"""What each driver calls, declared next to the code that calls it, from which ``drillbook env
policy`` writes the IAM policy and the Kubernetes Role a staging run needs.

A driver module states its calls once, at module level::

    CALLS = declare(__name__, "stop, start, reboot and delete RDS instances",
                    aws=AwsActions("rds", ("DescribeDBInstances", "StopDBInstance", ...)))

and the test of the policy checks the declarations against the calls recorded in a run
(harness/calls/scope.py): nothing called that is not declared, nothing declared that no
drill calls (or the test names why not yet).
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass

from drillbook.harness.calls.kube import CORE

#: The packages whose modules declare calls; every module under them is imported to collect them.
PACKAGES = ("drillbook.harness.environments", "drillbook.harness.lease")


@dataclass(frozen=True)
class AwsActions:
    """IAM actions of one service: ``AwsActions("rds", ("StopDBInstance",))`` is ``rds:StopDBInstance``."""

    service: str
    actions: tuple[str, ...]
    #: Permissions AWS checks along with a call, never called themselves (with their reason):
    #: ``rds:AddTagsToResource`` for a restore that passes Tags.
    implied: tuple[tuple[str, str], ...] = ()

    @property
    def permissions(self) -> tuple[str, ...]:
        names = (*self.actions, *(a for a, _ in self.implied))
        return tuple(f"{self.service}:{a}" for a in names)

    @property
    def implied_permissions(self) -> dict[str, str]:
        return {f"{self.service}:{a}": why for a, why in self.implied}


@dataclass(frozen=True)
class KubeRule:
    """An RBAC rule: the verbs on a resource (``pods/eviction``) of an API group ("" is core).
    ``cluster`` rules (nodes, pods of every namespace) need a ClusterRole, the rest a Role."""

    group: str
    resource: str
    verbs: tuple[str, ...]
    cluster: bool = False

    @property
    def permissions(self) -> tuple[str, ...]:
        return tuple(f"{self.group or CORE}/{self.resource}:{v}" for v in self.verbs)


@dataclass(frozen=True)
class Declaration:
    module: str
    purpose: str
    aws: tuple[AwsActions, ...] = ()
    kube: tuple[KubeRule, ...] = ()
    #: Who calls it: "drills" (runbook steps and faults) or a command ("env check").
    used_by: str = "drills"

    @property
    def permissions(self) -> tuple[str, ...]:
        groups: tuple[AwsActions | KubeRule, ...] = (*self.aws, *self.kube)
        return tuple(p for group in groups for p in group.permissions)

    @property
    def implied(self) -> dict[str, str]:
        return {p: why for group in self.aws for p, why in group.implied_permissions.items()}


_declared: dict[str, Declaration] = {}


def declare(
    module: str,
    purpose: str,
    *,
    aws: AwsActions | tuple[AwsActions, ...] = (),
    kube: KubeRule | tuple[KubeRule, ...] = (),
    used_by: str = "drills",
) -> Declaration:
    """Declare the calls of ``module`` (its ``__name__``); returns the declaration."""
    declaration = Declaration(
        module,
        purpose,
        aws if isinstance(aws, tuple) else (aws,),
        kube if isinstance(kube, tuple) else (kube,),
        used_by,
    )
    _declared[module] = declaration
    return declaration


def declarations() -> list[Declaration]:
    """Every declaration, after importing every module of :data:`PACKAGES`; in module order."""
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.walk_packages(package.__path__, prefix=package_name + "."):
            importlib.import_module(info.name)
    return [_declared[name] for name in sorted(_declared)]


@dataclass(frozen=True)
class KubeCheck:
    """One verb of a declared rule, as SelfSubjectAccessReview asks about it."""

    verb: str
    resource: str
    subresource: str
    group: str
    cluster: bool

    def __str__(self) -> str:
        where = " (all namespaces)" if self.cluster and self.resource != "nodes" else ""
        return f"{self.verb} {self.resource}{'/' + self.subresource if self.subresource else ''}{where}"


def drill_permissions(service: str) -> tuple[str, ...]:
    """The IAM actions of ``service`` the drills' drivers declare (what ``env check`` simulates)."""
    return tuple(dict.fromkeys(
        p for d in declarations() if d.used_by == "drills"
        for group in d.aws if group.service == service for p in group.permissions
    ))


def drill_kube_checks() -> tuple[KubeCheck, ...]:
    """Every verb the drills' Kubernetes drivers declare, one check each (``env check``)."""
    checks: dict[KubeCheck, None] = {}
    for d in declarations():
        if d.used_by != "drills":
            continue
        for rule in d.kube:
            resource, _, sub = rule.resource.partition("/")
            for verb in rule.verbs:
                checks[KubeCheck(verb, resource, sub, rule.group, rule.cluster)] = None
    return tuple(checks)
