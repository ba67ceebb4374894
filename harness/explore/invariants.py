"""The invariants an explored schedule must keep, as errors Hypothesis can tell apart.

They are the drill's own verdict: the example's drill has the RTO target "the schedule's
end plus ``rto_s``" (recovery within ``rto_s`` after the last fault lifts) and the RPO
target ``rpo_s``; a reason the drill gives for not being PASS is one broken invariant.
"""

from __future__ import annotations

from drillbook.harness.explore.schedule import Schedule
from drillbook.harness.records import DrillResult, ReasonKind, Status


class InvariantBroken(AssertionError):
    """A schedule broke an invariant; carries the schedule and the drill's result."""

    invariant = "invariant"

    def __init__(self, detail: str, schedule: Schedule, result: DrillResult) -> None:
        super().__init__(f"{self.invariant}: {detail}")
        self.detail = detail
        self.schedule = schedule
        self.result = result


class NotRecoveredInTime(InvariantBroken):
    invariant = "recovery within the RTO after the last fault lifts"


class WritesLost(InvariantBroken):
    invariant = "no acknowledged write lost beyond the RPO"


class UnexpectedWrites(InvariantBroken):
    invariant = "no unexpected write"


class FaultLeftBehind(InvariantBroken):
    invariant = "no fault left behind"


class SteadyStateNotBack(InvariantBroken):
    invariant = "the steady state back after revert"


class DrillAborted(InvariantBroken):
    invariant = "the drill ran to its end"


BY_KIND: dict[ReasonKind, type[InvariantBroken]] = {
    ReasonKind.NOT_RECOVERED: NotRecoveredInTime,
    ReasonKind.RTO_MISSED: NotRecoveredInTime,
    ReasonKind.RPO_MISSED: WritesLost,
    ReasonKind.INTEGRITY: UnexpectedWrites,
    ReasonKind.REVERT_FAILED: FaultLeftBehind,
    ReasonKind.REVERT_NOT_SETTLED: FaultLeftBehind,
    ReasonKind.BROKEN_AFTER_REVERT: SteadyStateNotBack,
}


def broken(schedule: Schedule, result: DrillResult) -> InvariantBroken | None:
    """The first invariant ``result`` breaks, or None when the drill is PASS."""
    if result.status is Status.PASS:
        return None
    cause = result.causes[0] if result.causes else None
    kind = BY_KIND.get(cause.kind, DrillAborted) if cause is not None else DrillAborted
    return kind(cause.text if cause is not None else result.status.value, schedule, result)
