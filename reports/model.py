"""The view model of a DR Test Report, built from journal records only.

Every figure a report prints is computed here from :class:`DrillResult`; the
templates only lay it out. The JSON format is this model, serialised. The model
reads typed record fields (``causes``, the :class:`~drillbook.harness.events.Event`
of each timeline entry, ``people``, ``changes``); what older records lack is
derived once, in :mod:`drillbook.harness.verdict` and the record's properties.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from drillbook.harness.durations import format_duration
from drillbook.harness.events import KEY_EVENTS, Event
from drillbook.harness.phases import ExpectedTimeline, timeline
from drillbook.harness.records import (
    SCHEMA_VERSION,
    DrillResult,
    NotRun,
    Person,
    ReasonKind,
    Status,
    Unannounced,
    Verification,
)
from drillbook.harness.redact import redact_text
from drillbook.harness.verdict import causes_of
from drillbook.reports import scope, timefmt
from drillbook.reports.actions import ActionItem, action_items
from drillbook.reports.calls import CallsView, calls_view
from drillbook.reports.escalation import Escalation, escalation
from drillbook.reports.findings import Context, PhaseFigures, findings
from drillbook.reports.journals import Entry, RunRecords, chain_state
from drillbook.reports.options import ReportOptions
from drillbook.reports.phasetable import ExpectedTimelineView, PhaseRow, expected_view
from drillbook.reports.phasetable import phases as phase_rows
from drillbook.reports.signoffs import SignOffs, signoffs

_NOT_TOOLS = {"platform", "machine", "executable", "git_sha", "config_hash"}
#: What the key-times row of a drill's recovery is called, by its recovery figure.
_COMPLETE = {
    "RTO": "Recovery complete",
    "restore time": "Restore complete",
    "deploy time": "Deployment complete",
}


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
    severity_level: int | None
    led_by: str
    participants: tuple[Person, ...]
    people_source: str  # "journal", or where the report took them from
    environment: str
    environment_kind: str
    simulation: bool
    nodeid: str
    run_id: str
    record_id: str


@dataclass(frozen=True)
class Objective:
    text: str
    met: bool | None  # None: not measurable in this drill


@dataclass(frozen=True)
class Comparison:
    """Measured against target, for the recovery figure (RTO, restore time, ...) or the RPO."""

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
class LedgerFigures:
    present: bool
    acked: int | None
    lost: int | None
    indeterminate: int | None
    unexpected: int | None
    acked_after_fault: int | None
    lost_after_fault: int | None
    lost_ranges: tuple[str, ...]
    summary: str  # "27 acknowledged, 14 lost, 20 indeterminate" or "no ledger"


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
class Links:
    """Where a drill's evidence and drafts are, relative to the report file."""

    journal_record: str
    postmortem: str
    comms: str


@dataclass(frozen=True)
class Evidence:
    environment: str
    environment_kind: str
    fingerprint: tuple[tuple[str, str], ...]
    git_sha: str
    tool_versions: tuple[tuple[str, str], ...]
    config_hash: str
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
    recovery_figure: str  # "RTO", "restore time", "deploy time"
    outage: bool  # an outage to detect; False for a planned test (a restore test)
    rto: Comparison
    rpo: Comparison
    detect: str
    expected_timeline: ExpectedTimelineView
    phases: tuple[PhaseRow, ...]
    ledger: LedgerFigures
    verification: tuple[Verification, ...]
    #: Parts of the drill not run for a capability the environment lacks, with why.
    not_run: tuple[NotRun, ...]
    faults: tuple[FaultRow, ...]
    changes: tuple[FaultRow, ...]
    issues: tuple[IssueRow, ...]
    improvements: tuple[str, ...]
    action_items: tuple[ActionItem, ...]
    escalation: Escalation
    sign_off: SignOffs
    links: Links
    evidence: Evidence
    marks: Marks
    #: The control-plane calls, per step / fault (empty before records carried them).
    calls: CallsView


@dataclass(frozen=True)
class RunReport:
    report_id: str
    run_id: str
    status: str
    counts: dict[str, int]
    date: str
    schedule: str
    environment: str
    environment_kind: str
    simulation: bool
    led_by: str
    participants: tuple[Person, ...]
    people_source: str
    generated_at: str
    generator: str
    journal: str  # the journal directory, relative to the report file (or as given)
    chain_ok: bool | None
    chain: str
    total_records: int
    scope: scope.Scope
    sign_off: SignOffs
    drills: tuple[DrillReport, ...] = field(default_factory=tuple)


WORST = (Status.FAIL.value, Status.PARTIAL.value, Status.PASS.value)


def build_run(
    run: RunRecords,
    options: ReportOptions,
    *,
    generated_at: datetime,
    generator: str,
    history: Sequence[tuple[Any, ...]] | None = None,
) -> RunReport:
    """The report of ``run``. ``history``: every drill row of the journal, for the scope's
    "last passed" dates (read from ``run.directory`` when None)."""
    signed = signoffs(run, options)
    drills = tuple(build_drill(e, run, options, signed) for e in run.entries)
    counts = {s: sum(1 for d in drills if d.status == s) for s in reversed(WORST)}
    status = next(s for s in WORST if counts[s]) if drills else Status.FAIL.value
    first = drills[0].identity
    ok, text = chain_state(run.chain, run.total_records - 1)
    if run.chain.ok:
        text = f"verified: {run.chain.records} records, every hash and link intact"
    elif ok is not None:
        text = f"BROKEN at {run.chain.broken_at.name if run.chain.broken_at else '?'}: {run.chain.problem}"
    rows = scope.history_rows(run.directory) if history is None else history
    covered = scope.build([e.result for e in run.entries], run.entries[0].result.environment, rows)
    return RunReport(
        report_id=f"DRR-{run.run_id}",
        run_id=run.run_id,
        status=status,
        counts=counts,
        date=first.date,
        schedule=first.schedule,
        environment=first.environment,
        environment_kind=first.environment_kind,
        simulation=first.simulation,
        led_by=first.led_by,
        participants=first.participants,
        people_source=first.people_source,
        generated_at=timefmt.stamp(generated_at),
        generator=generator,
        journal=str(run.directory),
        chain_ok=run.chain.ok if ok is not None else None,
        chain=text,
        total_records=run.total_records,
        scope=covered,
        sign_off=signed,
        drills=drills,
    )


def build_drill(entry: Entry, run: RunRecords, options: ReportOptions, signed: SignOffs) -> DrillReport:
    r = entry.result
    start = timefmt.parse_iso(r.started_at) or _first_event(r)
    fault = _event_time(r, Event.FAULT_INJECTED)
    expected = timeline(r.drill.scenario)
    figure = r.drill.recovery_figure or (expected.recovery_figure if expected else "RTO")
    outage = figure == "RTO"
    kind = scope.environment_kind(r.environment)
    phases = phase_rows(r, start, expected)
    context = Context(
        recovery_figure=figure,
        outage=outage,
        simulation=kind.simulation,
        indeterminate_threshold=options.indeterminate_threshold,
    )
    found = findings(
        r,
        [
            PhaseFigures(p.name, p.duration_s, p.expected_s, p.expected_source, p.state != "failed", p.detail)
            for p in phases
            if p.duration_s is not None
        ],
        context,
    )
    date = timefmt.day(start)
    issues = tuple(IssueRow(i, f.kind, str(f.severity), f.issue, f.action) for i, f in enumerate(found, 1))
    ident = _identity(r, date, options, kind)
    rto = _compare(
        _figure_name(figure), r.measured.rto_s, r.targets.rto_s, _target_source(r, expected, figure)
    )
    rpo = _compare("RPO", r.measured.rpo_s, r.targets.rpo_s, r.targets.rpo_source)
    links = Links(
        journal_record=f"{run.directory}/{entry.path.name}",
        postmortem=draft_name("postmortem", ident.record_id),
        comms=draft_name("comms", ident.record_id),
    )
    return DrillReport(
        identity=ident,
        status=r.status.value,
        summary=_summary(r, figure, rto, _ledger(r)),
        reasons=tuple(c.text for c in causes_of(r)),
        objectives=_objectives(r, figure, outage),
        timeline=_timeline(r, start, fault),
        key_times=_key_times(r, figure, outage),
        recovery_figure=figure,
        outage=outage,
        rto=rto,
        rpo=rpo,
        detect=_detect(r, outage),
        expected_timeline=expected_view(r, expected),
        phases=phases,
        ledger=_ledger(r),
        verification=tuple(r.verification),
        not_run=tuple(r.not_run),
        faults=tuple(_fault_row(f) for f in r.faults),
        changes=tuple(_fault_row(c) for c in r.changes),
        issues=issues,
        improvements=tuple(dict.fromkeys(f.improvement for f in found)),
        action_items=action_items(r, found, start, options, kind.simulation, figure),
        escalation=escalation(r, options),
        sign_off=signed,
        links=links,
        evidence=_evidence(entry, run, kind.text),
        marks=_marks(r, start, fault),
        calls=calls_view(r),
    )


def draft_name(kind: str, record_id: str) -> str:
    """The file name of a drill's post-mortem or comms draft (``kind``), beside the report."""
    from drillbook.reports.render import safe_name

    return f"{kind}-{safe_name(record_id)}.md"


def _figure_name(figure: str) -> str:
    return figure if figure == "RTO" else figure[0].upper() + figure[1:]


def _first_event(r: DrillResult) -> datetime | None:
    return timefmt.parse_iso(r.timeline[0].at) if r.timeline else None


def _event_time(r: DrillResult, event: Event) -> datetime | None:
    return next((timefmt.parse_iso(e.at) for e in r.timeline if e.event == event), None)


def _identity(r: DrillResult, date: str, options: ReportOptions, kind: scope.EnvironmentKind) -> Identity:
    record_id = r.record_id or f"{r.run_id}-{(r.hash or '')[:8]}"
    unannounced = r.unannounced
    if r.people is not None:
        led_by, participants, source = r.people.led_by, tuple(r.people.participants), "journal"
    elif options.led_by or options.participants:
        led_by, participants = options.led_by, options.participants
        source = "the report's options (the journal does not record them)"
    else:
        led_by, participants, source = "", (), "not recorded"
    severity = r.drill.severity
    return Identity(
        report_id=f"DRR-{record_id}",
        date=date,
        test_type=r.drill.tier or "unspecified",
        schedule=r.schedule or "ad hoc",
        announced=unannounced is None,
        announcement=_announcement(unannounced),
        scenario=r.drill.scenario,
        option=r.drill.option or "",
        description=r.drill.description or "",
        component=r.drill.component or "",
        severity=f"Severity {severity}" if severity else "",
        severity_level=severity,
        led_by=led_by,
        participants=participants,
        people_source=source,
        environment=r.environment.name,
        environment_kind=kind.text,
        simulation=kind.simulation,
        nodeid=r.drill.nodeid,
        run_id=r.run_id,
        record_id=record_id,
    )


def _announcement(shown: Unannounced | None) -> str:
    """An unannounced drill's reveal (``DrillResult.unannounced``), or "announced"."""
    if shown is None:
        return "announced"
    parts = [
        f"{label} {moment}"
        for moment, label in (
            (shown.sealed_at, "plan sealed"),
            (shown.scheduled_at, "scheduled"),
            (shown.revealed_at, "revealed"),
        )
        if moment
    ]
    if shown.verified is not None:
        parts.append("commitment verified" if shown.verified else "commitment NOT verified")
    return "UNANNOUNCED" + (f" ({', '.join(parts)})" if parts else "")


def _summary(r: DrillResult, figure: str, cmp: Comparison, ledger: LedgerFigures) -> str:
    faults = ", ".join(f.name for f in r.faults) or "no fault"
    measured = cmp.measured if cmp.measured_s is not None else ("no recovery" if figure == "RTO" else "none")
    return (
        f"{r.status.value}: {r.drill.scenario} ({faults}) on {r.environment.name}; {figure} {measured} "
        f"(target {format_duration(r.targets.rto_s)}), RPO {format_duration(r.measured.rpo_s)} "
        f"(target {format_duration(r.targets.rpo_s)}); writes: {ledger.summary}"
    )


def _objectives(r: DrillResult, figure: str, outage: bool) -> tuple[Objective, ...]:
    t, m = r.targets, r.measured
    out = []
    if t.rto_s is not None:
        met = None if not r.faults else (m.rto_s is not None and m.rto_s <= t.rto_s)
        source = t.rto_source or "source not recorded"
        text = (
            f"Restore service (the steady state holding {r.consecutive} checks in a row) within "
            f"the RTO target of {format_duration(t.rto_s)} ({source})"
            if outage
            else f"Complete the test ({figure}: until its checks hold {r.consecutive} times in a row) "
            f"within {format_duration(t.rto_s)} ({source})"
        )
        out.append(Objective(text, met))
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
        broken = any(c.kind is ReasonKind.BROKEN_AFTER_REVERT for c in causes_of(r))
        out.append(
            Objective(
                "Revert every injected fault, leaving the environment in its steady state",
                not any(f.revert_error for f in r.faults) and not broken,
            )
        )
    return tuple(out)


def _timeline(r: DrillResult, start: datetime | None, fault: datetime | None) -> tuple[TimelineRow, ...]:
    rows = [_timeline_row(e.at, e.event, e.detail, start, fault) for e in r.timeline]
    # Records written before the engine sorted its timeline hold events dated back (the
    # first of the K passing checks) after later ones: the log is shown in time order.
    far = datetime.max.replace(tzinfo=start.tzinfo) if start is not None else None
    return tuple(
        sorted(rows, key=lambda row: timefmt.parse_iso(row.at) or far or datetime.max)
        if far is not None
        else rows
    )


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


def _key_times(r: DrillResult, figure: str, outage: bool) -> dict[str, str]:
    complete = _COMPLETE.get(figure, f"{_figure_name(figure)} complete")
    wanted = {
        Event.TEST_START: "Test start",
        Event.FAULT_INJECTED: "Fault injected" if outage else "Test action",
        Event.ISSUE_DETECTED: "Issue detected",
        Event.RECOVERY_COMPLETE: complete,
        Event.TEST_END: "Test end",
    }
    out = dict.fromkeys(wanted.values(), "")
    for e in sorted(r.timeline, key=lambda e: e.at):
        label = wanted.get(e.event)  # type: ignore[call-overload]  # an Event is its string
        if label and not out[label]:
            out[label] = timefmt.stamp(timefmt.parse_iso(e.at))
    if not out[complete]:
        out[complete] = ("not recovered" if outage else "not completed") if r.faults else "no fault injected"
    if not outage:
        out["Issue detected"] = "not applicable: a planned test, nothing to detect"
    elif not out["Issue detected"]:
        out["Issue detected"] = "not detected" if r.faults else "no fault injected"
    return out


def _detect(r: DrillResult, outage: bool) -> str:
    if not outage:
        return "not applicable (a planned test)"
    return format_duration(r.measured.detect_s) if r.measured.detect_s is not None else "not detected"


def _compare(name: str, measured: float | None, target: float | None, source: str | None) -> Comparison:
    if measured is None:
        verdict, met = (
            ("not measured" if name == "RPO" else "not recovered" if name == "RTO" else "not completed"),
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


def _target_source(r: DrillResult, expected: ExpectedTimeline | None, figure: str) -> str | None:
    if figure == "RTO" or expected is None:
        return r.targets.rto_source
    return f"{r.targets.rto_source or 'drill'}; {expected.source}"


def _ledger(r: DrillResult) -> LedgerFigures:
    m = r.measured
    text = tuple(f"{a}" if a == b else f"{a}-{b}" for a, b in r.lost_ranges)
    present = m.acked_writes is not None
    if present:
        summary = f"{m.acked_writes} acknowledged, {m.lost_writes or 0} lost, {m.indeterminate_writes or 0} "
        summary += "of unknown outcome"
        if m.lost_after_fault:
            summary += f", {m.lost_after_fault} acknowledged after the fault lost"
    else:
        summary = "not measured (no ledger)"
    return LedgerFigures(
        present,
        m.acked_writes,
        m.lost_writes,
        m.indeterminate_writes,
        m.unexpected_writes,
        m.acked_after_fault,
        m.lost_after_fault,
        text,
        summary,
    )


def _fault_row(f: Any) -> FaultRow:
    return FaultRow(f.name, _params(f.params), f.injected_at or "", f.reverted_at or "", f.revert_error or "")


def _params(params: dict[str, Any]) -> str:
    return redact_text(", ".join(f"{k}={v}" for k, v in sorted(params.items())))


def _evidence(entry: Entry, run: RunRecords, kind: str) -> Evidence:
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
        environment_kind=kind,
        fingerprint=tuple((k, redact_text(str(v))) for k, v in sorted(fp.items())),
        git_sha=str(fp.get("git_sha") or "not recorded"),
        tool_versions=tuple(
            (k, str(v)) for k, v in sorted(fp.items()) if k not in _NOT_TOOLS and v is not None
        ),
        config_hash=str(fp.get("config_hash") or "not recorded"),
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
    detected = timefmt.between(start, _event_time(r, Event.ISSUE_DETECTED))
    recovered = fault_s + r.measured.rto_s if fault_s is not None and r.measured.rto_s is not None else None
    target = fault_s + r.targets.rto_s if fault_s is not None and r.targets.rto_s is not None else None
    return Marks(max(span, 0.0), fault_s, detected, recovered, target)
