"""The view model of a DR Test Report, built from journal records only.

Every figure a report prints is computed here from :class:`DrillResult`; the
templates only lay it out. The JSON format is this model, serialised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from drillbook.harness.durations import format_duration
from drillbook.harness.records import SCHEMA_VERSION, DrillResult, Person, Status, Verification
from drillbook.harness.redact import redact_text
from drillbook.reports import timefmt
from drillbook.reports.findings import Finding, PhaseFigures, Severity, findings
from drillbook.reports.journals import Entry, RunRecords, chain_state
from drillbook.reports.options import ReportOptions
from drillbook.reports.reference import (
    EXPECTED_TIMELINE,
    EXPECTED_TIMELINE_SOURCE,
    PROCEDURE_PHASES,
    procedure_phase,
)

KEY_EVENTS = (
    "test start",
    "fault injected",
    "issue detected",
    "phase start",
    "phase end",
    "recovery complete",
    "test end",
)
_NOT_TOOLS = {"platform", "machine", "executable", "git_sha", "config_hash"}


@dataclass(frozen=True)
class Identity:
    report_id: str
    date: str
    test_type: str  # the drill's tier
    schedule: str  # the tier the suite ran as
    announced: bool
    announcement: str  # "announced", or "UNANNOUNCED" with the sealed plan's times and commitment check
    scenario: str
    option: str
    description: str
    component: str
    severity: str
    led_by: str
    participants: tuple[Person, ...]
    environment: str
    nodeid: str
    run_id: str
    record_id: str


@dataclass(frozen=True)
class Objective:
    text: str
    met: bool | None  # None: not measurable in this drill


@dataclass(frozen=True)
class Comparison:
    """Measured against target, for RTO or RPO."""

    name: str
    measured_s: float | None
    target_s: float | None
    source: str
    met: bool | None
    measured: str
    target: str
    verdict: str  # "met, 4.59s (92%) under target", "missed by 710ms (+178%)", ...


@dataclass(frozen=True)
class TimelineRow:
    at: str
    clock: str
    since_start_s: float | None
    since_fault: str
    event: str
    detail: str
    key: bool


@dataclass(frozen=True)
class PhaseRow:
    name: str
    started: str
    start_offset_s: float | None  # since the test start
    duration_s: float | None  # None: this procedure phase was not timed by the drill
    duration: str
    expected_s: float | None
    expected: str
    expected_source: str
    procedure_s: float | None  # the DR procedures' expectation for this phase
    cumulative: str
    procedure_cumulative: str
    state: str  # within | over | failed | no expectation | not timed
    over: str
    detail: str


@dataclass(frozen=True)
class LedgerFigures:
    present: bool
    acked: int | None
    lost: int | None
    indeterminate: int | None
    unexpected: int | None
    acked_after_fault: int | None
    lost_after_fault: int | None
    lost_ranges: tuple[str, ...]


@dataclass(frozen=True)
class FaultRow:
    name: str
    params: str
    injected_at: str
    reverted_at: str
    revert_error: str


@dataclass(frozen=True)
class IssueRow:
    number: int
    kind: str
    severity: str
    issue: str
    action: str


@dataclass(frozen=True)
class ActionItem:
    text: str
    owner: str
    due: str


@dataclass(frozen=True)
class Evidence:
    environment: str
    fingerprint: tuple[tuple[str, str], ...]
    git_sha: str
    tool_versions: tuple[tuple[str, str], ...]
    config_hash: str
    journal_dir: str
    journal_file: str
    record_hash: str
    prev_hash: str
    chain_verified: bool | None
    chain: str
    schema_version: int
    schema_note: str


@dataclass(frozen=True)
class Marks:
    """Offsets in seconds since the test start, for the timeline chart."""

    span_s: float
    fault_s: float | None
    detected_s: float | None
    recovered_s: float | None
    rto_target_s: float | None  # fault + RTO target


@dataclass(frozen=True)
class DrillReport:
    identity: Identity
    status: str
    summary: str
    reasons: tuple[str, ...]
    objectives: tuple[Objective, ...]
    timeline: tuple[TimelineRow, ...]
    key_times: dict[str, str]
    rto: Comparison
    rpo: Comparison
    detect: str
    phases: tuple[PhaseRow, ...]
    ledger: LedgerFigures
    verification: tuple[Verification, ...]
    faults: tuple[FaultRow, ...]
    issues: tuple[IssueRow, ...]
    improvements: tuple[str, ...]
    action_items: tuple[ActionItem, ...]
    sign_off: tuple[Person, ...]
    evidence: Evidence
    marks: Marks


@dataclass(frozen=True)
class RunReport:
    report_id: str
    run_id: str
    status: str
    counts: dict[str, int]
    date: str
    schedule: str
    environment: str
    led_by: str
    participants: tuple[Person, ...]
    generated_at: str
    generator: str
    results_dir: str
    chain_ok: bool | None
    chain: str
    total_records: int
    drills: tuple[DrillReport, ...] = field(default_factory=tuple)


WORST = (Status.FAIL.value, Status.PARTIAL.value, Status.PASS.value)


def build_run(
    run: RunRecords, options: ReportOptions, *, generated_at: datetime, generator: str
) -> RunReport:
    drills = tuple(build_drill(e, run, options) for e in run.entries)
    counts = {s: sum(1 for d in drills if d.status == s) for s in reversed(WORST)}
    status = next(s for s in WORST if counts[s]) if drills else Status.FAIL.value
    first = drills[0].identity
    ok, text = chain_state(run.chain, run.total_records - 1)
    if run.chain.ok:
        text = f"verified: {run.chain.records} records, every hash and link intact"
    elif ok is not None:
        text = f"BROKEN at {run.chain.broken_at.name if run.chain.broken_at else '?'}: {run.chain.problem}"
    return RunReport(
        report_id=f"DRR-{run.run_id}",
        run_id=run.run_id,
        status=status,
        counts=counts,
        date=first.date,
        schedule=first.schedule,
        environment=first.environment,
        led_by=options.led_by,
        participants=options.participants,
        generated_at=timefmt.stamp(generated_at),
        generator=generator,
        results_dir=str(run.directory),
        chain_ok=run.chain.ok if ok is not None else None,
        chain=text,
        total_records=run.total_records,
        drills=drills,
    )


def build_drill(entry: Entry, run: RunRecords, options: ReportOptions) -> DrillReport:
    r = entry.result
    start = timefmt.parse_iso(r.started_at) or _first_event(r)
    fault = _event_time(r, "fault injected")
    marks = _marks(r, start, fault)
    phases = _phases(r, start)
    found = findings(
        r,
        [
            PhaseFigures(p.name, p.duration_s, *_expectation(p.name, p.expected_s), p.passed, p.detail)
            for p in r.phases
        ],
    )
    date = timefmt.day(start)
    issues = tuple(IssueRow(i, f.kind, str(f.severity), f.issue, f.action) for i, f in enumerate(found, 1))
    return DrillReport(
        identity=_identity(r, date, options),
        status=r.status.value,
        summary=_summary(r),
        reasons=tuple(r.reasons) or _implied_reasons(r),
        objectives=_objectives(r),
        timeline=tuple(_timeline_row(e.at, e.event, e.detail, start, fault) for e in r.timeline),
        key_times=_key_times(r),
        rto=_compare("RTO", r.measured.rto_s, r.targets.rto_s, r.targets.rto_source),
        rpo=_compare("RPO", r.measured.rpo_s, r.targets.rpo_s, r.targets.rpo_source),
        detect=format_duration(r.measured.detect_s) if r.measured.detect_s is not None else "not detected",
        phases=phases,
        ledger=_ledger(r),
        verification=tuple(r.verification),
        faults=tuple(
            FaultRow(
                f.name, _params(f.params), f.injected_at or "", f.reverted_at or "", f.revert_error or ""
            )
            for f in r.faults
        ),
        issues=issues,
        improvements=tuple(dict.fromkeys(f.improvement for f in found)),
        action_items=_action_items(r, found, start, options),
        sign_off=options.sign_off,
        evidence=_evidence(entry, run),
        marks=marks,
    )


def _first_event(r: DrillResult) -> datetime | None:
    return timefmt.parse_iso(r.timeline[0].at) if r.timeline else None


def _event_time(r: DrillResult, name: str) -> datetime | None:
    return next((timefmt.parse_iso(e.at) for e in r.timeline if e.event == name), None)


def _identity(r: DrillResult, date: str, options: ReportOptions) -> Identity:
    record_id = r.record_id or f"{r.run_id}-{(r.hash or '')[:8]}"
    unannounced = r.extra.get("unannounced")
    return Identity(
        report_id=f"DRR-{record_id}",
        date=date,
        test_type=r.drill.tier or "unspecified",
        schedule=str(r.extra.get("schedule") or "ad hoc"),
        announced=not bool(unannounced),
        announcement=_announcement(unannounced),
        scenario=r.drill.scenario,
        option=r.drill.option or "",
        description=r.drill.description or "",
        component=r.drill.component or "",
        severity=f"Severity {r.drill.severity}" if r.drill.severity else "",
        led_by=options.led_by,
        participants=options.participants,
        environment=r.environment.name,
        nodeid=r.drill.nodeid,
        run_id=r.run_id,
        record_id=record_id,
    )


def _announcement(value: Any) -> str:
    """``extra["unannounced"]``: absent (announced), true, or the unannounced drill's reveal."""
    if not value:
        return "announced"
    if not isinstance(value, dict):
        return "UNANNOUNCED"
    parts = [
        f"{label} {value[key]}"
        for key, label in (
            ("sealed_at", "plan sealed"),
            ("scheduled_at", "scheduled"),
            ("revealed_at", "revealed"),
        )
        if value.get(key)
    ]
    if "verified" in value:
        parts.append("commitment verified" if value["verified"] else "commitment NOT verified")
    return "UNANNOUNCED" + (f" ({', '.join(parts)})" if parts else "")


def _summary(r: DrillResult) -> str:
    faults = ", ".join(f.name for f in r.faults) or "no fault"
    rto = format_duration(r.measured.rto_s) if r.measured.rto_s is not None else "no recovery"
    return (
        f"{r.status.value}: {r.drill.scenario} ({faults}) on {r.environment.name}; RTO {rto} "
        f"(target {format_duration(r.targets.rto_s)}), RPO {format_duration(r.measured.rpo_s)} "
        f"(target {format_duration(r.targets.rpo_s)})"
    )


def _implied_reasons(r: DrillResult) -> tuple[str, ...]:
    """Pre-1 records carry no reasons: state the ones their figures show."""
    out = []
    for name, measured, target in (
        ("RTO", r.measured.rto_s, r.targets.rto_s),
        ("RPO", r.measured.rpo_s, r.targets.rpo_s),
    ):
        if measured is not None and target is not None and measured > target:
            out.append(
                f"{name} target missed: measured {format_duration(measured)} > target "
                f"{format_duration(target)} (by {format_duration(measured - target)})"
            )
    out += [f"verification failed: {v.name}" for v in r.verification if not v.passed]
    return tuple(out)


def _objectives(r: DrillResult) -> tuple[Objective, ...]:
    t, m = r.targets, r.measured
    consecutive = r.extra.get("consecutive", 3)
    out = []
    if t.rto_s is not None:
        met = None if not r.faults else (m.rto_s is not None and m.rto_s <= t.rto_s)
        out.append(
            Objective(
                f"Restore service (the steady state holding {consecutive} checks in a row) within "
                f"the RTO target of {format_duration(t.rto_s)} ({t.rto_source or 'source not recorded'})",
                met,
            )
        )
    if t.rpo_s is not None:
        met = None if m.rpo_s is None else m.rpo_s <= t.rpo_s
        out.append(
            Objective(
                f"Lose no acknowledged write older than the RPO target of {format_duration(t.rpo_s)} "
                f"({t.rpo_source or 'source not recorded'})",
                met,
            )
        )
    if r.verification:
        out.append(
            Objective(
                "Pass every verification check: " + ", ".join(v.name for v in r.verification),
                all(v.passed for v in r.verification),
            )
        )
    if r.faults:
        out.append(
            Objective(
                "Revert every injected fault, leaving the environment in its steady state",
                not any(f.revert_error for f in r.faults)
                and not any(x.startswith("steady state does not hold after revert") for x in r.reasons),
            )
        )
    return tuple(out)


def _timeline_row(
    at: str, event: str, detail: str, start: datetime | None, fault: datetime | None
) -> TimelineRow:
    moment = timefmt.parse_iso(at)
    return TimelineRow(
        at=at,
        clock=timefmt.clock(moment),
        since_start_s=timefmt.between(start, moment),
        since_fault=timefmt.offset(timefmt.between(fault, moment)),
        event=event,
        detail=redact_text(detail),
        key=event in KEY_EVENTS,
    )


def _key_times(r: DrillResult) -> dict[str, str]:
    wanted = {
        "test start": "Test start",
        "fault injected": "Fault injected",
        "issue detected": "Issue detected",
        "recovery complete": "Recovery complete",
        "test end": "Test end",
    }
    out = dict.fromkeys(wanted.values(), "")
    for e in r.timeline:
        label = wanted.get(e.event)
        if label and not out[label]:
            out[label] = timefmt.stamp(timefmt.parse_iso(e.at))
    if not out["Recovery complete"]:
        out["Recovery complete"] = "not recovered" if r.faults else "no fault injected"
    if not out["Issue detected"]:
        out["Issue detected"] = "not detected" if r.faults else "no fault injected"
    return out


def _compare(name: str, measured: float | None, target: float | None, source: str | None) -> Comparison:
    if measured is None:
        verdict, met = (
            ("not measured" if name == "RPO" else "not recovered"),
            (None if name == "RPO" else False),
        )
        if target is None:
            met = None
    elif target is None:
        verdict, met = "no target set", None
    elif measured <= target:
        spare = target - measured
        pct = f" ({spare / target:.0%} of the target)" if target > 0 else ""
        verdict, met = f"met, {format_duration(spare)}{pct} to spare", True
    else:
        over = measured - target
        pct = f" (+{over / target:.0%})" if target > 0 else ""
        verdict, met = f"MISSED by {format_duration(over)}{pct}", False
    return Comparison(
        name,
        measured,
        target,
        source or ("" if target is None else "source not recorded"),
        met,
        format_duration(measured) if measured is not None else "n/a",
        format_duration(target) if target is not None else "none",
        verdict,
    )


def _expectation(name: str, expected_s: float | None) -> tuple[float | None, str]:
    if expected_s is not None:
        return expected_s, "drill"
    proc = procedure_phase(name)
    if proc is not None:
        return EXPECTED_TIMELINE[proc], EXPECTED_TIMELINE_SOURCE
    return None, ""


def _phases(r: DrillResult, start: datetime | None) -> tuple[PhaseRow, ...]:
    rows = []
    cumulative = 0.0
    proc_cumulative = 0.0
    timed = {procedure_phase(p.name) for p in r.phases}
    for p in r.phases:
        expected_s, source = _expectation(p.name, p.expected_s)
        proc = procedure_phase(p.name)
        procedure_s = EXPECTED_TIMELINE[proc] if proc else None
        cumulative += p.duration_s
        proc_cumulative += procedure_s or 0.0
        if not p.passed:
            state, over = "failed", ""
        elif expected_s is None:
            state, over = "no expectation", ""
        elif p.duration_s > expected_s:
            extra = p.duration_s - expected_s
            pct = f" (+{extra / expected_s:.0%})" if expected_s > 0 else ""
            state, over = "over", f"+{format_duration(extra)}{pct}"
        else:
            state, over = "within", ""
        rows.append(
            PhaseRow(
                name=p.name,
                started=timefmt.clock(timefmt.parse_iso(p.started_at)),
                start_offset_s=timefmt.between(start, timefmt.parse_iso(p.started_at)),
                duration_s=p.duration_s,
                duration=format_duration(p.duration_s),
                expected_s=expected_s,
                expected=format_duration(expected_s) if expected_s is not None else "",
                expected_source=source,
                procedure_s=procedure_s,
                cumulative=format_duration(cumulative),
                procedure_cumulative=format_duration(proc_cumulative) if procedure_s else "",
                state=state,
                over=over,
                detail=redact_text(p.detail),
            )
        )
    for name in PROCEDURE_PHASES:
        if name not in timed:
            rows.append(
                PhaseRow(
                    name,
                    "",
                    None,
                    None,
                    "not timed",
                    None,
                    "",
                    "",
                    EXPECTED_TIMELINE[name],
                    "",
                    "",
                    "not timed",
                    "",
                    "this drill did not time this phase of the procedure",
                )
            )
    return tuple(rows)


def _ledger(r: DrillResult) -> LedgerFigures:
    m = r.measured
    ranges = r.extra.get("lost_seqs") or []
    text = tuple(f"{a}" if a == b else f"{a}-{b}" for a, b in (tuple(x) for x in ranges if len(x) == 2))
    return LedgerFigures(
        m.acked_writes is not None,
        m.acked_writes,
        m.lost_writes,
        m.indeterminate_writes,
        m.unexpected_writes,
        m.acked_after_fault,
        m.lost_after_fault,
        text,
    )


def _params(params: dict[str, Any]) -> str:
    return redact_text(", ".join(f"{k}={v}" for k, v in sorted(params.items())))


def _action_items(
    r: DrillResult, found: list[Finding], start: datetime | None, options: ReportOptions
) -> tuple[ActionItem, ...]:
    def due(key: str) -> str:
        days = options.due_days.get(key)
        return "" if days is None or start is None else timefmt.day(start + timedelta(days=days))

    rto = format_duration(r.measured.rto_s) if r.measured.rto_s is not None else "(no recovery)"
    items = [
        ActionItem(
            f"Update the DR procedures with the measured RTO {rto} and "
            f"RPO {format_duration(r.measured.rpo_s)} of {r.drill.scenario}",
            options.owner("procedures"),
            due("procedures"),
        )
    ]
    items += [
        ActionItem(
            f"Fix issue #{i} ({f.severity}): {f.action}", options.owner("fix"), due(f.severity.value.lower())
        )
        for i, f in enumerate(found, 1)
        if f.severity is not Severity.LOW or f.kind == "no-target"
    ]
    items.append(
        ActionItem("Schedule training on this scenario's runbook", options.owner("training"), due("training"))
    )
    return tuple(items)


def _evidence(entry: Entry, run: RunRecords) -> Evidence:
    r = entry.result
    fp = r.environment.fingerprint
    ok, chain = chain_state(run.chain, entry.index)
    note = (
        "current schema"
        if r.schema_version == SCHEMA_VERSION
        else f"written by an older drillbook (schema {r.schema_version}); "
        "keys it lacked are shown as not recorded"
    )
    return Evidence(
        environment=r.environment.name,
        fingerprint=tuple((k, redact_text(str(v))) for k, v in sorted(fp.items())),
        git_sha=str(fp.get("git_sha") or "not recorded"),
        tool_versions=tuple(
            (k, str(v)) for k, v in sorted(fp.items()) if k not in _NOT_TOOLS and v is not None
        ),
        config_hash=str(fp.get("config_hash") or "not recorded"),
        journal_dir=str(run.directory),
        journal_file=entry.path.name,
        record_hash=r.hash or "",
        prev_hash=r.prev_hash or "(first record)",
        chain_verified=ok,
        chain=chain,
        schema_version=r.schema_version,
        schema_note=note,
    )


def _marks(r: DrillResult, start: datetime | None, fault: datetime | None) -> Marks:
    end = timefmt.parse_iso(r.finished_at) or (timefmt.parse_iso(r.timeline[-1].at) if r.timeline else None)
    span = timefmt.between(start, end) or 0.0
    fault_s = timefmt.between(start, fault)
    detected = timefmt.between(start, _event_time(r, "issue detected"))
    recovered = fault_s + r.measured.rto_s if fault_s is not None and r.measured.rto_s is not None else None
    target = fault_s + r.targets.rto_s if fault_s is not None and r.targets.rto_s is not None else None
    return Marks(max(span, 0.0), fault_s, detected, recovered, target)
