"""The on-call rotation (the DR procedures' "On-Call Rotation" table, as config).

``[paging.rotation]``: ``start`` (when the first person's shift began),
``every`` (shift length, e.g. ``"7d"``) and ``people`` (in rotation order).
Used to name the level-1 contact when paging, and by unannounced drills so that
the drawn time never falls in the shift of someone who knows the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from drillbook.harness.durations import parse_duration
from drillbook.harness.errors import InvalidDrillConfig


@dataclass(frozen=True)
class Rotation:
    start: datetime
    every_s: float
    people: tuple[str, ...]

    def on_call(self, moment: datetime) -> str:
        shifts = int((moment - self.start).total_seconds() // self.every_s)
        return self.people[shifts % len(self.people)]

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start.isoformat(), "every_s": self.every_s, "people": list(self.people)}


def rotation_from_config(section: dict[str, Any], where: str) -> Rotation | None:
    if not section:
        return None
    try:
        start = datetime.fromisoformat(str(section["start"]).replace("Z", "+00:00"))
        every = parse_duration(section["every"], what=f"{where} every")
        people = tuple(str(p) for p in section["people"])
    except KeyError as exc:
        raise InvalidDrillConfig(f"{where}: missing {exc.args[0]!r} (start, every, people)") from None
    except (TypeError, ValueError) as exc:
        raise InvalidDrillConfig(f"{where}: {exc}; start is an ISO date-time, people a list") from None
    if every <= 0 or not people:
        raise InvalidDrillConfig(f"{where}: every must be > 0 and people not empty")
    return Rotation(start if start.tzinfo else start.replace(tzinfo=UTC), every, people)


def same_person(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()
