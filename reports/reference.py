"""Figures taken from the DR procedures (``docs/dr-procedures.md``) that reports compare with."""

from __future__ import annotations

from drillbook.harness.drill import ACTIVATION, ASSESSMENT, DETECTION, PHASES, RESTORATION, VERIFICATION

#: "Expected Timeline" of Scenario 1: each phase's expected duration in seconds.
EXPECTED_TIMELINE: dict[str, float] = {
    DETECTION: 5 * 60.0,
    ASSESSMENT: 10 * 60.0,
    ACTIVATION: 30 * 60.0,
    RESTORATION: 45 * 60.0,
    VERIFICATION: 20 * 60.0,
}
EXPECTED_TIMELINE_SOURCE = "DR procedures, Scenario 1 expected timeline"
PROCEDURE_PHASES = PHASES

#: "DR Testing Schedule": how often each tier must pass, in days (a month, a quarter, a year).
CADENCE_DAYS: dict[str, int] = {"monthly": 31, "quarterly": 92, "annual": 366}
TIERS = tuple(CADENCE_DAYS)

#: The Test Documentation Template's default sign-off roles.
SIGN_OFF_ROLES = ("DR Manager", "IT Director")


def phase_key(name: str) -> str:
    return name.strip().lower()


_BY_KEY = {phase_key(name): name for name in PHASES}


def procedure_phase(name: str) -> str | None:
    """The DR procedures' phase this phase name is (case-insensitive), or None."""
    return _BY_KEY.get(phase_key(name))
