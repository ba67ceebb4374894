"""A schedule: faults with start offsets and durations, overlaps allowed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from drillbook.harness.errors import InvalidDrillConfig


@dataclass(frozen=True)
class Scheduled:
    """One fault of a schedule: ``fault`` is the label of its choice in the fault space."""

    fault: str
    params: dict[str, Any]
    start_s: float
    duration_s: float

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s

    def text(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in sorted(self.params.items()))
        return f"{self.fault}({args}) at +{self.start_s:g}s for {self.duration_s:g}s"


@dataclass(frozen=True)
class Schedule:
    faults: tuple[Scheduled, ...]

    @property
    def end_s(self) -> float:
        """When the last fault lifts, in seconds after the schedule starts."""
        return max((f.end_s for f in self.faults), default=0.0)

    def max_concurrent(self) -> int:
        edges = sorted([(f.start_s, 1) for f in self.faults] + [(f.end_s, -1) for f in self.faults])
        now = most = 0
        for _, step in edges:  # a fault lifting at t and another starting at t do not overlap
            now += step
            most = max(most, now)
        return most

    def text(self) -> str:
        return "; ".join(f.text() for f in self.faults) or "(no fault)"

    def key(self) -> str:
        """The same for every way of writing the same schedule: the faults in one order, times
        to the millisecond (the search's ticks are tenths), parameters by name. A search plays
        each key once (docs/explore.md)."""
        items = sorted(
            (f.fault, round(f.start_s, 3), round(f.duration_s, 3), json.dumps(f.params, sort_keys=True))
            for f in self.faults
        )
        return json.dumps(items, separators=(",", ":"))

    def to_json(self) -> str:
        return json.dumps(
            [
                {"fault": f.fault, "params": f.params, "start_s": f.start_s, "duration_s": f.duration_s}
                for f in self.faults
            ],
            indent=2,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Schedule:
        try:
            items = json.loads(text)
            return cls(
                tuple(
                    Scheduled(
                        str(i["fault"]), dict(i["params"]), float(i["start_s"]), float(i["duration_s"])
                    )
                    for i in items
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidDrillConfig(f"not a schedule: {exc}") from exc
