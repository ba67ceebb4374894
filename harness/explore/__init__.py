"""``drillbook explore``: Hypothesis searches schedules of overlapping faults and shrinks a
failing one to a drill file you can keep (docs/explore.md)."""

from __future__ import annotations

from drillbook.harness.explore.invariants import (
    DrillAborted,
    FaultLeftBehind,
    InvariantBroken,
    NotRecoveredInTime,
    SteadyStateNotBack,
    UnexpectedWrites,
    WritesLost,
)
from drillbook.harness.explore.play import Played, play
from drillbook.harness.explore.run import Example, ExploreRun, Finding
from drillbook.harness.explore.schedule import Schedule, Scheduled
from drillbook.harness.explore.search import Explorer, PlatformNotSteady
from drillbook.harness.explore.space import FaultChoice, FaultSpace
from drillbook.harness.explore.strategy import schedules
from drillbook.harness.explore.target import Target

__all__ = [
    "DrillAborted",
    "Example",
    "ExploreRun",
    "Explorer",
    "FaultChoice",
    "FaultLeftBehind",
    "FaultSpace",
    "Finding",
    "InvariantBroken",
    "NotRecoveredInTime",
    "PlatformNotSteady",
    "Played",
    "Schedule",
    "Scheduled",
    "SteadyStateNotBack",
    "Target",
    "UnexpectedWrites",
    "WritesLost",
    "play",
    "schedules",
]
