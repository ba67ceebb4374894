"""The timeline events the engine writes and the reports read: one enum both sides import.

A record's ``timeline[].event`` is the enum's value (a string in the journal), so
records written before the enum existed read the same. Drills add their own
events with ``drill.note``; they cannot use an engine event's name, which would
let a drill date its own recovery.
"""

from __future__ import annotations

from enum import StrEnum


class Event(StrEnum):
    TEST_START = "test start"
    STEADY_STATE_HOLDS = "steady state holds"
    STEADY_STATE_NOT_MET = "steady state not met"
    LEDGER_STARTED = "ledger started"
    FAULT_INJECTED = "fault injected"
    FAULT_INJECTION_FAILED = "fault injection failed"
    CHANGE_APPLIED = "change applied"
    CHANGE_FAILED = "change failed"
    PHASE_START = "phase start"
    PHASE_END = "phase end"
    ISSUE_DETECTED = "issue detected"
    STEADY_STATE_NEVER_FAILED = "steady state never failed"
    RECOVERY_COMPLETE = "recovery complete"
    RECOVERY_TIMEOUT = "recovery timeout"
    VERIFICATION = "verification"
    LEDGER_RECONCILED = "ledger reconciled"
    FAULT_REVERTED = "fault reverted"
    CHANGE_REVERTED = "change reverted"
    REVERT_FAILED = "revert FAILED"
    REVERT_NOT_SETTLED = "revert did not settle"
    STEADY_STATE_AFTER_REVERT = "steady state holds after revert"
    BROKEN_AFTER_REVERT = "steady state broken after revert"
    PART_NOT_RUN = "part not run"
    STEP_MUTATED = "runbook step mutated"
    DRILL_ABORTED = "drill aborted"
    TEST_END = "test end"
    RUNBOOK_STEP = "runbook step"
    RUNBOOK_STEP_DONE = "runbook step done"
    RUNBOOK_STEP_FAILED = "runbook step failed"
    RUNBOOK_STEP_SKIPPED = "runbook step skipped"

    def __str__(self) -> str:
        return self.value

    @property
    def engine_only(self) -> bool:
        """Written by the engine alone: ``drill.note`` refuses these names."""
        return not self.name.startswith("RUNBOOK_STEP")


#: The moments a report's timeline highlights and its key times are read from.
KEY_EVENTS = frozenset(
    {
        Event.TEST_START,
        Event.FAULT_INJECTED,
        Event.ISSUE_DETECTED,
        Event.PHASE_START,
        Event.PHASE_END,
        Event.RECOVERY_COMPLETE,
        Event.TEST_END,
    }
)


def engine_event(name: str) -> Event | None:
    """The engine event called ``name``, if it is one."""
    try:
        event = Event(name)
    except ValueError:
        return None
    return event if event.engine_only else None
