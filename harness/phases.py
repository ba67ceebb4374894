"""The DR procedures' recovery phases and each drill scenario's expected timeline.

One home for both: drills time these phases (``drill.phase``, runbook steps), reports
compare each measured phase with what the scenario's *own* section of the procedures
(``docs/dr-procedures.md``) expects. Scenario 1 alone has an "Expected Timeline"
table; the other sections state a total (their RTO, or a test's duration in the
"DR Testing Schedule") and at most a few phase times. A phase a section gives no
time for is budgeted as Scenario 1's share of the total (5, 10, 30, 45, 20 of 110
minutes) scaled to the section's own total, rounded to the minute, and each
expectation says which of the two it is (:attr:`PhaseExpectation.basis`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Phase(StrEnum):
    """The phases of the procedures' expected timeline, in order."""

    DETECTION = "detection & initial response"
    ASSESSMENT = "assessment & decision"
    ACTIVATION = "DR activation"
    RESTORATION = "service restoration"
    VERIFICATION = "verification & testing"

    def __str__(self) -> str:
        return self.value


DETECTION = Phase.DETECTION
ASSESSMENT = Phase.ASSESSMENT
ACTIVATION = Phase.ACTIVATION
RESTORATION = Phase.RESTORATION
VERIFICATION = Phase.VERIFICATION
PHASES: tuple[Phase, ...] = tuple(Phase)

_MIN = 60.0
#: Scenario 1's "Expected Timeline" (the only table of the procedures), minutes per phase.
_SCENARIO_1_MIN = {DETECTION: 5, ASSESSMENT: 10, ACTIVATION: 30, RESTORATION: 45, VERIFICATION: 20}
STATED = "stated in the section"
SCALED = "Scenario 1's share, scaled to the section's total"


@dataclass(frozen=True)
class PhaseExpectation:
    phase: Phase
    seconds: float
    basis: str  # STATED, SCALED, or how the section words it


@dataclass(frozen=True)
class ExpectedTimeline:
    """What one drill scenario's section of the procedures expects, phase by phase."""

    scenario: str  # the drills' scenario name ("application-crash")
    section: str  # where in the procedures ("Scenario 5: Application Crash")
    total_text: str  # the section's own words for its total ("RTO: 30 minutes")
    phases: tuple[PhaseExpectation, ...]
    #: What the drill's recovery figure (``measured.rto_s``) is: an outage's RTO, or the
    #: duration of a planned test that breaks nothing to detect.
    recovery_figure: str = "RTO"
    note: str = ""

    @property
    def total_s(self) -> float:
        return sum(p.seconds for p in self.phases)

    @property
    def source(self) -> str:
        return f"DR procedures, {self.section}"

    @property
    def is_outage(self) -> bool:
        """An outage has something to detect; a planned test (a restore test) has not."""
        return self.recovery_figure == "RTO"

    def expected(self, phase: str) -> PhaseExpectation | None:
        key = phase_of(phase)
        return next((p for p in self.phases if p.phase == key), None)

    def elapsed(self, phase: str) -> float | None:
        """The expected total elapsed at the end of ``phase`` (the procedures' third column)."""
        key = phase_of(phase)
        if key is None or self.expected(key) is None:
            return None
        return sum(p.seconds for p in self.phases[: [p.phase for p in self.phases].index(key) + 1])

    def durations(self) -> dict[str, float]:
        """Phase name to expected seconds, for ``Runbook(expected_phases=...)``."""
        return {p.phase.value: p.seconds for p in self.phases}


def _timeline(
    scenario: str,
    section: str,
    total_text: str,
    minutes: Mapping[Phase, float],
    basis: Mapping[Phase, str] | None = None,
    *,
    recovery_figure: str = "RTO",
    note: str = "",
) -> ExpectedTimeline:
    given = basis or {}
    return ExpectedTimeline(
        scenario=scenario,
        section=section,
        total_text=total_text,
        phases=tuple(PhaseExpectation(p, minutes[p] * _MIN, given.get(p, SCALED)) for p in PHASES),
        recovery_figure=recovery_figure,
        note=note,
    )


# Scenario 1's shares scaled to a total of 55, 28 and 15 minutes (rounded to the minute).
_ONE_HOUR = {DETECTION: 3, ASSESSMENT: 5, ACTIVATION: 15, RESTORATION: 22, VERIFICATION: 10}
_HALF_HOUR = {DETECTION: 2, ASSESSMENT: 3, ACTIVATION: 7, RESTORATION: 11, VERIFICATION: 5}
_QUARTER_HOUR = {DETECTION: 1, ASSESSMENT: 1, ACTIVATION: 4, RESTORATION: 6, VERIFICATION: 3}

TIMELINES: dict[str, ExpectedTimeline] = {
    t.scenario: t
    for t in (
        _timeline(
            "complete-infrastructure-failure",
            "Scenario 1: Complete Infrastructure Failure",
            "Expected Timeline: 110 minutes (Total RTO <2 hours)",
            _SCENARIO_1_MIN,
            dict.fromkeys(PHASES, "Scenario 1's Expected Timeline table"),
        ),
        _timeline(
            "database-corruption",
            "Scenario 2: Database Corruption/Loss",
            "RTO: 1 hour",
            _ONE_HOUR,
            note='The section states no phase times but "Wait for restore to complete (10-30 minutes)"; '
            "the phases share 55 of its 60 minutes as Scenario 1's do.",
        ),
        _timeline(
            "security-breach",
            "Scenario 3: Security Breach",
            "RTO: Immediate containment, 2-4 hours for full recovery",
            {DETECTION: 5, ASSESSMENT: 10, ACTIVATION: 15, RESTORATION: 60, VERIFICATION: 30},
            {
                DETECTION: 'within "Immediate Containment (First 15 Minutes)"',
                ASSESSMENT: 'within "Immediate Containment (First 15 Minutes)"',
                ACTIVATION: 'to the end of "Investigation (First Hour)"',
                RESTORATION: '"2-4 hours for full recovery" (its lower bound)',
                VERIFICATION: '"2-4 hours for full recovery" (its lower bound)',
            },
        ),
        _timeline(
            "data-center-failure",
            "Scenario 4: Data Center Failure",
            "RTO: 1 hour (with multi-AZ/region setup)",
            _ONE_HOUR,
            note='The section states no phase times (recovery is "usually automatic with proper multi-AZ '
            "setup\"); the phases share 55 of its 60 minutes as Scenario 1's do.",
        ),
        _timeline(
            "application-crash",
            "Scenario 5: Application Crash",
            "RTO: 30 minutes",
            _HALF_HOUR,
            note="The section states no phase times; the phases share 28 of its 30 minutes as "
            "Scenario 1's do.",
        ),
        _timeline(
            "backup-verification",
            "DR Testing Schedule, Monthly Tests: Database Backup Verification",
            "Database Backup Verification (30 minutes)",
            {DETECTION: 1, ASSESSMENT: 2, ACTIVATION: 15, RESTORATION: 5, VERIFICATION: 7},
            dict.fromkeys(PHASES, "drillbook's split of the test's 30 minutes (the restore takes most)"),
            recovery_figure="restore time",
            note="A planned test: nothing is broken, so nothing is detected. The recovery figure is the "
            "time to restore the latest backup into a scratch instance that answers, not an outage's RTO.",
        ),
        _timeline(
            "deployment-test",
            "DR Testing Schedule, Monthly Tests: Application Deployment Test",
            "Application Deployment Test (15 minutes)",
            _QUARTER_HOUR,
            recovery_figure="deploy time",
            note="A planned test: the application is taken down on purpose and deployed from nothing. The "
            "recovery figure is the time from the takedown to every replica serving, not an outage's RTO.",
        ),
        _timeline(
            "network-partition",
            "RTO/RPO Definitions, Database (not a scenario of the procedures)",
            "Database RTO: 1 hour",
            _ONE_HOUR,
            note="The procedures have no network partition scenario: the database's RTO of 1 hour, the "
            "phases sharing 55 of its 60 minutes as Scenario 1's do.",
        ),
    )
}


def timeline(scenario: str) -> ExpectedTimeline | None:
    """The expected timeline of a drill scenario; None for a scenario the procedures do not know."""
    return TIMELINES.get(scenario)


def expected_phases(scenario: str) -> dict[str, float]:
    """Phase name to expected seconds for ``scenario`` (``Runbook(expected_phases=...)``)."""
    found = timeline(scenario)
    if found is None:
        known = ", ".join(sorted(TIMELINES))
        raise KeyError(f"no expected timeline for scenario {scenario!r}; known: {known}")
    return found.durations()


_BY_KEY = {p.value.strip().lower(): p for p in PHASES}


def phase_of(name: str) -> Phase | None:
    """The procedures' phase this phase name is (case-insensitive), or None."""
    return _BY_KEY.get(name.strip().lower())


def recovery_figure(scenario: str) -> str:
    """What a drill of ``scenario`` measures as its recovery figure ("RTO" unless a planned test)."""
    found = timeline(scenario)
    return found.recovery_figure if found is not None else "RTO"
