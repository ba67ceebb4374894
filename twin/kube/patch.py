"""The three patch types ``kubectl`` sends, applied to an object as the API server applies them.

- JSON merge patch (RFC 7386, ``application/merge-patch+json``): maps merge, ``null``
  removes a key, anything else (lists included) replaces.
- JSON patch (RFC 6902, ``application/json-patch+json``): ``add``, ``remove``, ``replace``,
  ``move``, ``copy``, ``test`` on JSON pointers (``kubectl rollout undo`` replaces
  ``/spec/template`` and ``/metadata/annotations`` this way).
- Strategic merge patch (``application/strategic-merge-patch+json``): a merge patch whose
  lists of objects merge by key (``containers`` by ``name``, ``env`` by ``name``...), with
  the directives ``kubectl`` writes: ``$patch: delete|replace|merge``,
  ``$setElementOrder/<list>``, ``$deleteFromPrimitiveList/<list>`` and ``$retainKeys``
  (``kubectl set env``, ``set image``, ``cordon``, ``rollout restart`` send these).
"""

from __future__ import annotations

import copy
from typing import Any

from drillbook.twin.kube.errors import BadRequest, Invalid, UnsupportedMediaType

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"

#: Lists of objects merged by a key in a strategic merge patch (Kubernetes' patchMergeKey).
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "ports": "containerPort",
    "imagePullSecrets": "name",
    "conditions": "type",
    "ownerReferences": "uid",
    "addresses": "type",
    "taints": "key",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
}


def apply(obj: dict[str, Any], body: Any, content_type: str) -> dict[str, Any]:
    """``obj`` patched (a new object; ``obj`` is left alone)."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == JSON_PATCH:
        return json_patch(obj, body)
    if kind == MERGE_PATCH:
        return _as_object(merge_patch(obj, _object_body(body)))
    if kind == STRATEGIC_MERGE_PATCH:
        return _as_object(strategic_merge(obj, _object_body(body)))
    if kind == APPLY_PATCH:
        raise UnsupportedMediaType(
            "server-side apply is not emulated by the twin: use kubectl apply "
            "without --server-side, or a merge or JSON patch"
        )
    raise UnsupportedMediaType(
        f"the body of a PATCH must be {JSON_PATCH}, {MERGE_PATCH} or "
        f"{STRATEGIC_MERGE_PATCH}, not {content_type or 'unspecified'!r}"
    )


def _object_body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest("a merge patch must be a JSON object")
    return body


def _as_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Invalid("the patched object is not a JSON object")
    return value


# -- JSON merge patch ---------------------------------------------------------------------------


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


# -- JSON patch ----------------------------------------------------------------------------------


def json_patch(obj: dict[str, Any], operations: Any) -> dict[str, Any]:
    if not isinstance(operations, list):
        raise BadRequest("a JSON patch must be a list of operations")
    doc: Any = copy.deepcopy(obj)
    for index, op in enumerate(operations):
        if (
            not isinstance(op, dict)
            or not isinstance(op.get("op"), str)
            or not isinstance(op.get("path"), str)
        ):
            raise BadRequest(f'JSON patch operation {index} needs "op" and "path"')
        doc = _operation(doc, op)
    return _as_object(doc)


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise BadRequest(f"JSON pointer {path!r} must start with '/'")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _operation(doc: Any, op: dict[str, Any]) -> Any:
    name, path = op["op"], _pointer(op["path"])
    if name == "test":
        if _get(doc, path, op["path"]) != op.get("value"):
            raise Invalid(f"JSON patch test failed at {op['path']}")
        return doc
    if name == "remove":
        return _remove(doc, path, op["path"])[0]
    if name in ("add", "replace"):
        if "value" not in op:
            raise BadRequest(f"JSON patch {name} at {op['path']} needs a value")
        if name == "replace":
            _get(doc, path, op["path"])  # must exist
            doc = _remove(doc, path, op["path"])[0] if path else doc
        return _add(doc, path, copy.deepcopy(op["value"]), op["path"])
    if name in ("move", "copy"):
        source = op.get("from")
        if not isinstance(source, str):
            raise BadRequest(f'JSON patch {name} to {op["path"]} needs "from"')
        if name == "move":
            doc, value = _remove(doc, _pointer(source), source)
        else:
            value = copy.deepcopy(_get(doc, _pointer(source), source))
        return _add(doc, path, value, op["path"])
    raise BadRequest(f"unknown JSON patch operation {name!r}")


def _parent(doc: Any, path: list[str], text: str) -> Any:
    return _get(doc, path[:-1], text)


def _get(doc: Any, path: list[str], text: str) -> Any:
    node = doc
    for part in path:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise Invalid(f"JSON patch path {text} does not exist in the object")
    return node


def _add(doc: Any, path: list[str], value: Any, text: str) -> Any:
    if not path:
        return value
    parent, last = _parent(doc, path, text), path[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent):
            parent.insert(int(last), value)
        else:
            raise Invalid(f"JSON patch path {text}: index out of range")
    else:
        raise Invalid(f"JSON patch path {text}: the parent is not an object or a list")
    return doc


def _remove(doc: Any, path: list[str], text: str) -> tuple[Any, Any]:
    if not path:
        raise Invalid("JSON patch cannot remove the whole object")
    parent, last = _parent(doc, path, text), path[-1]
    if isinstance(parent, dict) and last in parent:
        return doc, parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return doc, parent.pop(int(last))
    raise Invalid(f"JSON patch path {text} does not exist in the object")


# -- strategic merge patch --------------------------------------------------------------------------


def strategic_merge(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return None
    out: dict[str, Any] = copy.deepcopy(target) if isinstance(target, dict) else {}
    orders: dict[str, list[Any]] = {}
    for key, value in patch.items():
        if key == "$patch":
            continue
        if key == "$retainKeys":
            keep = set(value or []) | {k for k in patch if not k.startswith("$")}
            out = {k: v for k, v in out.items() if k in keep}
        elif key.startswith("$setElementOrder/"):
            orders[key.split("/", 1)[1]] = list(value or [])
        elif key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            gone = list(value or [])
            out[field] = [v for v in out.get(field) or [] if v not in gone]
        elif value is None:
            out.pop(key, None)
        elif isinstance(value, list) and key in MERGE_KEYS and isinstance(out.get(key), list):
            out[key] = _merge_list(out[key], value, MERGE_KEYS[key])
        elif isinstance(value, dict):
            merged = strategic_merge(out.get(key), value)
            if merged is None:
                out.pop(key, None)
            else:
                out[key] = merged
        else:
            out[key] = copy.deepcopy(value)
    for field, order in orders.items():
        if isinstance(out.get(field), list):
            out[field] = _ordered(out[field], order, MERGE_KEYS.get(field))
    return out


def _merge_list(current: list[Any], patch: list[Any], key: str) -> list[Any]:
    out = copy.deepcopy(current)
    if any(isinstance(item, dict) and item.get("$patch") == "replace" for item in patch):
        return [copy.deepcopy(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise Invalid(
                f"a strategic merge patch of a list merged by {key!r} needs {key!r} in "
                f"every element (got {item!r})"
            )
        index = next(
            (
                i
                for i, existing in enumerate(out)
                if isinstance(existing, dict) and existing.get(key) == item[key]
            ),
            None,
        )
        if item.get("$patch") == "delete":
            if index is not None:
                out.pop(index)
        elif index is None:
            out.append({k: copy.deepcopy(v) for k, v in item.items() if k != "$patch"})
        else:
            out[index] = strategic_merge(out[index], item)
    return out


def _ordered(items: list[Any], order: list[Any], key: str | None) -> list[Any]:
    """``$setElementOrder``: the listed elements in that order; the others after, as they were."""

    def ident(item: Any) -> Any:
        return item.get(key) if key and isinstance(item, dict) else item

    wanted = [ident(o) for o in order]
    placed = sorted((i for i in items if ident(i) in wanted), key=lambda i: wanted.index(ident(i)))
    return placed + [i for i in items if ident(i) not in wanted]
