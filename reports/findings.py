"""Issues found, generated from a drill's measurements, each with a severity and an action.

Severity rules (documented in docs/reports.md, "Issues found"):

==================================================  =========================================
finding                                             severity
==================================================  =========================================
service not recovered (no RTO measured)             Critical
a fault not reverted / broken after revert          Critical
writes present that were never acknowledged         Critical
RTO or RPO target missed by more than 100 %         Critical (an RPO target of 0 always)
... by more than 25 %                               High
... by up to 25 %                                   Medium
a verification failed, a phase failed               High
writes acknowledged after the fault lost (outage)   High
the drill could not run or was aborted              High
nobody acknowledged the page                        High
acknowledged writes lost within the RPO target      Medium
writes of unknown outcome above the threshold       Medium (at or below it: Low)
the probes never saw the fault (an outage only)     Medium
the page acknowledged later than its level allows   Medium
a phase over its expectation by more than 50 %      Medium, else Low
no RTO target                                       Low
==================================================  =========================================

Reasons are read by their typed kind (:class:`~drillbook.harness.records.ReasonKind`),
never by their wording. Actions never propose changing a target or a procedure's
expected time from a simulation's figures (``Context.simulation``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from drillbook.harness.durations import format_duration
from drillbook.harness.records import DrillResult, ReasonKind
from drillbook.harness.verdict import causes_of


class Severity(Enum):
    CRITICAL = "Critical"
    HIGH = "High"
    MEDIUM = "Medium"
    LOW = "Low"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class PhaseFigures:
    """What findings need of a phase (built by the model from the record)."""

    name: str
    duration_s: float
    expected_s: float | None
    expected_source: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class Context:
    """What a finding's wording depends on besides the record."""

    recovery_figure: str = "RTO"  # or a planned test's figure: "restore time", "deploy time"
    outage: bool = True  # False: a planned test, nothing to detect
    simulation: bool = False  # figures from the local twin: never grounds to change targets
    indeterminate_threshold: int = 10


@dataclass(frozen=True)
class Finding:
    kind: str
    severity: Severity
    issue: str  # what happened, with the numbers
    action: str  # what to do about it
    improvement: str  # the improvement it points to


#: Reason kinds that have a finding of their own below.
_HANDLED = {
    ReasonKind.RTO_MISSED,
    ReasonKind.RPO_MISSED,
    ReasonKind.VERIFICATION_FAILED,
    ReasonKind.REVERT_FAILED,
    ReasonKind.INTEGRITY,
    ReasonKind.NOT_RECOVERED,
    ReasonKind.BROKEN_AFTER_REVERT,
}
_RESTAGE = (
    "re-measure on staging before changing any target or expected time: "
    "a simulation's figures are not production's"
)


def miss_severity(measured: float, target: float) -> Severity:
    if target <= 0 or measured > 2 * target:
        return Severity.CRITICAL
    return Severity.HIGH if measured > 1.25 * target else Severity.MEDIUM


def findings(
    result: DrillResult, phases: list[PhaseFigures], context: Context | None = None
) -> list[Finding]:
    """Every finding of ``result``, most severe first (stable within a severity)."""
    ctx = context or Context()
    found = _objectives(result, ctx) + _ledger(result, ctx) + _reverts(result) + _verification(result)
    found += _phases(phases, ctx) + _detection(result, ctx) + _engagement(result)
    found += _other_reasons(result) + _missing_targets(result)
    return sorted(found, key=lambda f: f.severity.rank)


def _miss(what: str, measured: float, target: float, source: str | None) -> tuple[str, Severity]:
    over = measured - target
    pct = f" (+{over / target:.0%})" if target > 0 else ""
    text = (
        f"{what} target missed by {format_duration(over)}{pct}: measured {format_duration(measured)}, "
        f"target {format_duration(target)}" + (f" ({source})" if source else "")
    )
    return text, miss_severity(measured, target)


def _objectives(r: DrillResult, ctx: Context) -> list[Finding]:
    out = []
    t, m = r.targets, r.measured
    stalled = next((c for c in causes_of(r) if c.kind is ReasonKind.NOT_RECOVERED), None)
    if r.faults and m.rto_s is None and stalled is not None:
        what = "Service not recovered" if ctx.outage else f"Test not completed ({ctx.recovery_figure})"
        out.append(
            Finding(
                "not-recovered",
                Severity.CRITICAL,
                f"{what}: {stalled.text} (target {format_duration(t.rto_s)})",
                "Find why the recovery stalled, fix the runbook step, re-run the drill",
                "Make the recovery complete within the hard timeout; alert when it stalls",
            )
        )
    if t.rto_s is not None and m.rto_s is not None and m.rto_s > t.rto_s:
        name = "RTO" if ctx.outage else ctx.recovery_figure[0].upper() + ctx.recovery_figure[1:]
        text, sev = _miss(name, m.rto_s, t.rto_s, t.rto_source)
        action = (
            "Shorten the slowest recovery phase; " + _RESTAGE
            if ctx.simulation
            else "Shorten the slowest recovery phase or revise the target with the business"
        )
        out.append(Finding("rto-missed", sev, text, action, "Automate or parallelise the slowest phase"))
    if t.rpo_s is not None and m.rpo_s is not None and m.rpo_s > t.rpo_s:
        text, sev = _miss("RPO", m.rpo_s, t.rpo_s, t.rpo_source)
        lost = f"; {m.lost_writes} of {m.acked_writes} acknowledged writes lost" if m.lost_writes else ""
        out.append(
            Finding(
                "rpo-missed",
                sev,
                text + lost,
                "Reduce replication/backup lag (WAL shipping, snapshot frequency) below the RPO",
                "Shorten the window of unreplicated writes",
            )
        )
    return out


def _share(part: int, whole: int | None) -> str:
    return f" ({part / whole:.0%})" if whole else ""


def _ledger(r: DrillResult, ctx: Context) -> list[Finding]:
    m = r.measured
    out = []
    if m.unexpected_writes:
        out.append(
            Finding(
                "integrity",
                Severity.CRITICAL,
                f"Data integrity violated: {m.unexpected_writes} writes present that were never acknowledged",
                "Investigate the duplicate or phantom writes before the next drill",
                "Make writes idempotent and their acknowledgement reliable",
            )
        )
    rpo_missed = m.rpo_s is not None and r.targets.rpo_s is not None and m.rpo_s > r.targets.rpo_s
    if m.lost_writes and not rpo_missed:
        window = f"RPO {format_duration(m.rpo_s)}" if m.rpo_s is not None else "RPO not measured"
        target = (
            f"within the RPO target of {format_duration(r.targets.rpo_s)}"
            if r.targets.rpo_s is not None
            else "no RPO target"
        )
        where = "the restored copy lacks them" if not ctx.outage else "absent after recovery"
        out.append(
            Finding(
                "acked-lost",
                Severity.MEDIUM,
                f"{m.lost_writes} of {m.acked_writes} acknowledged writes lost"
                f"{_share(m.lost_writes, m.acked_writes)}"
                f" ({where}), {target} ({window}): a PASS does not mean no loss",
                "Find which writes were lost and why the recovery point lies before them; tell whoever owns "
                "the data what a recovery of this kind loses",
                "Move the recovery point closer to the failure (more frequent snapshots, WAL archiving)",
            )
        )
    if m.lost_after_fault and ctx.outage:  # a planned test's copy never held later writes
        out.append(
            Finding(
                "lost-after-fault",
                Severity.HIGH,
                f"{m.lost_after_fault} of {m.acked_after_fault} writes acknowledged after the fault "
                "were lost (acknowledged by a node that did not survive)",
                "Fence the failed primary before promotion; stop acknowledging writes on it",
                "Fence old primaries during failover (no split brain)",
            )
        )
    if m.indeterminate_writes:
        above = m.indeterminate_writes > ctx.indeterminate_threshold
        out.append(
            Finding(
                "indeterminate",
                Severity.MEDIUM if above else Severity.LOW,
                f"{m.indeterminate_writes} writes timed out with an unknown outcome"
                + (f", more than the threshold of {ctx.indeterminate_threshold}" if above else ""),
                "Check client timeouts and retries around the fault; find out whether those writes landed",
                "Give writes an idempotency key so retries are safe",
            )
        )
    return out


def _reverts(r: DrillResult) -> list[Finding]:
    out = [
        Finding(
            "revert",
            Severity.CRITICAL,
            f"Fault {f.name} was not reverted: {f.revert_error}",
            "Run `drillbook revert` now and check the environment; fix the fault's revert",
            f"Make the revert of {f.name} reliable and idempotent",
        )
        for f in [*r.faults, *r.changes]
        if f.revert_error
    ]
    out += [
        Finding(
            "after-revert",
            Severity.CRITICAL,
            f"Steady state broken after revert: {c.text}",
            "Restore the environment by hand, then find what the revert missed",
            "Check the steady state after every revert in the runbook",
        )
        for c in causes_of(r)
        if c.kind is ReasonKind.BROKEN_AFTER_REVERT
    ]
    return out


def _verification(r: DrillResult) -> list[Finding]:
    return [
        Finding(
            "verification",
            Severity.HIGH,
            f"Verification failed: {v.name}" + (f" ({v.detail})" if v.detail else ""),
            f"Fix what '{v.name}' checks, then re-run the drill",
            f"Add '{v.name}' to the recovery runbook's verification steps",
        )
        for v in r.verification
        if not v.passed
    ]


def _phases(phases: list[PhaseFigures], ctx: Context) -> list[Finding]:
    out = []
    for p in phases:
        if not p.passed:
            out.append(
                Finding(
                    "phase-failed",
                    Severity.HIGH,
                    f"Phase '{p.name}' failed after {format_duration(p.duration_s)}: {p.detail}",
                    f"Fix the '{p.name}' step of the runbook",
                    f"Rehearse the '{p.name}' phase on its own",
                )
            )
        elif p.expected_s is not None and p.duration_s > p.expected_s:
            over = p.duration_s - p.expected_s
            pct = over / p.expected_s if p.expected_s > 0 else float("inf")
            sev = Severity.MEDIUM if pct > 0.5 else Severity.LOW
            action = (
                f"Speed up '{p.name}'; {_RESTAGE}"
                if ctx.simulation
                else f"Speed up '{p.name}' or correct its expected duration in the DR procedures"
            )
            out.append(
                Finding(
                    "phase-over",
                    sev,
                    f"Phase '{p.name}' took {format_duration(p.duration_s)}, "
                    f"{format_duration(over)} (+{pct:.0%}) over its expected "
                    f"{format_duration(p.expected_s)} ({p.expected_source})",
                    action,
                    f"Re-estimate or automate the '{p.name}' phase",
                )
            )
    return out


def _detection(r: DrillResult, ctx: Context) -> list[Finding]:
    if ctx.outage and r.faults and r.measured.rto_s is not None and r.measured.detect_s is None:
        return [
            Finding(
                "not-detected",
                Severity.MEDIUM,
                "The steady-state probes never saw the fault: either it had no effect or the "
                "probes cannot see it",
                "Add a probe that fails when this fault is in effect",
                "Close the monitoring gap for this scenario",
            )
        ]
    return []


def _engagement(r: DrillResult) -> list[Finding]:
    e = r.engagement
    if e is None or e.outcome == "not paged":
        return []
    if e.outcome != "acknowledged":
        return [
            Finding(
                "not-engaged",
                Severity.HIGH,
                f"Nobody acknowledged the page: {e.outcome} after paging {len(e.levels)} level(s)",
                "Check the escalation path's contacts and the paging webhook, then page again",
                "Test every escalation path (the procedures' annual review)",
            )
        ]
    level = next((p for p in e.levels if p.level == e.acked_level), None)
    limit = level.respond_within_s if level is not None else None
    if e.time_to_engage_s is not None and limit is not None and e.time_to_engage_s > limit:
        return [
            Finding(
                "engaged-late",
                Severity.MEDIUM,
                f"Time to engage {format_duration(e.time_to_engage_s)}, over level {e.acked_level}'s "
                f"{format_duration(limit)}",
                "Find why the page was acknowledged late (rotation, notification settings)",
                "Keep the on-call rotation and its notifications current",
            )
        ]
    return []


def _other_reasons(r: DrillResult) -> list[Finding]:
    out = []
    for cause in causes_of(r):
        if cause.kind in _HANDLED:
            continue
        text = cause.text[0].upper() + cause.text[1:] if cause.text else cause.kind.value
        if cause.kind in (ReasonKind.STEADY_STATE_NOT_MET, ReasonKind.ABORTED):
            out.append(
                Finding(
                    "not-run",
                    Severity.HIGH,
                    text,
                    "Fix the environment or the drill so it can run, then re-run it",
                    "Keep the drill environment healthy between drills",
                )
            )
        else:
            out.append(
                Finding(
                    "other",
                    Severity.HIGH,
                    text,
                    "Investigate and re-run the drill",
                    "Address the cause above",
                )
            )
    return out


def _missing_targets(r: DrillResult) -> list[Finding]:
    missing = [n for n, v in (("RTO", r.targets.rto_s),) if v is None]
    return [
        Finding(
            "no-target",
            Severity.LOW,
            f"No {n} target: the drill measures it against nothing",
            f"Set an {n} target for this component (marker or [targets] in the config)",
            f"Agree an {n} objective for {r.drill.component or r.drill.scenario}",
        )
        for n in missing
    ]
