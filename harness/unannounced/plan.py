"""The sealed plan of an unannounced drill: everything needed to redo and check its draw."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from drillbook.harness.paging.rotation import Rotation, same_person
from drillbook.harness.unannounced.draw import Draw, draw
from drillbook.harness.unannounced.window import Window

VERSION = 1


@dataclass(frozen=True)
class UnannouncedPlan:
    tier: str
    window: Window  # as requested
    draw_window: Window  # the part of it still ahead when sealed: what was drawn from
    sealed_at: datetime
    seed: str  # hex
    candidates: tuple[str, ...]
    scenarios: tuple[str, ...]
    scheduled_at: datetime
    nodeids: dict[str, tuple[str, ...]] = field(default_factory=dict)
    excluded: tuple[str, ...] = ()
    rotation: Rotation | None = None
    suite: str = ""
    environment: str = "local"
    version: int = VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "tier": self.tier,
            "window": {"start": self.window.start.isoformat(), "end": self.window.end.isoformat()},
            "draw_window": {
                "start": self.draw_window.start.isoformat(),
                "end": self.draw_window.end.isoformat(),
            },
            "sealed_at": self.sealed_at.isoformat(),
            "seed": self.seed,
            "candidates": list(self.candidates),
            "scenarios": list(self.scenarios),
            "scheduled_at": self.scheduled_at.isoformat(),
            "nodeids": {k: list(v) for k, v in sorted(self.nodeids.items())},
            "excluded": list(self.excluded),
            "rotation": None if self.rotation is None else self.rotation.to_dict(),
            "suite": self.suite,
            "environment": self.environment,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UnannouncedPlan:
        rotation = data.get("rotation")
        return cls(
            version=int(data["version"]),
            tier=str(data["tier"]),
            window=_window(data["window"]),
            draw_window=_window(data["draw_window"]),
            sealed_at=_moment(data["sealed_at"]),
            seed=str(data["seed"]),
            candidates=tuple(data["candidates"]),
            scenarios=tuple(data["scenarios"]),
            scheduled_at=_moment(data["scheduled_at"]),
            nodeids={k: tuple(v) for k, v in (data.get("nodeids") or {}).items()},
            excluded=tuple(data.get("excluded") or ()),
            rotation=None
            if not rotation
            else Rotation(
                _moment(rotation["start"]),
                float(rotation["every_s"]),
                tuple(rotation["people"]),
            ),
            suite=str(data.get("suite", "")),
            environment=str(data.get("environment", "local")),
        )

    def redraw(self) -> Draw:
        """The draw again, from the plan's own seed and inputs."""
        return draw(
            bytes.fromhex(self.seed),
            self.candidates,
            len(self.scenarios),
            self.draw_window,
            allowed=allowed_moment(self.rotation, self.excluded),
        )

    def draw_matches(self) -> bool:
        try:
            again = self.redraw()
        except (ValueError, LookupError):
            return False
        return again.scenarios == self.scenarios and again.at == self.scheduled_at


def allowed_moment(rotation: Rotation | None, excluded: tuple[str, ...]) -> Any:
    """A moment is allowed unless an excluded person is on call then."""
    if rotation is None or not excluded:
        return None

    def allowed(moment: datetime) -> bool:
        person = rotation.on_call(moment)
        return not any(same_person(person, other) for other in excluded)

    return allowed


def _window(data: dict[str, str]) -> Window:
    return Window(_moment(data["start"]), _moment(data["end"]))


def _moment(text: str) -> datetime:
    """A time of the plan: ISO 8601 with its time zone (a naive one cannot be compared with now)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return moment
