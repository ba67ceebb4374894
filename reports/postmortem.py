"""The post-mortem (the DR procedures' Appendix B) and communication drafts (status page
updates at each stage, the internal messages, the customer email), filled from one drill.

Built on the report's view model, so every time and figure is the journal's.
What a drill cannot know (users affected, revenue) is left as a marked blank.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from drillbook.harness.durations import format_duration
from drillbook.harness.events import Event
from drillbook.harness.phases import ACTIVATION, ASSESSMENT, DETECTION, RESTORATION
from drillbook.harness.records import Person
from drillbook.reports import timefmt
from drillbook.reports.actions import ActionItem
from drillbook.reports.model import DrillReport, TimelineRow
from drillbook.reports.options import ReportOptions
from drillbook.reports.reference import SEVERITY_WORDS, UPDATE_EVERY_S
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
    level: str  # "P2": the incident level follows the drill's severity
    severity: str  # "P2 (High)"
    started: str
    status_page: tuple[Stage, ...]
    updates: tuple[Stage, ...]  # the internal plan's "Incident Updates (Every 15-30 minutes)"
    eta: str
    resolved: str
    duration: str
    data_loss_internal: str
    impact_internal: str
    bridge: str
    slack: str
    escalation: str
    cause: str
    impact: tuple[str, ...]
    resolution: str
    #: Why the status page and the customer email are not to be sent ("" when they are).
    no_customer_message: str = ""
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
    return _clock_of(d.timeline, Event.PHASE_END if end else Event.PHASE_START, name)


def build_postmortem(d: DrillReport, options: ReportOptions, *, today: datetime) -> PostMortem:
    ident = d.identity
    name = f"{ident.scenario}{' / ' + ident.option if ident.option else ''}"
    faults = ", ".join(f.name for f in d.faults) or "no fault"
    rows = d.timeline
    stages = (
        Stage("Incident started (fault injected)", _clock_of(rows, Event.FAULT_INJECTED), faults),
        Stage(
            "Incident detected",
            _clock_of(rows, Event.ISSUE_DETECTED),
            next((r.detail for r in rows if r.event == Event.ISSUE_DETECTED), "not detected by the probes"),
        ),
        Stage(
            "Team assembled",
            _phase_clock(d, ASSESSMENT, end=False),
            "assessment & decision began",
        ),
        Stage(
            "Root cause identified",
            _phase_clock(d, ASSESSMENT, end=True)
            or _phase_clock(d, DETECTION, end=True),
            "assessment complete",
        ),
        Stage(
            "Fix deployed",
            _phase_clock(d, RESTORATION, end=False) or _phase_clock(d, ACTIVATION, end=False),
            "recovery procedure running",
        ),
        Stage(
            "Service restored",
            _clock_of(rows, Event.RECOVERY_COMPLETE),
            f"steady state held; {d.rto.name} {d.rto.measured}"
            if d.rto.measured_s is not None
            else "NOT RESTORED",
        ),
        Stage("Incident closed", _clock_of(rows, Event.TEST_END), f"drill ended {d.status}"),
    )
    lead = ident.led_by or options.led_by
    attendees = ident.participants or options.participants or (
        (Person(lead, "led the drill"),) if lead else ()
    )
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
        f"{ident.environment} environment, a {ident.environment_kind} (scenario {ident.scenario}"
        f"{', option ' + ident.option if ident.option else ''}). "
    )
    if not d.outage:
        text = (
            f"On {ident.date} an {kind} {ident.test_type} planned test ({ident.scenario}"
            f"{', ' + ident.option if ident.option else ''}) ran in the {ident.environment} environment, "
            f"a {ident.environment_kind}; nothing was broken. "
        )
        measured = d.rto.measured if d.rto.measured_s is not None else "NOT COMPLETED"
        text += f"Its {d.recovery_figure} was {measured} against {d.rto.target} ({d.rto.verdict}). "
    elif d.rto.measured_s is not None:
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
    if not d.outage:
        if not led.lost:
            return f"None: the restored copy holds all {led.acked} acknowledged writes (production untouched)"
        return (
            f"None in production (a planned test); the restored copy lacks {led.lost} of {led.acked} "
            f"acknowledged writes, {d.rpo.measured} of writes (target {d.rpo.target}): what a real "
            "restore would lose"
        )
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
    engage = f" Time to engage: {d.escalation.time_to_engage}."
    if not d.outage:
        return f"Nothing to detect: a planned test ({d.recovery_figure} measured).{engage}"
    detected = next((r for r in d.timeline if r.event == Event.ISSUE_DETECTED), None)
    if detected is None:
        return (
            "The steady-state probes never saw the fault. It could not have been detected by the current "
            f"monitoring: add a probe for this failure.{engage}"
        )
    phase = next((p for p in d.phases if p.name == DETECTION and p.duration_s is not None), None)
    text = f"Detected by the steady-state probes {d.detect} after the fault ({detected.detail})."
    if phase is not None and phase.expected:
        text += (
            f" The detection & initial response phase took {phase.duration} against an expected "
            f"{phase.expected} ({phase.state})."
        )
    return (
        text
        + engage
        + " Could it have been detected sooner? Compare the probe interval with the detection time."
    )


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


def incident_level(severity: int | None) -> tuple[str, str]:
    """("P2", "P2 (High)"): the internal plan's incident level follows the drill's severity."""
    if severity is None:
        return "P?", f"severity not set ({BLANK})"
    return f"P{severity}", f"P{severity} ({SEVERITY_WORDS.get(severity, 'unclassified')})"


def build_comms(d: DrillReport, options: ReportOptions) -> Comms:
    ident = d.identity
    rows = d.timeline
    fault_row = next((r for r in rows if r.event == Event.FAULT_INJECTED), None)
    fault_at = timefmt.parse_iso(fault_row.at) if fault_row else None
    eta = ""
    if fault_at is not None and d.rto.target_s is not None:
        eta = timefmt.clock(fault_at + timedelta(seconds=d.rto.target_s)) + " UTC"
    identified = (
        _phase_clock(d, ASSESSMENT, end=True)
        or _phase_clock(d, DETECTION, end=True)
        or _clock_of(rows, Event.ISSUE_DETECTED)
    )
    stages = (
        Stage(
            "Investigating",
            _clock_of(rows, Event.ISSUE_DETECTED) or _clock_of(rows, Event.FAULT_INJECTED),
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
            _clock_of(rows, Event.RECOVERY_COMPLETE),
            "The issue has been resolved and services are being restored.\nWe are monitoring the situation.",
        ),
        Stage(
            "Resolved",
            _clock_of(rows, Event.TEST_END),
            "All services have been fully restored.\nWe apologize for any inconvenience.\n"
            "A full incident report will be provided within 48 hours.",
        ),
    )
    level, severity = incident_level(ident.severity_level)
    faults = ", ".join(f.name for f in d.faults) or "no fault"
    date = timefmt.parse_iso(rows[0].at) if rows else None
    return Comms(
        drill=d,
        organisation=options.organisation,
        incident=f"{ident.scenario}{' / ' + ident.option if ident.option else ''}",
        level=level,
        severity=severity,
        started=d.key_times.get("Fault injected") or d.key_times.get("Test action", ""),
        status_page=stages,
        updates=_updates(d, identified, eta, faults),
        eta=eta,
        resolved=next((v for k, v in d.key_times.items() if k.endswith("complete")), ""),
        duration=timefmt.long_duration(d.rto.measured_s),
        data_loss_internal=_data_loss(d),
        impact_internal=_impact_internal(d),
        bridge=options.bridge or f"{BLANK} (the conference bridge; [report.comms] bridge)",
        slack=options.slack or (f"#incident-{date:%Y%m%d}" if date is not None else BLANK),
        escalation=d.escalation.time_to_engage,
        cause=CAUSES.get(ident.scenario) or _lower_first(ident.description) or BLANK,
        impact=_impact(d),
        resolution=(
            "Our team followed the recovery procedure for this scenario: "
            + ", ".join(p.name for p in d.phases if p.duration_s is not None)
            + "."
        )
        if any(p.duration_s is not None for p in d.phases)
        else BLANK,
        no_customer_message=(
            ""
            if d.outage
            else f"Not to be sent: a planned test ({d.recovery_figure} measured) disrupts nothing customers "
            "can see; the procedures' status page and customer notification are for incidents."
        ),
        prevention=d.improvements,
    )


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _updates(d: DrillReport, identified: str, eta: str, faults: str) -> tuple[Stage, ...]:
    """The internal plan's updates: the cause identified and the recovery started (a planned test:
    its work started), then one every 15 minutes while it lasts."""
    eta = eta or BLANK
    started = _phase_clock(d, ACTIVATION, end=False) or _phase_clock(d, RESTORATION, end=False)
    if d.outage:
        out = [
            Stage(
                "Root cause identified",
                identified,
                f"- Identified root cause: {faults} ({d.identity.description or d.identity.scenario})\n"
                f"- ETA for resolution: {eta}",
            ),
            Stage("Recovery started", started, f"- Started recovery procedure\n- ETA for resolution: {eta}"),
        ]
    else:
        out = [
            Stage(
                "Test started its work",
                started,
                f"- Test in progress ({d.recovery_figure} measured); production not affected",
            )
        ]
    rows = d.timeline
    fault = next((timefmt.parse_iso(r.at) for r in rows if r.event == Event.FAULT_INJECTED), None)
    ends = [timefmt.parse_iso(r.at) for r in rows if r.event in (Event.RECOVERY_COMPLETE, Event.TEST_END)]
    end = ends[0] if ends else None
    tick = fault + timedelta(seconds=UPDATE_EVERY_S) if fault is not None else None
    while tick is not None and end is not None and tick < end and len(out) < 18:
        at = f"{timefmt.clock(tick)} UTC"
        out.append(Stage("Periodic update", at, f"- Still in progress: {_phase_at(d, tick)}"))
        tick += timedelta(seconds=UPDATE_EVERY_S)
    return tuple(out)


def _phase_at(d: DrillReport, moment: datetime) -> str:
    """The phase in progress at ``moment``, from the phases' start offsets and durations."""
    start = timefmt.parse_iso(d.timeline[0].at) if d.timeline else None
    offset = timefmt.between(start, moment)
    for p in d.phases:
        if offset is None or p.start_offset_s is None or p.duration_s is None:
            continue
        if p.start_offset_s <= offset < p.start_offset_s + p.duration_s:
            return p.name
    return "between phases"


def _impact_internal(d: DrillReport) -> str:
    if not d.outage:
        return (
            f"none for users: a planned test ({d.identity.description or d.identity.scenario}); "
            f"{d.recovery_figure} measured"
        )
    down = d.rto.measured if d.rto.measured_s is not None else "the whole drill (not recovered)"
    return f"service unavailable to its steady-state probes for {down}; users affected: {BLANK}"


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
