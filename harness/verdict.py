"""The verdict: every reason a drill is not PASS, built once, typed, for the drill and the reports.

The drill builds its reasons with these functions and judges its status from them
(:func:`judge`); the reports read the record's typed ``causes``. For records written
before ``causes`` existed, :func:`causes_of` types their reason texts (the texts
below, which this module has always written) and, for pre-1 records that carried
no reasons at all, states the reasons their figures imply.
"""

from __future__ import annotations

from drillbook.harness.durations import format_duration
from drillbook.harness.records import DrillResult, Measured, Reason, ReasonKind, Status, Targets

AFTER_REVERT = "steady state does not hold after revert"


def steady_state_not_met(detail: str) -> Reason:
    return Reason(ReasonKind.STEADY_STATE_NOT_MET, f"steady state did not hold before the fault: {detail}")


def aborted(detail: str) -> Reason:
    return Reason(ReasonKind.ABORTED, f"drill aborted: {detail}")


def unfinished() -> Reason:
    """What a drill's provisional result (read before the drill finished) says."""
    return Reason(ReasonKind.OTHER, "drill not finished")


def not_recovered(limit_s: float) -> Reason:
    return Reason(
        ReasonKind.NOT_RECOVERED,
        f"not recovered within {format_duration(limit_s)} of the fault",
        target_s=limit_s,
    )


def timed_out(text: str, waited_s: float | None = None, limit_s: float | None = None) -> Reason:
    """A wait that ran out (``RecoveryTimeout`` raised by a step), in its own words."""
    return Reason(ReasonKind.NOT_RECOVERED, text, measured_s=waited_s, target_s=limit_s)


def verification_failed(name: str, detail: str) -> Reason:
    return Reason(
        ReasonKind.VERIFICATION_FAILED, f"verification failed: {name}" + (f" ({detail})" if detail else "")
    )


def integrity(unexpected: int) -> Reason:
    return Reason(
        ReasonKind.INTEGRITY,
        f"data integrity violated: {unexpected} writes present that were never acknowledged",
    )


def revert_failed(errors: list[str]) -> Reason:
    return Reason(ReasonKind.REVERT_FAILED, "revert failed: " + "; ".join(errors))


def revert_not_settled(detail: str) -> Reason:
    return Reason(ReasonKind.REVERT_NOT_SETTLED, f"revert did not settle: {detail}")


def broken_after_revert(detail: str) -> Reason:
    return Reason(ReasonKind.BROKEN_AFTER_REVERT, f"{AFTER_REVERT}: {detail}")


def undo_log_not_updated(detail: str) -> Reason:
    """A revert whose mark could not be written (a full disk): ``drillbook revert`` must run again."""
    return Reason(ReasonKind.REVERT_FAILED, f"undo log not updated ({detail}): run `drillbook revert`")


def reconciliation_failed(detail: str) -> Reason:
    return Reason(ReasonKind.RECONCILIATION_FAILED, f"ledger reconciliation failed: {detail}")


def target_missed(name: str, measured: float, target: float) -> Reason:
    """``name`` is "RTO" or "RPO"."""
    kind = ReasonKind.RTO_MISSED if name == "RTO" else ReasonKind.RPO_MISSED
    return Reason(
        kind,
        f"{name} target missed: measured {format_duration(measured)} > target "
        f"{format_duration(target)} (by {format_duration(measured - target)})",
        measured_s=measured,
        target_s=target,
    )


def objectives(measured: Measured, targets: Targets) -> list[Reason]:
    """The RTO and RPO targets the measurements missed."""
    return [
        target_missed(name, value, target)
        for name, value, target in (
            ("RTO", measured.rto_s, targets.rto_s),
            ("RPO", measured.rpo_s, targets.rpo_s),
        )
        if value is not None and target is not None and value > target
    ]


def judge(reasons: list[Reason]) -> Status:
    """FAIL when any reason fails the drill, PARTIAL when only targets were missed, else PASS."""
    if any(r.kind.status is Status.FAIL for r in reasons):
        return Status.FAIL
    return Status.PARTIAL if reasons else Status.PASS


_LEGACY = (
    ("RTO target missed", ReasonKind.RTO_MISSED),
    ("RPO target missed", ReasonKind.RPO_MISSED),
    ("verification failed", ReasonKind.VERIFICATION_FAILED),
    ("revert failed", ReasonKind.REVERT_FAILED),
    ("revert did not settle", ReasonKind.REVERT_NOT_SETTLED),
    ("data integrity violated", ReasonKind.INTEGRITY),
    ("not recovered within", ReasonKind.NOT_RECOVERED),
    (AFTER_REVERT, ReasonKind.BROKEN_AFTER_REVERT),
    ("steady state did not hold before the fault", ReasonKind.STEADY_STATE_NOT_MET),
    ("drill aborted", ReasonKind.ABORTED),
    ("ledger reconciliation failed", ReasonKind.RECONCILIATION_FAILED),
)


#: How ``RecoveryTimeout`` words a wait that ran out.
_TIMEOUT = " did not complete within "


def classify(text: str) -> Reason:
    """A reason text of a record written before ``causes``, typed by the words this module wrote."""
    kind = next((k for prefix, k in _LEGACY if text.startswith(prefix)), ReasonKind.OTHER)
    if kind is ReasonKind.OTHER and _TIMEOUT in text:
        kind = ReasonKind.NOT_RECOVERED
    return Reason(kind, text)


def causes_of(result: DrillResult) -> list[Reason]:
    """The record's reasons, typed: its ``causes``, else its reason texts typed, else (pre-1
    records, which carry no reasons) what its figures imply."""
    if result.causes:
        return list(result.causes)
    if result.reasons:
        return [classify(text) for text in result.reasons]
    implied = objectives(result.measured, result.targets)
    implied += [verification_failed(v.name, "") for v in result.verification if not v.passed]
    return implied
