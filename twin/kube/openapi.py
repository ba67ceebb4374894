"""Just enough OpenAPI v3 for ``kubectl create -f`` and ``apply -f``: before sending an object,
kubectl asks whether the server validates fields itself (the ``fieldValidation`` query
parameter of each kind's PATCH operation); when it does, kubectl leaves validation to the
server instead of downloading every schema (which the twin does not have: ``kubectl explain``
is not emulated).
"""

from __future__ import annotations

from typing import Any

from drillbook.twin.kube.resources import RESOURCES, Resource

FIELD_VALIDATION = {
    "name": "fieldValidation",
    "in": "query",
    "schema": {"type": "string", "uniqueItems": True},
}


def _prefix(group: str, version: str) -> str:
    return f"api/{version}" if not group else f"apis/{group}/{version}"


def index() -> dict[str, Any]:
    """``/openapi/v3``: one document per group version."""
    versions = dict.fromkeys((r.group, r.version) for r in RESOURCES)
    return {
        "paths": {_prefix(g, v): {"serverRelativeURL": f"/openapi/v3/{_prefix(g, v)}"} for g, v in versions}
    }


def _item(res: Resource) -> str:
    namespace = "namespaces/{namespace}/" if res.namespaced else ""
    return f"/{_prefix(res.group, res.version)}/{namespace}{res.name}/{{name}}"


def document(path: str) -> dict[str, Any] | None:
    """``/openapi/v3/<group version>``: the PATCH operations, each with its kind and fieldValidation."""
    listed = [r for r in RESOURCES if _prefix(r.group, r.version) == path and "patch" in r.verbs]
    if not listed and not any(_prefix(r.group, r.version) == path for r in RESOURCES):
        return None
    return {
        "openapi": "3.0.0",
        "info": {"title": "drillbook twin", "version": "v1.32.0"},
        "paths": {
            _item(r): {
                "patch": {
                    "x-kubernetes-group-version-kind": {
                        "group": r.group,
                        "version": r.version,
                        "kind": r.kind,
                    },
                    "parameters": [FIELD_VALIDATION],
                    "responses": {"200": {"description": "OK"}},
                }
            }
            for r in listed
        },
    }
