"""An API path and method read the way RBAC reads them (verb, group, resource, subresource)."""

from __future__ import annotations

import pytest

from drillbook.harness.calls.kube import parse
from drillbook.harness.calls.toxiproxy import describe

BASE = "https://k8s.example:6443"


@pytest.mark.parametrize(
    ("method", "path", "permission", "namespace", "name"),
    [
        ("GET", "/apis/apps/v1/namespaces/shop/deployments/api", "apps/deployments:get", "shop", "api"),
        ("PATCH", "/apis/apps/v1/namespaces/shop/deployments/api/scale", "apps/deployments/scale:patch",
         "shop", "api"),
        ("GET", "/api/v1/namespaces/shop/pods?labelSelector=app%3Dapi", "core/pods:list", "shop", None),
        ("GET", "/api/v1/namespaces/shop/pods?watch=true", "core/pods:watch", "shop", None),
        ("POST", "/api/v1/namespaces/shop/pods/api-1/eviction", "core/pods/eviction:create", "shop", "api-1"),
        ("DELETE", "/api/v1/namespaces/shop/pods/api-1", "core/pods:delete", "shop", "api-1"),
        ("GET", "/api/v1/namespaces/shop/pods/api-1/log?previous=true", "core/pods/log:get", "shop", "api-1"),
        ("GET", "/api/v1/nodes", "core/nodes:list", None, None),
        ("PATCH", "/api/v1/nodes/node-a", "core/nodes:patch", None, "node-a"),
        ("GET", "/api/v1/namespaces/shop", "core/namespaces:get", None, "shop"),
        ("PUT", "/apis/coordination.k8s.io/v1/namespaces/shop/leases/drillbook",
         "coordination.k8s.io/leases:update", "shop", "drillbook"),
        ("GET", "/version", "", None, None),
    ],
)
def test_rbac_reading(
    method: str, path: str, permission: str, namespace: str | None, name: str | None
) -> None:
    request, _ = parse(method, BASE + path)
    assert (request.permission, request.namespace, request.name) == (permission, namespace, name)


def test_a_server_behind_a_path_is_read_under_it() -> None:
    """The kubeconfig's server URL may carry a path (a proxy, the twin's DR cluster): RBAC reads
    the request below it."""
    server = BASE + "/clusters/dr"
    url = server + "/apis/apps/v1/namespaces/shop/deployments/api-dr"
    request, _ = parse("PATCH", url, server=server)
    assert (request.permission, request.namespace) == ("apps/deployments:patch", "shop")
    unread, _ = parse("PATCH", url)
    assert unread.permission == ""  # without the server's path the request is off the resource API


def test_operation_and_selector() -> None:
    request, query = parse("GET", BASE + "/api/v1/namespaces/shop/pods?labelSelector=app%3Dapi")
    assert request.operation == "list pods"
    assert query == [("labelSelector", "app=api")]
    assert parse("GET", BASE + "/version")[0].operation == "GET /version"


def test_toxiproxy_operation_names_the_proxy_and_toxic() -> None:
    assert describe("POST", "/proxies/app-db/toxics") == ("POST /proxies/{proxy}/toxics", {"proxy": "app-db"})
    assert describe("DELETE", "/proxies/app-db/toxics/cut%20off") == (
        "DELETE /proxies/{proxy}/toxics/{toxic}", {"proxy": "app-db", "toxic": "cut off"})
    assert describe("POST", "/reset") == ("POST /reset", {})
