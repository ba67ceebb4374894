"""Recording Kubernetes API calls: an ``ApiClient`` whose ``call_api`` (the one path every
typed API method of the official client goes through) records each request.

A call is named the way RBAC names it: the verb (get, list, watch, create, update, patch,
delete, deletecollection), the resource and subresource, the API group. The request id is
the API server's ``Audit-Id`` header, which is what its audit log is searched by.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from drillbook.harness.calls.params import kube_params
from drillbook.harness.calls.scope import current, now_iso, record

CORE = "core"  # how a permission names the core ("") API group


@dataclass(frozen=True)
class KubeRequest:
    """What an API path and method mean in RBAC's terms."""

    verb: str
    group: str  # "" for the core group
    resource: str  # "deployments/scale" with its subresource; "" for a non-resource URL
    namespace: str | None
    name: str | None
    path: str

    @property
    def permission(self) -> str:
        """``apps/deployments/scale:patch``, ``core/pods/eviction:create``; "" off the resource API."""
        return f"{self.group or CORE}/{self.resource}:{self.verb}" if self.resource else ""

    @property
    def operation(self) -> str:
        return f"{self.verb} {self.resource}" if self.resource else f"{self.verb.upper()} {self.path}"


def parse(method: str, url: str, *, server: str = "") -> tuple[KubeRequest, list[tuple[str, str]]]:
    """The RBAC reading of ``method url`` and its query parameters. ``server`` is the cluster's
    URL as the kubeconfig names it: an API server behind a path (``https://proxy/k8s/clusters/c1``,
    the twin's DR cluster at ``/clusters/dr``) serves ``/api`` and ``/apis`` under that path."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    segments = [s for s in parts.path.split("/") if s]
    prefix = [s for s in urlsplit(server).path.split("/") if s]
    if prefix and segments[: len(prefix)] == prefix:
        segments = segments[len(prefix):]
    method = method.upper()
    if segments[:1] == ["api"] and len(segments) >= 2:
        group, rest = "", segments[2:]
    elif segments[:1] == ["apis"] and len(segments) >= 3:
        group, rest = segments[1], segments[3:]
    else:
        return KubeRequest(method.lower(), "", "", None, None, parts.path), query
    namespace: str | None = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    if not rest:
        return KubeRequest(method.lower(), group, "", namespace, None, parts.path), query
    resource = rest[0] + (f"/{rest[2]}" if len(rest) > 2 else "")
    name = rest[1] if len(rest) > 1 else None
    watching = any(k == "watch" and v in ("true", "1") for k, v in query)
    verb = {
        "GET": "get" if name else ("watch" if watching else "list"),
        "POST": "create",
        "PUT": "update",
        "PATCH": "patch",
        "DELETE": "delete" if name else "deletecollection",
    }.get(method, method.lower())
    return KubeRequest(verb, group, resource, namespace, name, parts.path), query


def recording_api_client(configuration: Any) -> Any:
    """An ``ApiClient`` for ``configuration`` that records its calls."""
    return _client_class()(configuration)


@functools.cache
def _client_class() -> Any:
    # Built on first use: the kubernetes package is imported only by environments that use it.
    from kubernetes.client import ApiClient

    class RecordingApiClient(ApiClient):  # type: ignore[misc]
        def call_api(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            target = current()
            if target is None:
                return super().call_api(method, url, *args, **kwargs)
            request, query = parse(method, url, server=self.configuration.host)
            started, at = time.monotonic(), now_iso()
            params = kube_params(request.namespace, request.name, query)
            try:
                response = super().call_api(method, url, *args, **kwargs)
            except Exception as exc:
                status = getattr(exc, "status", None)
                headers = getattr(exc, "headers", None) or {}
                record(target, service="kubernetes", operation=request.operation,
                       permission=request.permission, params=params, started=started, at=at,
                       outcome=str(status) if status else type(exc).__name__,
                       request_id=_audit_id(headers))
                raise
            status = int(getattr(response, "status", 0) or 0)
            record(target, service="kubernetes", operation=request.operation, permission=request.permission,
                   params=params, started=started, at=at,
                   outcome="ok" if 200 <= status < 300 else str(status),
                   request_id=_audit_id(getattr(response, "headers", None) or {}))
            return response

    return RecordingApiClient


def _audit_id(headers: Any) -> str | None:
    try:
        value = headers.get("Audit-Id") or headers.get("audit-id")
    except AttributeError:
        return None
    return str(value) if value else None
