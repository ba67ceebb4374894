"""The Hypothesis strategy of schedules over a fault space.

Shrinking works for us: a list shrinks by dropping faults, ``sampled_from`` towards the
first choice, and offsets and durations towards 0 and the shortest, so a minimal
schedule has few faults that start together and last briefly.
"""

from __future__ import annotations

from hypothesis import strategies as st

from drillbook.harness.explore.schedule import Schedule, Scheduled
from drillbook.harness.explore.space import FaultChoice, FaultSpace

#: Offsets and durations are drawn in tenths of a second: readable schedules, small search.
TICK_S = 0.1


def _ticks(seconds: float) -> int:
    return round(seconds / TICK_S)


def scheduled(space: FaultSpace) -> st.SearchStrategy[Scheduled]:
    @st.composite
    def one(draw: st.DrawFn) -> Scheduled:
        choice: FaultChoice = draw(st.sampled_from(space.choices))
        params = draw(choice.params)
        start = draw(st.integers(0, _ticks(space.horizon_s))) * TICK_S
        duration = draw(st.integers(_ticks(space.min_duration_s), _ticks(space.max_duration_s))) * TICK_S
        return Scheduled(choice.label, dict(params), round(start, 3), round(duration, 3))

    return one()


def schedules(space: FaultSpace) -> st.SearchStrategy[Schedule]:
    """Schedules of 1 to ``max_faults`` distinct faults, at most ``max_concurrent`` at once."""
    return (
        st.lists(scheduled(space), min_size=1, max_size=space.max_faults, unique_by=lambda s: s.fault)
        .map(lambda items: Schedule(tuple(sorted(items, key=lambda s: (s.start_s, s.fault)))))
        .filter(lambda s: s.max_concurrent() <= space.max_concurrent)
    )
