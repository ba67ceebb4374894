"""Typed journal records. ``DrillResult`` mirrors the journal keys (docs/journal.md);
``SignOff`` is the other kind of record a journal holds (``kind = "signoff"``).

Schema version 1. Keys may be added, none renamed; old records stay loadable
(``from_dict`` ignores keys it does not know and fills the ones it misses). A
record without ``schema_version`` predates the key: it loads as version 0, with
its status read case-insensitively and an environment given as a bare name.
What reports read is a typed field here, never a string matched or an ``extra``
key looked up: values older records keep in ``extra`` are read by the properties
of :class:`DrillResult`.
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
#: The ``kind`` of a journal record; a record without the key is a drill's.
DRILL_KIND = "drill"
SIGNOFF_KIND = "signoff"


class Status(StrEnum):
    PASS = "PASS"
    PARTIAL = "PARTIAL"
    FAIL = "FAIL"

    def __str__(self) -> str:
        return self.value


class ReasonKind(StrEnum):
    """Why a drill is not PASS. The texts are built by :mod:`drillbook.harness.verdict`."""

    STEADY_STATE_NOT_MET = "steady-state-not-met"
    ABORTED = "aborted"
    NOT_RECOVERED = "not-recovered"
    VERIFICATION_FAILED = "verification-failed"
    INTEGRITY = "integrity"
    REVERT_FAILED = "revert-failed"
    REVERT_NOT_SETTLED = "revert-not-settled"
    BROKEN_AFTER_REVERT = "broken-after-revert"
    RECONCILIATION_FAILED = "reconciliation-failed"
    RTO_MISSED = "rto-missed"
    RPO_MISSED = "rpo-missed"
    OTHER = "other"

    def __str__(self) -> str:
        return self.value

    @property
    def status(self) -> Status:
        """The status this reason alone gives a drill: a missed target is PARTIAL, the rest FAIL."""
        return Status.PARTIAL if self in (ReasonKind.RTO_MISSED, ReasonKind.RPO_MISSED) else Status.FAIL


@dataclass
class Reason:
    """One reason of a drill's status, with its numbers where it has some."""

    kind: ReasonKind
    text: str
    measured_s: float | None = None
    target_s: float | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reason:
        kind = str(data.get("kind") or "")
        return cls(
            kind=ReasonKind(kind) if kind in ReasonKind._value2member_map_ else ReasonKind.OTHER,
            text=str(data.get("text") or ""),
            measured_s=data.get("measured_s"),
            target_s=data.get("target_s"),
        )


@dataclass(frozen=True)
class Person:
    name: str
    role: str = ""

    def __str__(self) -> str:
        return f"{self.name} ({self.role})" if self.role else self.name


@dataclass
class People:
    """Who led the drill and who took part, as given to ``drillbook run`` or by the config."""

    led_by: str = ""
    participants: list[Person] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> People:
        return cls(
            led_by=str(data.get("led_by") or ""),
            participants=[
                Person(str(p.get("name") or ""), str(p.get("role") or ""))
                for p in data.get("participants") or []
                if isinstance(p, dict)
            ],
        )


@dataclass
class DrillInfo:
    nodeid: str
    scenario: str
    tier: str | None = None
    severity: int | None = None
    component: str | None = None
    option: str | None = None
    description: str | None = None
    #: What ``measured.rto_s`` is: "RTO" for an outage, or a planned test's figure
    #: ("restore time", "deploy time"). None in records written before the key.
    recovery_figure: str | None = None


@dataclass
class EnvironmentInfo:
    name: str
    fingerprint: dict[str, Any] = field(default_factory=dict)
    #: The profile's kind: "local" (the embedded twin), "containers", "staging"; None before the key.
    kind: str | None = None
    production: bool | None = None
    #: What the platform can do beyond the roles (``capabilities.KNOWN``); None before the key.
    capabilities: list[str] | None = None
    #: How often the drill's waits polled (the profile's ``poll_interval``); None before the key.
    poll_interval_s: float | None = None


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
    #: The lost sequence numbers as [first, last] ranges (in ``extra["lost_seqs"]`` before the key).
    lost_seqs: list[list[int]] | None = None


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


class CallerKind(StrEnum):
    """What made a control-plane call: a runbook step, a fault's injection or revert, a change
    the recovery applied, or the drill's own body (between steps: verification, waits)."""

    STEP = "step"
    FAULT = "fault"
    REVERT = "revert"
    CHANGE = "change"
    DRILL = "drill"

    def __str__(self) -> str:
        return self.value


@dataclass
class ControlCall:
    """One control-plane call (AWS, Kubernetes, toxiproxy) made while the drill ran.

    ``params`` holds the identifying parameters only (instance, snapshot, namespace, name,
    hosted zone, secret id...), never a value, password or token. ``permission`` is what the
    call needs: an IAM action (``rds:StopDBInstance``), a Kubernetes RBAC rule
    (``apps/deployments/scale:patch``) or empty where nothing is authorised (toxiproxy).
    """

    service: str
    operation: str
    permission: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    request_id: str | None = None
    duration_s: float = 0.0
    outcome: str = "ok"  # "ok", or the error code (AWS), HTTP status (Kubernetes) or exception
    at: str | None = None
    caller: str = ""  # the runbook step, fault or change by name ("" for the drill's body)
    caller_kind: str = CallerKind.DRILL.value


@dataclass
class Verification:
    name: str
    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class PageRecord:
    """One level of the escalation path as an unannounced drill paged it."""

    level: int
    name: str
    contact: str
    respond_within_s: float | None
    outcome: str
    paged_at: str | None = None
    waited_s: float | None = None


@dataclass(frozen=True)
class Engagement:
    """``extra["engagement"]``: the paging of a drill and the measured time to engage."""

    outcome: str  # acknowledged, unacknowledged, undeliverable, not paged
    detail: str = ""
    paged_at: str | None = None
    acked_at: str | None = None
    time_to_engage_s: float | None = None
    acked_by: str | None = None
    acked_level: int | None = None
    escalations: int = 0
    levels: tuple[PageRecord, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Engagement:
        levels = tuple(
            PageRecord(
                level=int(p.get("level") or 0),
                name=str(p.get("name") or ""),
                contact=str(p.get("contact") or ""),
                respond_within_s=_number(p.get("respond_within_s")),
                outcome=str(p.get("outcome") or ""),
                paged_at=p.get("paged_at"),
                waited_s=_number(p.get("waited_s")),
            )
            for p in data.get("levels") or []
            if isinstance(p, dict)
        )
        level = data.get("acked_level")
        return cls(
            outcome=str(data.get("outcome") or "unknown"),
            detail=str(data.get("detail") or ""),
            paged_at=data.get("paged_at"),
            acked_at=data.get("acked_at"),
            time_to_engage_s=_number(data.get("time_to_engage_s")),
            acked_by=data.get("acked_by"),
            acked_level=int(level) if isinstance(level, int) else None,
            escalations=int(data.get("escalations") or 0),
            levels=levels,
        )


@dataclass(frozen=True)
class Unannounced:
    """``extra["unannounced"]``: an unannounced drill's reveal (``True`` in older records)."""

    sealed_at: str | None = None
    scheduled_at: str | None = None
    revealed_at: str | None = None
    verified: bool | None = None  # None: the record does not say

    @classmethod
    def from_value(cls, value: Any) -> Unannounced | None:
        if not value:
            return None
        if not isinstance(value, dict):
            return cls()
        verified = value.get("verified")
        return cls(
            sealed_at=value.get("sealed_at"),
            scheduled_at=value.get("scheduled_at"),
            revealed_at=value.get("revealed_at"),
            verified=verified if isinstance(verified, bool) else None,
        )


@dataclass
class NotRun:
    """A part of a drill that was not run because the environment lacks a capability."""

    part: str
    capability: str
    reason: str


@dataclass
class DrillResult:
    """One drill run, as written to the journal."""

    run_id: str
    drill: DrillInfo
    environment: EnvironmentInfo
    targets: Targets = field(default_factory=Targets)
    measured: Measured = field(default_factory=Measured)
    status: Status = Status.FAIL
    #: The reasons' texts (every schema-1 record has them); ``causes`` types them.
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
    #: The reasons, typed (empty in records written before the key: see ``verdict.causes_of``).
    causes: list[Reason] = field(default_factory=list)
    #: Changes the recovery made and undid at the end (``extra["changes"]`` before the key).
    changes: list[FaultRecord] = field(default_factory=list)
    people: People | None = None
    #: Parts not run for a missing capability (empty in records written before the key).
    not_run: list[NotRun] = field(default_factory=list)
    #: Control-plane calls, in the order made (empty in records written before the key).
    calls: list[ControlCall] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status is Status.PASS

    @property
    def schedule(self) -> str | None:
        """The tier the suite ran as (``--drill-tier``); None for an ad hoc run."""
        return label(self.extra.get("schedule"), "extra.schedule") or None

    @property
    def consecutive(self) -> int:
        """K: passing checks in a row that meant recovered."""
        value = self.extra.get("consecutive")
        return value if isinstance(value, int) and not isinstance(value, bool) else 3

    @property
    def lost_ranges(self) -> list[tuple[int, int]]:
        raw = self.measured.lost_seqs if self.measured.lost_seqs is not None else self.extra.get("lost_seqs")
        return [(int(r[0]), int(r[1])) for r in raw or [] if isinstance(r, list | tuple) and len(r) == 2]

    @property
    def unannounced(self) -> Unannounced | None:
        return Unannounced.from_value(self.extra.get("unannounced"))

    @property
    def engagement(self) -> Engagement | None:
        value = self.extra.get("engagement")
        return Engagement.from_dict(value) if isinstance(value, dict) else None

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["status"] = self.status.value
        if self.people is None:
            del data["people"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DrillResult:
        """The record of a journal file's dict. A value of the wrong type raises ValueError naming
        the key and the types it may have (a damaged or foreign file, not a drillbook record)."""
        if data.get("kind", DRILL_KIND) != DRILL_KIND:
            raise ValueError(f"a {data.get('kind')!r} record is not a drill's")
        if isinstance(data.get("status"), dict | list):  # as the journal's frame reads it: a text
            raise ValueError(f"status is {value_kind(data['status'])}, not one of PASS, PARTIAL, FAIL")
        status = str(data.get("status") or "FAIL").upper()
        if status not in Status.__members__:
            raise ValueError(f"status is {data.get('status')!r}, not one of PASS, PARTIAL, FAIL")
        schema = data.get("schema_version", 0)
        if isinstance(schema, bool) or not isinstance(schema, int):
            raise ValueError(f"schema_version is {value_kind(schema)}, expected a whole number")
        top = _build(_Top, {k: v for k, v in data.items() if k not in _NESTED}, "")
        extra = dict(top.extra)
        label(extra.get("schedule"), "extra.schedule")  # a label, as the history reads it
        changes = data.get("changes")
        if changes is None:  # written before the key
            changes = extra.get("changes") or []
        if not isinstance(changes, list):
            raise ValueError(f"changes is {value_kind(changes)}, expected an array")
        people = data.get("people")
        return cls(
            run_id=top.run_id,
            drill=_build(DrillInfo, _drill_table(data), "drill"),
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
            extra=extra,
            schema_version=schema,
            prev_hash=top.prev_hash,
            hash=top.hash,
            causes=[Reason.from_dict(c) for c in top.causes if isinstance(c, dict)],
            changes=[_build(FaultRecord, c, f"changes[{i}]") for i, c in enumerate(changes)],
            people=People.from_dict(people) if isinstance(people, dict) else None,
            not_run=_list(NotRun, data, "not_run"),
            calls=_list(ControlCall, data, "calls"),
        )


@dataclass
class SignOff:
    """A signature on a suite run's DR Test Report, chained into the journal like a drill record.

    ``report_hash`` is what was signed (:func:`drillbook.harness.signoff.report_hash`
    over the run's drill records): a report whose records give another hash today
    was changed after signing.
    """

    run_id: str
    role: str
    name: str
    signed_at: str
    report_hash: str
    records: list[str] = field(default_factory=list)  # the record ids signed, in chain order
    note: str = ""
    record_id: str | None = None
    kind: str = SIGNOFF_KIND
    schema_version: int = SCHEMA_VERSION
    prev_hash: str | None = None
    hash: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SignOff:
        if data.get("kind") != SIGNOFF_KIND:
            raise ValueError("not a sign-off record")
        return _build(cls, data, "")


def kind_of(data: Any) -> str:
    """What a parsed journal record is: ``"drill"`` (the default) or ``"signoff"``."""
    return str(data.get("kind") or DRILL_KIND) if isinstance(data, dict) else DRILL_KIND


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


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
    causes: list[Any] = field(default_factory=list)


_NESTED = ("drill", "environment", "targets", "measured", "timeline", "phases", "faults", "verification",
           "status", "schema_version", "changes", "people", "kind", "not_run", "calls")


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


#: The drill's labels: text, read as :func:`label` reads them (the history's frame too).
_LABELS = ("scenario", "tier", "option", "component", "description")


def _drill_table(data: dict[str, Any]) -> dict[str, Any]:
    table = {"nodeid": "", **_table(data, "drill")}
    for key in _LABELS:
        if key in table:
            table[key] = label(table[key], f"drill.{key}")
    table["scenario"] = table.get("scenario") or "unknown"
    return table


def label(value: Any, where: str) -> str | None:
    """A label of a record (a scenario, a tier, an option) as text: any scalar, as older records
    wrote some as numbers; None for none (null or false); an object or an array is damage.
    The one rule for every reader of records, so a run's report and the history agree."""
    if isinstance(value, dict | list):
        raise ValueError(f"{where} is {value_kind(value)}, expected a text")
    return None if value is None or value is False else str(value)


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
            wanted = " or ".join(sorted({_WORDS.get(t, t.__name__) for t in accepted}))
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


#: A field's type as an error message names it.
_WORDS: dict[Any, str] = {
    str: "a text", int: "a whole number", float: "a number", bool: "true or false",
    dict: "an object", list: "an array", type(None): "null",
}


def value_kind(value: Any) -> str:
    """A JSON value's kind for an error message: "a string", "an array", "a number (3)"."""
    if value is None:
        return "null"
    name = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(type(value))
    if isinstance(value, float) and not math.isfinite(value):
        return f"a non-finite number ({value!r})"
    if name is None and isinstance(value, int | float):
        return f"a number ({value!r})"[:60]
    return name or f"a {type(value).__name__} ({value!r})"[:60]
