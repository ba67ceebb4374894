"""Play one schedule as one drill: steady state, ledger, faults injected and lifted on
time, recovery awaited after the last one lifts, then the drill's own end (reconcile,
revert, judge). Used by the search for each example and by the drill files it writes."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

from drillbook.faults.base import Fault
from drillbook.harness import registry
from drillbook.harness.drill import AFTER_REVERT_S, Drill
from drillbook.harness.errors import RecoveryTimeout
from drillbook.harness.explore.schedule import Schedule
from drillbook.harness.explore.target import Target

#: Writes acknowledged before the first fault, so that the RPO has something to measure.
LEDGER_LEAD_S = 0.3
#: The drill marker of an explored schedule (its RTO target is set per schedule).
SCENARIO = "explore"


@dataclass(frozen=True)
class Played:
    """When the last fault lifted, in seconds after the first was injected."""

    lifted_after_s: float


def rto_target_s(target: Target, schedule: Schedule) -> float:
    """The drill's RTO target, measured from its first fault as every drill's is: the
    schedule's end plus the time the platform has after the last fault lifts."""
    first = min((f.start_s for f in schedule.faults), default=0.0)
    return round(schedule.end_s - first + target.rto_s, 3)


def play(drill: Drill, target: Target, schedule: Schedule) -> Played:
    """Run ``schedule`` in ``drill`` (which the caller finishes)."""
    probes = list(target.steady_state())
    # The steady state back after revert: within the same time as the recovery.
    drill.after_revert_s = target.rto_s
    drill.steady_state(*probes)
    store = target.ledger()
    if store is not None:
        drill.ledger(store)
        time.sleep(LEDGER_LEAD_S)
    drill.extra["explore"] = {"target": target.name, "schedule": schedule.to_json()}
    # Lifts come before injections at the same instant: the budget counts them apart.
    events = sorted(
        [(f.start_s, 1, i) for i, f in enumerate(schedule.faults)]
        + [(f.end_s, 0, i) for i, f in enumerate(schedule.faults)]
    )
    built = [target.space.choice(f.fault).build(dict(f.params)) for f in schedule.faults]
    registry.registered_faults()  # loaded before the clock starts: the first load takes a while
    first = min(f.start_s for f in schedule.faults)
    t0 = time.monotonic() - first
    faults: dict[int, Fault] = {}
    for at, inject, index in events:
        time.sleep(max(0.0, t0 + at - time.monotonic()))
        item = schedule.faults[index]
        if inject:
            drill.note("explore: fault starts", item.text())
            faults[index] = drill.inject(built[index])
            if len(faults) == 1:
                t0 = time.monotonic() - at  # the schedule's clock runs from the first fault in effect
        else:
            drill.heal(faults[index])
            drill.note("explore: fault lifted", item.fault)
    lifted = time.monotonic()
    assert drill.t_fault is not None
    try:
        drill.await_recovery(timeout=lifted - drill.t_fault + target.rto_s, probes=list(probes))
        recovered = True
    except RecoveryTimeout:  # recorded by the drill: its verdict is NOT_RECOVERED
        recovered = False
    # What the lifts started (pods replaced, under their restart back-off) is waited for with the
    # drill's usual allowance, not the search's short one; the drill settles again and judges.
    # A schedule that did not recover has failed already: another minute per fault would only
    # slow the search (and shrinking replays failing schedules again and again).
    for fault in faults.values() if recovered else ():
        with contextlib.suppress(Exception):
            fault.settle(AFTER_REVERT_S)
    if not recovered:
        # Its verdict comes first (not recovered); waiting again after revert for a platform that
        # did not come back adds a reason, not information. The search resets it before the next.
        drill.after_revert_s = 0.0
    return Played(lifted - drill.t_fault)
