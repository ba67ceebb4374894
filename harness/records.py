"""Typed journal records. ``DrillResult`` mirrors the journal keys (docs/journal.md).

Schema version 1. Keys may be added, none renamed; old records stay loadable
(``from_dict`` ignores keys it does not know and fills the ones it misses). A
record without ``schema_version`` predates the key: it loads as version 0, with
its status read case-insensitively and an environment given as a bare name.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

T = TypeVar("T")

SCHEMA_VERSION = 1


class Status(StrEnum):
    PASS = "PASS"
    PARTIAL = "PARTIAL"
    FAIL = "FAIL"

    def __str__(self) -> str:
        return self.value


@dataclass
class DrillInfo:
    nodeid: str
    scenario: str
    tier: str | None = None
    severity: int | None = None
    component: str | None = None
    option: str | None = None
    description: str | None = None


@dataclass
class EnvironmentInfo:
    name: str
    fingerprint: dict[str, Any] = field(default_factory=dict)


@dataclass
class Targets:
    rto_s: float | None = None
    rpo_s: float | None = None
    rto_source: str | None = None
    rpo_source: str | None = None


@dataclass
class Measured:
    rto_s: float | None = None
    rpo_s: float | None = None
    detect_s: float | None = None
    acked_writes: int | None = None
    lost_writes: int | None = None
    indeterminate_writes: int | None = None
    unexpected_writes: int | None = None
    acked_after_fault: int | None = None
    lost_after_fault: int | None = None


@dataclass
class TimelineEvent:
    at: str
    event: str
    detail: str = ""
    t_s: float | None = None  # seconds since the drill started (monotonic)


@dataclass
class PhaseRecord:
    name: str
    started_at: str
    duration_s: float
    expected_s: float | None = None
    passed: bool = True
    detail: str = ""


@dataclass
class FaultRecord:
    name: str
    params: dict[str, Any]
    injected_at: str | None = None
    reverted_at: str | None = None
    revert_error: str | None = None


@dataclass
class Verification:
    name: str
    passed: bool
    detail: str = ""


@dataclass
class DrillResult:
    """One drill run, as written to the journal."""

    run_id: str
    drill: DrillInfo
    environment: EnvironmentInfo
    targets: Targets = field(default_factory=Targets)
    measured: Measured = field(default_factory=Measured)
    status: Status = Status.FAIL
    reasons: list[str] = field(default_factory=list)
    timeline: list[TimelineEvent] = field(default_factory=list)
    phases: list[PhaseRecord] = field(default_factory=list)
    faults: list[FaultRecord] = field(default_factory=list)
    verification: list[Verification] = field(default_factory=list)
    started_at: str | None = None
    finished_at: str | None = None
    record_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION
    prev_hash: str | None = None
    hash: str | None = None

    @property
    def passed(self) -> bool:
        return self.status is Status.PASS

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["status"] = self.status.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DrillResult:
        """The record of a journal file's dict. A value of the wrong type raises ValueError naming
        the key and the types it may have (a damaged or foreign file, not a drillbook record)."""
        status = str(data.get("status") or "FAIL").upper()
        if status not in Status.__members__:
            raise ValueError(f"status is {data.get('status')!r}, not one of PASS, PARTIAL, FAIL")
        schema = data.get("schema_version", 0)
        if isinstance(schema, bool) or not isinstance(schema, int):
            raise ValueError(f"schema_version is {value_kind(schema)}, expected a whole number")
        top = _build(_Top, {k: v for k, v in data.items() if k not in _NESTED}, "")
        return cls(
            run_id=top.run_id,
            drill=_build(DrillInfo, _table(data, "drill") or {"nodeid": "", "scenario": "unknown"}, "drill"),
            environment=_build(EnvironmentInfo, _environment(data.get("environment")), "environment"),
            targets=_build(Targets, _table(data, "targets"), "targets"),
            measured=_build(Measured, _table(data, "measured"), "measured"),
            status=Status(status),
            reasons=[str(r) for r in top.reasons],
            timeline=_list(TimelineEvent, data, "timeline"),
            phases=_list(PhaseRecord, data, "phases"),
            faults=_list(FaultRecord, data, "faults"),
            verification=_list(Verification, data, "verification"),
            started_at=top.started_at,
            finished_at=top.finished_at,
            record_id=top.record_id,
            extra=dict(top.extra),
            schema_version=schema,
            prev_hash=top.prev_hash,
            hash=top.hash,
        )


@dataclass
class _Top:
    """The record's own scalar keys, checked like the nested tables."""

    run_id: str
    reasons: list[Any] = field(default_factory=list)
    started_at: str | None = None
    finished_at: str | None = None
    record_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    prev_hash: str | None = None
    hash: str | None = None


_NESTED = ("drill", "environment", "targets", "measured", "timeline", "phases", "faults", "verification",
           "status", "schema_version")


def _environment(value: Any) -> dict[str, Any]:
    if isinstance(value, str):  # pre-1 records may name the environment only
        return {"name": value}
    if value is not None and not isinstance(value, dict):
        raise ValueError(f"environment is {value_kind(value)}, expected an object or a name")
    return value or {"name": "unknown"}


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise ValueError(f"{key} is {value_kind(value)}, expected an object")
    return value


def _list(cls: type[T], data: dict[str, Any], key: str) -> list[T]:
    value = data.get(key) or []
    if not isinstance(value, list):
        raise ValueError(f"{key} is {value_kind(value)}, expected an array")
    return [_build(cls, item, f"{key}[{index}]") for index, item in enumerate(value)]


def _build(cls: type[T], data: Any, where: str) -> T:
    """``cls`` from the keys of ``data`` it knows (others are ignored: newer records load),
    each checked against the field's type."""
    if not isinstance(data, dict):
        raise ValueError(f"{where} is {value_kind(data)}, expected an object")
    values = {}
    for name, accepted in _field_types(typing.cast(type, cls)).items():
        if name not in data:
            continue
        value = data[name]
        if not _accepts(accepted, value):
            label = f"{where}.{name}" if where else name
            wanted = " or ".join(sorted({t.__name__ if t is not type(None) else "null" for t in accepted}))
            raise ValueError(f"{label} is {value_kind(value)}, expected {wanted}")
        values[name] = float(value) if float in accepted and isinstance(value, int) else value
    try:
        return cls(**values)
    except TypeError as exc:  # a required key is missing
        raise ValueError(f"{where or 'the record'}: {exc}") from None


@functools.cache
def _field_types(cls: type) -> dict[str, tuple[type, ...]]:
    hints = typing.get_type_hints(cls)
    out = {}
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        parts = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
        out[f.name] = tuple(typing.get_origin(p) or p for p in parts)
    return out


def _accepts(accepted: tuple[type, ...], value: Any) -> bool:
    if value is None:
        return type(None) in accepted
    if isinstance(value, bool):
        return bool in accepted
    if isinstance(value, float) and not math.isfinite(value):
        return False  # NaN or infinity: no measurement or target is either
    if isinstance(value, int) and float in accepted:
        return True
    return any(t is not Any and isinstance(value, t) for t in accepted) or Any in accepted


def value_kind(value: Any) -> str:
    """A JSON value's kind for an error message: "a string", "an array", "a float (nan)"."""
    if value is None:
        return "null"
    name = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(type(value))
    return name or f"a {type(value).__name__} ({value!r})"[:60]
