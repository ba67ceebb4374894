"""The patch types kubectl sends, applied as the API server applies them."""

from __future__ import annotations

import pytest

from drillbook.twin.kube import patch
from drillbook.twin.kube.errors import Invalid, UnsupportedMediaType

DEPLOYMENT = {
    "metadata": {"name": "api", "annotations": {"a": "1"}},
    "spec": {
        "replicas": 3,
        "template": {
            "spec": {
                "containers": [
                    {
                        "name": "api",
                        "image": "compliant-api:1.0.0",
                        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                    }
                ]
            }
        },
    },
}


def test_a_merge_patch_merges_maps_removes_nulls_and_replaces_lists() -> None:
    out = patch.apply(
        DEPLOYMENT,
        {
            "metadata": {"annotations": {"a": None, "b": "2"}},
            "spec": {"replicas": 0, "template": {"spec": {"containers": []}}},
        },
        patch.MERGE_PATCH,
    )
    assert out["metadata"]["annotations"] == {"b": "2"} and out["spec"]["replicas"] == 0
    assert out["spec"]["template"]["spec"]["containers"] == []
    assert DEPLOYMENT["spec"]["replicas"] == 3  # the original is left alone


def test_a_json_patch_as_kubectl_rollout_undo_sends_it() -> None:
    template = {"spec": {"containers": [{"name": "api", "image": "compliant-api:0.9"}]}}
    out = patch.apply(
        DEPLOYMENT,
        [
            {"op": "replace", "path": "/spec/template", "value": template},
            {"op": "replace", "path": "/metadata/annotations", "value": {"x": "y"}},
            {"op": "add", "path": "/metadata/labels", "value": {"app": "api"}},
            {"op": "test", "path": "/spec/replicas", "value": 3},
        ],
        patch.JSON_PATCH,
    )
    assert out["spec"]["template"] == template and out["metadata"]["annotations"] == {"x": "y"}
    assert out["metadata"]["labels"] == {"app": "api"}
    env = "/spec/template/spec/containers/0/env"
    moved = patch.apply(
        DEPLOYMENT,
        [
            {"op": "remove", "path": f"{env}/0"},
            {"op": "add", "path": f"{env}/-", "value": {"name": "C", "value": "3"}},
            {"op": "copy", "from": f"{env}/0", "path": f"{env}/0"},
            {"op": "move", "from": "/metadata/annotations/a", "path": "/metadata/annotations/z~1w"},
        ],
        patch.JSON_PATCH,
    )
    assert [e["name"] for e in moved["spec"]["template"]["spec"]["containers"][0]["env"]] == ["B", "B", "C"]
    assert moved["metadata"]["annotations"] == {"z/w": "1"}


@pytest.mark.parametrize(
    "ops, message",
    [
        ([{"op": "replace", "path": "/spec/nope/x", "value": 1}], "does not exist"),
        ([{"op": "test", "path": "/spec/replicas", "value": 4}], "test failed"),
        ([{"op": "remove", "path": "/metadata/annotations/zzz"}], "does not exist"),
    ],
)
def test_a_json_patch_that_cannot_apply_is_invalid(ops: list[dict[str, object]], message: str) -> None:
    with pytest.raises(Invalid, match=message):
        patch.apply(DEPLOYMENT, ops, patch.JSON_PATCH)


def test_a_strategic_merge_patch_as_kubectl_set_env_sends_it() -> None:
    body = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "api"}],
                    "containers": [
                        {
                            "name": "api",
                            "$setElementOrder/env": [{"name": "B"}, {"name": "C"}],
                            "env": [{"name": "C", "value": "3"}, {"$patch": "delete", "name": "A"}],
                        }
                    ],
                }
            }
        }
    }
    out = patch.apply(DEPLOYMENT, body, patch.STRATEGIC_MERGE_PATCH)
    container = out["spec"]["template"]["spec"]["containers"][0]
    assert container["env"] == [{"name": "B", "value": "2"}, {"name": "C", "value": "3"}]
    assert container["image"] == "compliant-api:1.0.0"  # merged by name, not replaced


def test_strategic_merge_directives() -> None:
    node = {
        "spec": {"unschedulable": True, "taints": [{"key": "t", "effect": "NoSchedule"}]},
        "metadata": {"finalizers": ["a", "b"], "labels": {"x": "1", "y": "2"}},
    }
    uncordoned = patch.apply(node, {"spec": {"unschedulable": None}}, patch.STRATEGIC_MERGE_PATCH)
    assert "unschedulable" not in uncordoned["spec"]
    replaced = patch.apply(
        node, {"metadata": {"labels": {"$patch": "replace", "z": "3"}}}, patch.STRATEGIC_MERGE_PATCH
    )
    assert replaced["metadata"]["labels"] == {"z": "3"}
    pruned = patch.apply(
        node, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}, patch.STRATEGIC_MERGE_PATCH
    )
    assert pruned["metadata"]["finalizers"] == ["b"]
    retained = patch.apply(
        node,
        {"spec": {"$retainKeys": ["unschedulable"], "unschedulable": False}},
        patch.STRATEGIC_MERGE_PATCH,
    )
    assert retained["spec"] == {"unschedulable": False}
    # An empty list merged by key merges nothing (as the API server's strategic merge does).
    assert patch.apply(node, {"spec": {"taints": []}}, patch.STRATEGIC_MERGE_PATCH) == node


def test_server_side_apply_and_unknown_types_are_refused() -> None:
    with pytest.raises(UnsupportedMediaType, match="server-side apply is not emulated"):
        patch.apply(DEPLOYMENT, {}, patch.APPLY_PATCH)
    with pytest.raises(UnsupportedMediaType, match="not 'text/plain'"):
        patch.apply(DEPLOYMENT, {}, "text/plain")
