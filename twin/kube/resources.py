"""The resources the twin's Kubernetes API serves, and discovery as ``kubectl`` reads it.

``kubectl`` finds what a name like ``deploy`` or ``pods`` means from discovery (``/api``,
``/apis`` and each group version's resource list), and finds the eviction and scale
subresources there too (``kubectl drain`` evicts only when ``pods/eviction`` is listed with
its group, ``kubectl scale`` patches ``deployments/scale`` as ``autoscaling/v1``). A name no
group lists is what ``kubectl`` reports as "the server doesn't have a resource type".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drillbook.twin.kube.nodes import KUBELET_VERSION

READ = ("get", "list", "watch")


@dataclass(frozen=True)
class Subresource:
    name: str
    verbs: tuple[str, ...]
    kind: str
    group: str | None = None  # another group's kind (Eviction: policy/v1, Scale: autoscaling/v1)
    version: str | None = None


@dataclass(frozen=True)
class Resource:
    name: str
    singular: str
    kind: str
    group: str
    version: str
    namespaced: bool
    verbs: tuple[str, ...]
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[Subresource, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """``deployments.apps``: how errors name the resource."""
        return f"{self.name}.{self.group}" if self.group else self.name

    def subresource(self, name: str) -> Subresource | None:
        return next((s for s in self.subresources if s.name == name), None)

    def discovery(self) -> list[dict[str, Any]]:
        main: dict[str, Any] = {
            "name": self.name,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": list(self.verbs),
        }
        if self.short_names:
            main["shortNames"] = list(self.short_names)
        if self.categories:
            main["categories"] = list(self.categories)
        out = [main]
        for sub in self.subresources:
            entry: dict[str, Any] = {
                "name": f"{self.name}/{sub.name}",
                "singularName": "",
                "namespaced": self.namespaced,
                "kind": sub.kind,
                "verbs": list(sub.verbs),
            }
            if sub.group is not None:
                entry.update(group=sub.group, version=sub.version)
            out.append(entry)
        return out


RESOURCES = (
    Resource(
        "pods",
        "pod",
        "Pod",
        "",
        "v1",
        True,
        (*READ, "delete", "patch", "update"),
        ("po",),
        ("all",),
        (
            Subresource("log", ("get",), "Pod"),
            Subresource("status", ("get",), "Pod"),
            Subresource("eviction", ("create",), "Eviction", "policy", "v1"),
        ),
    ),
    Resource(
        "nodes",
        "node",
        "Node",
        "",
        "v1",
        False,
        (*READ, "patch", "update"),
        ("no",),
        subresources=(Subresource("status", ("get",), "Node"),),
    ),
    Resource(
        "namespaces",
        "namespace",
        "Namespace",
        "",
        "v1",
        False,
        (*READ, "create", "delete", "patch", "update"),
        ("ns",),
    ),
    Resource("events", "event", "Event", "", "v1", True, READ, ("ev",)),
    Resource(
        "deployments",
        "deployment",
        "Deployment",
        "apps",
        "v1",
        True,
        (*READ, "patch", "update"),
        ("deploy",),
        ("all",),
        (
            Subresource("scale", ("get", "patch", "update"), "Scale", "autoscaling", "v1"),
            Subresource("status", ("get",), "Deployment"),
        ),
    ),
    Resource("replicasets", "replicaset", "ReplicaSet", "apps", "v1", True, READ, ("rs",), ("all",)),
    Resource(
        "leases",
        "lease",
        "Lease",
        "coordination.k8s.io",
        "v1",
        True,
        (*READ, "create", "update", "patch", "delete"),
    ),
    Resource(
        "selfsubjectaccessreviews",
        "selfsubjectaccessreview",
        "SelfSubjectAccessReview",
        "authorization.k8s.io",
        "v1",
        False,
        ("create",),
    ),
)
BY_NAME = {(r.group, r.name): r for r in RESOURCES}
#: The fields each resource can be selected on (``fieldSelector``), beyond name and namespace.
FIELDS = {
    "pods": ("spec.nodeName", "status.phase", "spec.restartPolicy", "spec.schedulerName", "status.podIP"),
    "namespaces": ("status.phase",),
    "events": (
        "involvedObject.kind",
        "involvedObject.name",
        "involvedObject.namespace",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "type",
    ),
}
#: ``policy`` serves no resource of its own here (no PodDisruptionBudget), but it is the group of
#: the eviction subresource: kubectl before 1.22 evicts only when ``/apis`` lists it.
SUBRESOURCE_GROUPS = ("policy",)
GROUPS = tuple(dict.fromkeys([*(r.group for r in RESOURCES if r.group), *SUBRESOURCE_GROUPS]))


def find(group: str, version: str, name: str) -> Resource | None:
    found = BY_NAME.get((group, name))
    return found if found is not None and found.version == version else None


def version_info() -> dict[str, str]:
    return {
        "major": "1",
        "minor": "32",
        "gitVersion": KUBELET_VERSION,
        "gitCommit": "",
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": "n/a (python)",
        "compiler": "drillbook",
        "platform": "linux/amd64",
    }


def core_versions(server: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server}],
    }


def group(name: str) -> dict[str, Any]:
    version = {"groupVersion": f"{name}/v1", "version": "v1"}
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": name,
        "versions": [version],
        "preferredVersion": version,
    }


def groups() -> dict[str, Any]:
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [{k: v for k, v in group(g).items() if k not in ("kind", "apiVersion")} for g in GROUPS],
    }


def resource_list(group_name: str, version: str) -> dict[str, Any] | None:
    listed = [r for r in RESOURCES if r.group == group_name and r.version == version]
    if not listed and (group_name not in SUBRESOURCE_GROUPS or version != "v1"):
        return None
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group_name}/{version}" if group_name else version,
        "resources": [entry for r in listed for entry in r.discovery()],
    }
