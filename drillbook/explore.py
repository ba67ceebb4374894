"""``drillbook.explore``: search combinations of faults on your platform with Hypothesis, and
shrink what breaks to a drill file you can keep (docs/explore.md)::

    from drillbook.explore import FaultChoice, FaultSpace, Target, Explorer
"""

from __future__ import annotations

from drillbook.harness.explore import (
    DrillAborted,
    Example,
    Explorer,
    ExploreRun,
    FaultChoice,
    FaultLeftBehind,
    FaultSpace,
    Finding,
    InvariantBroken,
    NotRecoveredInTime,
    PlatformNotSteady,
    Schedule,
    Scheduled,
    SteadyStateNotBack,
    Target,
    UnexpectedWrites,
    WritesLost,
    play,
    schedules,
)
from drillbook.harness.explore.found import replay, write_drill

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
    "Schedule",
    "Scheduled",
    "SteadyStateNotBack",
    "Target",
    "UnexpectedWrites",
    "WritesLost",
    "play",
    "replay",
    "schedules",
    "write_drill",
]
