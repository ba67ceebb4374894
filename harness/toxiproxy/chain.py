"""A proxy's toxics (toxiproxy's ``ToxicCollection``): which toxics act on each
stream, in order, parsed and validated from the API's JSON."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from drillbook.harness.toxiproxy import errors
from drillbook.harness.toxiproxy.stream import Stream
from drillbook.harness.toxiproxy.toxics import REGISTRY, BadAttribute, Toxic


@dataclass
class ToxicSpec:
    """One toxic as the API shows it (toxiproxy's ``ToxicWrapper``)."""

    name: str
    type: str
    stream: str
    direction: Stream
    toxicity: float
    toxic: Toxic

    def to_json(self) -> dict[str, Any]:
        return {
            "attributes": self.toxic.attributes(),
            "name": self.name,
            "type": self.type,
            "stream": self.stream,
            "toxicity": _number(self.toxicity),
        }


def _number(value: float) -> float | int:
    # Go prints a float32 1.0 as 1.
    return int(value) if float(value).is_integer() else value


def _toxicity(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise errors.BAD_REQUEST_BODY(f"toxicity must be a number, got {value!r}")
    return float(value)


def _string(body: dict[str, Any], key: str, default: str) -> str:
    value = body.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise errors.BAD_REQUEST_BODY(f"{key} must be a string, got {value!r}")
    return value


class ToxicChain:
    def __init__(self) -> None:
        self.streams: dict[Stream, list[ToxicSpec]] = {Stream.UPSTREAM: [], Stream.DOWNSTREAM: []}

    def all(self) -> list[ToxicSpec]:
        """Upstream toxics first, each stream in the order the toxics were added."""
        return [*self.streams[Stream.UPSTREAM], *self.streams[Stream.DOWNSTREAM]]

    def find(self, name: str) -> ToxicSpec | None:
        return next((spec for spec in self.all() if spec.name == name), None)

    def get(self, name: str) -> ToxicSpec:
        spec = self.find(name)
        if spec is None:
            raise errors.TOXIC_NOT_FOUND()
        return spec

    def parse_new(self, body: object) -> ToxicSpec:
        """Validate a ``POST /proxies/{proxy}/toxics`` body in toxiproxy's order of checks."""
        if not isinstance(body, dict):
            raise errors.BAD_REQUEST_BODY(f"expected a JSON object, got {type(body).__name__}")
        toxicity = _toxicity(body.get("toxicity", 1.0))
        kind = _string(body, "type", "")
        stream = _string(body, "stream", "downstream")
        direction = Stream.parse(stream)
        if direction is None:
            raise errors.INVALID_STREAM()
        name = _string(body, "name", "") or f"{kind}_{stream}"
        cls = REGISTRY.get(kind)
        if cls is None or kind == "noop":
            raise errors.INVALID_TOXIC_TYPE()
        if self.find(name) is not None:
            raise errors.TOXIC_ALREADY_EXISTS()
        try:
            toxic = cls.from_attributes(body.get("attributes"))
        except BadAttribute as exc:
            raise errors.BAD_REQUEST_BODY(str(exc)) from exc
        return ToxicSpec(name, kind, stream, direction, toxicity, toxic)

    def parse_update(self, name: str, body: object) -> ToxicSpec:
        """A new spec for toxic ``name`` with the attributes and toxicity in ``body``."""
        current = self.get(name)
        if not isinstance(body, dict):
            raise errors.BAD_REQUEST_BODY(f"expected a JSON object, got {type(body).__name__}")
        try:
            toxic = type(current.toxic).from_attributes(body.get("attributes"), base=current.toxic)
        except BadAttribute as exc:
            raise errors.BAD_REQUEST_BODY(str(exc)) from exc
        toxicity = _toxicity(body["toxicity"]) if "toxicity" in body else current.toxicity
        return ToxicSpec(current.name, current.type, current.stream, current.direction, toxicity, toxic)

    def add(self, spec: ToxicSpec) -> None:
        self.streams[spec.direction].append(spec)

    def replace(self, spec: ToxicSpec) -> None:
        chain = self.streams[spec.direction]
        chain[next(i for i, s in enumerate(chain) if s.name == spec.name)] = spec

    def remove(self, name: str) -> ToxicSpec:
        spec = self.get(name)
        self.streams[spec.direction].remove(spec)
        return spec
