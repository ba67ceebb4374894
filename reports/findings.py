"""Issues found, generated from a drill's measurements, each with a severity and an action.

Severity rules (documented in docs/reports.md, "Issues found"):

=============================================  =========================================
finding                                        severity
=============================================  =========================================
service not recovered (no RTO measured)        Critical
a fault not reverted / broken after revert     Critical
writes present that were never acknowledged    Critical
RTO or RPO target missed by more than 100 %    Critical (an RPO target of 0 always)
... by more than 25 %                          High
... by up to 25 %                              Medium
a verification failed, a phase failed          High
writes acknowledged after the fault lost       High
the drill could not run or was aborted         High
the probes never saw the fault                 Medium
a phase over its expectation by more than 50 % Medium, else Low
writes with an unknown outcome, no target set  Low
=============================================  =========================================
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from drillbook.harness.durations import format_duration
from drillbook.harness.records import DrillResult


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
class Finding:
    kind: str
    severity: Severity
    issue: str  # what happened, with the numbers
    action: str  # what to do about it
    improvement: str  # the improvement it points to


_KNOWN_REASONS = (
    "RTO target missed",
    "RPO target missed",
    "verification failed",
    "revert failed",
    "data integrity violated",
    "not recovered within",
    "steady state does not hold after revert",
    "steady state did not hold before the fault",
    "drill aborted",
)


def miss_severity(measured: float, target: float) -> Severity:
    if target <= 0 or measured > 2 * target:
        return Severity.CRITICAL
    return Severity.HIGH if measured > 1.25 * target else Severity.MEDIUM


def findings(result: DrillResult, phases: list[PhaseFigures]) -> list[Finding]:
    """Every finding of ``result``, most severe first (stable within a severity)."""
    found = _objectives(result) + _ledger(result) + _reverts(result) + _verification(result)
    found += _phases(phases) + _detection(result) + _other_reasons(result) + _missing_targets(result)
    return sorted(found, key=lambda f: f.severity.rank)


def _miss(what: str, measured: float, target: float, source: str | None) -> tuple[str, Severity]:
    over = measured - target
    pct = f" (+{over / target:.0%})" if target > 0 else ""
    text = (
        f"{what} target missed by {format_duration(over)}{pct}: measured {format_duration(measured)}, "
        f"target {format_duration(target)}" + (f" ({source})" if source else "")
    )
    return text, miss_severity(measured, target)


def _objectives(r: DrillResult) -> list[Finding]:
    out = []
    t, m = r.targets, r.measured
    if r.faults and m.rto_s is None and any(x.startswith("not recovered") for x in r.reasons):
        why = next(x for x in r.reasons if x.startswith("not recovered"))
        out.append(
            Finding(
                "not-recovered",
                Severity.CRITICAL,
                f"Service not recovered: {why} (RTO target {format_duration(t.rto_s)})",
                "Find why the recovery stalled, fix the runbook step, re-run the drill",
                "Make the recovery complete within the hard timeout; alert when it stalls",
            )
        )
    if t.rto_s is not None and m.rto_s is not None and m.rto_s > t.rto_s:
        text, sev = _miss("RTO", m.rto_s, t.rto_s, t.rto_source)
        out.append(
            Finding(
                "rto-missed",
                sev,
                text,
                "Shorten the slowest recovery phase or revise the RTO target with the business",
                "Automate or parallelise the slowest phase of the recovery",
            )
        )
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


def _ledger(r: DrillResult) -> list[Finding]:
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
    if m.lost_after_fault:
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
        out.append(
            Finding(
                "indeterminate",
                Severity.LOW,
                f"{m.indeterminate_writes} writes timed out with an unknown outcome",
                "Check client timeouts and retries around the fault",
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
        for f in r.faults
        if f.revert_error
    ]
    out += [
        Finding(
            "after-revert",
            Severity.CRITICAL,
            f"Steady state broken after revert: {x}",
            "Restore the environment by hand, then find what the revert missed",
            "Check the steady state after every revert in the runbook",
        )
        for x in r.reasons
        if x.startswith("steady state does not hold after revert")
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


def _phases(phases: list[PhaseFigures]) -> list[Finding]:
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
            out.append(
                Finding(
                    "phase-over",
                    sev,
                    f"Phase '{p.name}' took {format_duration(p.duration_s)}, "
                    f"{format_duration(over)} (+{pct:.0%}) over its expected "
                    f"{format_duration(p.expected_s)} ({p.expected_source})",
                    f"Speed up '{p.name}' or correct its expected duration in the DR procedures",
                    f"Re-estimate or automate the '{p.name}' phase",
                )
            )
    return out


def _detection(r: DrillResult) -> list[Finding]:
    if r.faults and r.measured.rto_s is not None and r.measured.detect_s is None:
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


def _other_reasons(r: DrillResult) -> list[Finding]:
    out = []
    for reason in r.reasons:
        if reason.startswith(("steady state did not hold before the fault", "drill aborted")):
            out.append(
                Finding(
                    "not-run",
                    Severity.HIGH,
                    reason[0].upper() + reason[1:],
                    "Fix the environment or the drill so it can run, then re-run it",
                    "Keep the drill environment healthy between drills",
                )
            )
        elif not reason.startswith(_KNOWN_REASONS):
            out.append(
                Finding(
                    "other",
                    Severity.HIGH,
                    reason[0].upper() + reason[1:],
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
