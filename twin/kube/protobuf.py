"""The one protobuf request body ``kubectl`` sends: ``kubectl auth can-i`` posts its
SelfSubjectAccessReview as ``application/vnd.kubernetes.protobuf`` (and does not fall back to
JSON on a 415). This decodes that message into the JSON shape the rest of the API reads;
answers are JSON, which ``kubectl`` accepts.

The envelope is ``k8s\\x00`` and a ``runtime.Unknown`` (1 typeMeta, 2 raw); the review is
(1 metadata, 2 spec); the spec (1 resourceAttributes, 2 nonResourceAttributes); the
attributes as in ``k8s.io/api/authorization/v1/generated.proto``.
"""

from __future__ import annotations

from typing import Any

from drillbook.twin.kube.errors import BadRequest, UnsupportedMediaType

CONTENT_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"
_RESOURCE_ATTRIBUTES = {
    1: "namespace",
    2: "verb",
    3: "group",
    4: "version",
    5: "resource",
    6: "subresource",
    7: "name",
}
_NON_RESOURCE_ATTRIBUTES = {1: "path", 2: "verb"}


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if at >= len(data) or shift > 63:
            raise BadRequest("truncated protobuf body")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def fields(data: bytes) -> dict[int, bytes]:
    """The length-delimited fields of a message (numbers to bytes; others skipped)."""
    out: dict[int, bytes] = {}
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            _, at = _varint(data, at)
        elif wire == 1:
            at += 8
        elif wire == 5:
            at += 4
        elif wire == 2:
            length, at = _varint(data, at)
            out[number] = data[at : at + length]
            at += length
        else:
            raise BadRequest(f"unsupported protobuf wire type {wire}")
    return out


def _strings(data: bytes, names: dict[int, str]) -> dict[str, str]:
    return {names[n]: v.decode() for n, v in fields(data).items() if n in names}


def access_review(body: bytes) -> dict[str, Any]:
    """A SelfSubjectAccessReview sent as protobuf, as its JSON form."""
    if not body.startswith(MAGIC):
        raise UnsupportedMediaType(f"a {CONTENT_TYPE} body must start with the k8s envelope")
    raw = fields(fields(body[len(MAGIC) :]).get(2, b""))
    spec = fields(raw.get(2, b""))
    out: dict[str, Any] = {}
    if 1 in spec:
        out["resourceAttributes"] = _strings(spec[1], _RESOURCE_ATTRIBUTES)
    if 2 in spec:
        out["nonResourceAttributes"] = _strings(spec[2], _NON_RESOURCE_ATTRIBUTES)
    return {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": out}
