"""Typed journal records. ``DrillResult`` mirrors the journal keys (docs/journal.md).

Schema version 1. Keys may be added, none renamed; old records stay loadable
(``from_dict`` ignores keys it does not know and fills the ones it misses). A
record without ``schema_version`` predates the key: it loads as version 0, with
its status read case-insensitively and an environment given as a bare name.
"""

from __future__ import annotations

import dataclasses
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
        return cls(
            run_id=data["run_id"],
            drill=_build(DrillInfo, data.get("drill") or {}),
            environment=_build(EnvironmentInfo, _environment(data.get("environment"))),
            targets=_build(Targets, data.get("targets") or {}),
            measured=_build(Measured, data.get("measured") or {}),
            status=Status(str(data.get("status") or "FAIL").upper()),
            reasons=list(data.get("reasons") or []),
            timeline=[_build(TimelineEvent, e) for e in data.get("timeline") or []],
            phases=[_build(PhaseRecord, p) for p in data.get("phases") or []],
            faults=[_build(FaultRecord, f) for f in data.get("faults") or []],
            verification=[_build(Verification, v) for v in data.get("verification") or []],
            started_at=data.get("started_at"),
            finished_at=data.get("finished_at"),
            record_id=data.get("record_id"),
            extra=dict(data.get("extra") or {}),
            schema_version=int(data.get("schema_version", 0)),
            prev_hash=data.get("prev_hash"),
            hash=data.get("hash"),
        )


def _environment(value: Any) -> dict[str, Any]:
    if isinstance(value, str):  # pre-1 records may name the environment only
        return {"name": value}
    return value or {"name": "unknown"}


def _build(cls: type[T], data: dict[str, Any]) -> T:
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in data.items() if k in names})
