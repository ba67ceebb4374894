"""What an explore run did: the examples tried, the failures found and shrunk, the time."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from drillbook.harness.explore.schedule import Schedule
from drillbook.harness.records import DrillResult


@dataclass(frozen=True)
class Example:
    number: int
    #: "search" before the first failure, "shrink" after it, "reduce" the pass dropping faults
    #: that add nothing, "confirm" replays of the result
    stage: str
    schedule: Schedule
    status: str
    invariant: str | None
    detail: str
    duration_s: float
    record_id: str | None


@dataclass
class Finding:
    """A failure shrunk to its minimal schedule, with that schedule's drill (the final replay)."""

    invariant: str
    detail: str
    schedule: Schedule
    result: DrillResult
    drill_file: Path | None = None
    #: False when no replay of it (nor of a larger failing schedule) failed every time.
    confirmed: bool = True


@dataclass
class ExploreRun:
    target: str
    seed: int | None
    budget_s: float
    started_at: str
    examples: list[Example] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    elapsed_s: float = 0.0
    search_s: float = 0.0
    shrink_s: float = 0.0
    confirm_s: float = 0.0
    #: Draws of a schedule already played in this search, answered with its verdict instead
    #: of being played again.
    reused: int = 0

    @property
    def distinct_failures(self) -> list[str]:
        """The invariants any tried schedule broke, in the order first seen."""
        seen: list[str] = []
        for example in self.examples:
            if example.invariant and example.invariant not in seen:
                seen.append(example.invariant)
        return seen

    @property
    def failed(self) -> bool:
        return bool(self.findings)
