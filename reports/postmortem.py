"""The post-mortem (the DR procedures' Appendix B) and communication drafts (status page
updates at each stage, the internal messages, the customer email), filled from one drill.

Built on the report's view model, so every time and figure is the journal's.
What a drill cannot know (users affected, revenue) is left as a marked blank.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from drillbook.harness.durations import format_duration
from drillbook.harness.records import Person
from drillbook.reports import timefmt
from drillbook.reports.model import ActionItem, DrillReport, TimelineRow
from drillbook.reports.options import ReportOptions
from drillbook.reports.render import render, tidy

BLANK = "[to be completed]"

#: Plain-language causes for customers, by DR scenario.
CAUSES = {
    "complete-infrastructure-failure": "an outage of our cloud infrastructure in our primary region",
    "database-corruption": "a problem with our database that required restoring it from a backup",
    "security-breach": "a security incident that required us to revoke and replace access credentials",
    "data-center-failure": "the failure of one of the data centres that host our platform",
    "application-crash": "a software fault that stopped our application from responding",
}


@dataclass(frozen=True)
class Stage:
    """One moment of the story: a post-mortem timeline row or a status page update."""

    label: str
    at: str  # UTC clock time, or "" when the drill did not time it
    detail: str = ""


@dataclass(frozen=True)
class PostMortem:
    drill: DrillReport
    title: str
    incident_date: str
    postmortem_date: str
    attendees: tuple[Person, ...]
    summary: str
    timeline: tuple[Stage, ...]
    duration: str
    users_affected: str
    data_loss: str
    root_cause: str
    detection: str
    resolution: tuple[str, ...]
    went_well: tuple[str, ...]
    went_badly: tuple[str, ...]
    lessons: tuple[str, ...]
    actions: tuple[ActionItem, ...]
    prevention: tuple[str, ...]


@dataclass(frozen=True)
class Comms:
    drill: DrillReport
    organisation: str
    incident: str
    severity: str
    started: str
    status_page: tuple[Stage, ...]
    eta: str
    resolved: str
    duration: str
    data_loss_internal: str
    cause: str
    impact: tuple[str, ...]
    resolution: str
    prevention: tuple[str, ...] = field(default_factory=tuple)


def _clock_of(
    rows: tuple[TimelineRow, ...], event: str, detail: str | None = None, *, last: bool = False
) -> str:
    found = [r for r in rows if r.event == event and (detail is None or r.detail.startswith(detail))]
    if not found:
        return ""
    row = found[-1] if last else found[0]
    return f"{row.clock} UTC"


def _phase_clock(d: DrillReport, name: str, *, end: bool) -> str:
    return _clock_of(d.timeline, "phase end" if end else "phase start", name)


def build_postmortem(d: DrillReport, options: ReportOptions, *, today: datetime) -> PostMortem:
    ident = d.identity
    name = f"{ident.scenario}{' / ' + ident.option if ident.option else ''}"
    faults = ", ".join(f.name for f in d.faults) or "no fault"
    rows = d.timeline
    stages = (
        Stage("Incident started (fault injected)", _clock_of(rows, "fault injected"), faults),
        Stage(
            "Incident detected",
            _clock_of(rows, "issue detected"),
            next((r.detail for r in rows if r.event == "issue detected"), "not detected by the probes"),
        ),
        Stage(
            "Team assembled",
            _phase_clock(d, "assessment & decision", end=False),
            "assessment & decision began",
        ),
        Stage(
            "Root cause identified",
            _phase_clock(d, "assessment & decision", end=True)
            or _phase_clock(d, "detection & initial response", end=True),
            "assessment complete",
        ),
        Stage(
            "Fix deployed",
            _phase_clock(d, "service restoration", end=False) or _phase_clock(d, "DR activation", end=False),
            "recovery procedure running",
        ),
        Stage(
            "Service restored",
            _clock_of(rows, "recovery complete"),
            f"steady state held; RTO {d.rto.measured}" if d.rto.measured_s is not None else "NOT RESTORED",
        ),
        Stage("Incident closed", _clock_of(rows, "test end"), f"drill ended {d.status}"),
    )
    attendees = options.participants or ((Person(options.led_by, "led the drill"),) if options.led_by else ())
    return PostMortem(
        drill=d,
        title=f"DR drill {name} ({ident.record_id})",
        incident_date=ident.date,
        postmortem_date=timefmt.day(today),
        attendees=attendees,
        summary=_summary(d, faults),
        timeline=stages,
        duration=timefmt.long_duration(d.rto.measured_s),
        users_affected=_users(d),
        data_loss=_data_loss(d),
        root_cause=_root_cause(d, faults),
        detection=_detection(d),
        resolution=_resolution(d),
        went_well=_went_well(d),
        went_badly=tuple(i.issue for i in d.issues),
        lessons=d.improvements,
        actions=d.action_items,
        prevention=_prevention(d, options),
    )


def _summary(d: DrillReport, faults: str) -> str:
    ident = d.identity
    kind = "unannounced" if not ident.announced else "announced"
    text = (
        f"On {ident.date} an {kind} {ident.test_type} DR drill injected {faults} into the "
        f"{ident.environment} environment (scenario {ident.scenario}"
        f"{', option ' + ident.option if ident.option else ''}). "
    )
    if d.rto.measured_s is not None:
        text += (
            f"Service was restored in {d.rto.measured} against an RTO target of {d.rto.target} "
            f"({d.rto.verdict}). "
        )
    else:
        text += f"Service was NOT restored within the drill's hard timeout (RTO target {d.rto.target}). "
    text += f"Data loss: {_data_loss(d)}. Result: {d.status}"
    return text + (f" because {'; '.join(d.reasons)}." if d.reasons else ".")


def _users(d: DrillReport) -> str:
    down = d.rto.measured if d.rto.measured_s is not None else "the whole drill"
    return (
        f"{BLANK}: the steady-state probes of {d.identity.component or d.identity.scenario} "
        f"saw the service unavailable for {down}"
    )


def _data_loss(d: DrillReport) -> str:
    led = d.ledger
    if not led.present:
        return "not measured (no write ledger in this drill)"
    if not led.lost and not led.lost_after_fault and (d.rpo.measured_s or 0) == 0:
        return f"None ({led.acked} acknowledged writes, all recovered)"
    lost = f"{led.lost} of {led.acked} acknowledged writes lost"
    if led.lost_after_fault:
        lost += f", and {led.lost_after_fault} acknowledged after the fault"
    if d.rpo.met:
        return f"Within RPO: {d.rpo.measured} of writes (target {d.rpo.target}); {lost}"
    if d.rpo.met is False:
        return f"EXCEEDED RPO: {d.rpo.measured} of writes lost against a target of {d.rpo.target}; {lost}"
    return f"{d.rpo.measured} of writes lost (no RPO target); {lost}"


def _root_cause(d: DrillReport, faults: str) -> str:
    params = "; ".join(f"{f.name}: {f.params}" for f in d.faults)
    what = d.identity.description or d.identity.scenario
    return (
        f"A planned drill: {what}. The injected fault{'s' if len(d.faults) > 1 else ''} "
        f"({params or faults}) caused the outage on purpose; the issues below are what the drill revealed."
    )


def _detection(d: DrillReport) -> str:
    detected = next((r for r in d.timeline if r.event == "issue detected"), None)
    if detected is None:
        return (
            "The steady-state probes never saw the fault. It could not have been detected by the current "
            "monitoring: add a probe for this failure."
        )
    phase = next(
        (p for p in d.phases if p.name == "detection & initial response" and p.duration_s is not None), None
    )
    text = f"Detected by the steady-state probes {d.detect} after the fault ({detected.detail})."
    if phase is not None and phase.expected:
        text += (
            f" The detection & initial response phase took {phase.duration} against an expected "
            f"{phase.expected} ({phase.state})."
        )
    return text + " Could it have been detected sooner? Compare the probe interval with the detection time."


def _resolution(d: DrillReport) -> tuple[str, ...]:
    steps = [
        f"{p.name}: {p.duration}"
        + (f" (expected {p.expected}, {p.state}{' ' + p.over if p.over else ''})" if p.expected else "")
        for p in d.phases
        if p.duration_s is not None
    ]
    steps += [f"verification '{v.name}': {'pass' if v.passed else 'FAIL'}" for v in d.verification]
    steps += [
        f"fault {f.name} {'NOT reverted: ' + f.revert_error if f.revert_error else 'reverted'}"
        for f in d.faults
    ]
    return tuple(steps)


def _went_well(d: DrillReport) -> tuple[str, ...]:
    out = []
    if d.rto.met:
        out.append(f"RTO met: {d.rto.measured} against {d.rto.target} ({d.rto.verdict})")
    if d.rpo.met:
        out.append(f"RPO met: {d.rpo.measured} against {d.rpo.target}")
    if d.ledger.present and not d.ledger.lost and not d.ledger.unexpected:
        out.append(f"No acknowledged write lost ({d.ledger.acked} checked)")
    if d.verification and all(v.passed for v in d.verification):
        out.append(f"All {len(d.verification)} verification checks passed")
    within = [p.name for p in d.phases if p.state == "within"]
    if within:
        out.append("Within their expected time: " + ", ".join(within))
    if d.faults and not any(f.revert_error for f in d.faults):
        out.append("Every injected fault was reverted")
    return tuple(out)


def _prevention(d: DrillReport, options: ReportOptions) -> tuple[str, ...]:
    out = list(d.improvements)
    cadence = options.cadence_days.get(d.identity.test_type)
    start = timefmt.parse_iso(d.timeline[0].at) if d.timeline else None
    if cadence and start is not None:
        out.append(
            f"Run this drill again within its {d.identity.test_type} cadence: by "
            f"{timefmt.day(start + timedelta(days=cadence))}"
        )
    return tuple(out)


def build_comms(d: DrillReport, options: ReportOptions) -> Comms:
    ident = d.identity
    rows = d.timeline
    fault_row = next((r for r in rows if r.event == "fault injected"), None)
    fault_at = timefmt.parse_iso(fault_row.at) if fault_row else None
    eta = ""
    if fault_at is not None and d.rto.target_s is not None:
        eta = timefmt.clock(fault_at + timedelta(seconds=d.rto.target_s)) + " UTC"
    identified = (
        _phase_clock(d, "assessment & decision", end=True)
        or _phase_clock(d, "detection & initial response", end=True)
        or _clock_of(rows, "issue detected")
    )
    stages = (
        Stage(
            "Investigating",
            _clock_of(rows, "issue detected") or _clock_of(rows, "fault injected"),
            "We are investigating reports of service unavailability.\n"
            "Updates will be posted as they become available.",
        ),
        Stage(
            "Identified",
            identified,
            "We have identified the issue and are working on a resolution.\n"
            f"Expected resolution time: {eta or BLANK}",
        ),
        Stage(
            "Monitoring",
            _clock_of(rows, "recovery complete"),
            "The issue has been resolved and services are being restored.\nWe are monitoring the situation.",
        ),
        Stage(
            "Resolved",
            _clock_of(rows, "test end"),
            "All services have been fully restored.\nWe apologize for any inconvenience.\n"
            "A full incident report will be provided within 48 hours.",
        ),
    )
    return Comms(
        drill=d,
        organisation=options.organisation,
        incident=f"{ident.scenario}{' / ' + ident.option if ident.option else ''}",
        severity=ident.severity or "Severity not set",
        started=d.key_times.get("Fault injected", ""),
        status_page=stages,
        eta=eta,
        resolved=d.key_times.get("Recovery complete", ""),
        duration=timefmt.long_duration(d.rto.measured_s),
        data_loss_internal=_data_loss(d),
        cause=CAUSES.get(ident.scenario, ident.description or BLANK),
        impact=_impact(d),
        resolution=(
            "Our team followed the recovery procedure for this scenario: "
            + ", ".join(p.name for p in d.phases if p.duration_s is not None)
            + "."
        )
        if any(p.duration_s is not None for p in d.phases)
        else BLANK,
        prevention=d.improvements,
    )


def _impact(d: DrillReport) -> tuple[str, ...]:
    out = ["You may have been unable to access the platform"]
    led = d.ledger
    if not led.present:
        out.append(f"Data loss: {BLANK} (not measured by this drill)")
    elif not led.lost and not led.lost_after_fault:
        out.append("No data was lost")
    else:
        window = format_duration(d.rpo.measured_s) if d.rpo.measured_s is not None else "a short period"
        out.append(
            f"Changes saved in the {window} before the disruption could not be recovered; "
            "we are contacting the customers concerned"
        )
    out.append(
        "All data remains secure"
        if d.identity.scenario != "security-breach"
        else f"Data security: {BLANK} (confirm with the Security Lead before sending)"
    )
    return tuple(out)


def postmortem_markdown(pm: PostMortem) -> str:
    return tidy(render("postmortem.md.j2", pm=pm, d=pm.drill, blank=BLANK))


def comms_markdown(comms: Comms) -> str:
    return tidy(render("comms.md.j2", c=comms, d=comms.drill, blank=BLANK))
