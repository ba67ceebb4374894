"""The fault space: which faults a search may draw, with Hypothesis strategies for their
parameters, and the blast-radius budget every drawn schedule stays within."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from drillbook.faults.base import Fault
from drillbook.harness.errors import InvalidDrillConfig

Params = dict[str, Any]
NO_PARAMS: st.SearchStrategy[Params] = st.just({})


@dataclass(frozen=True)
class FaultChoice:
    """One fault a schedule may hold: ``label`` names it in schedules and drill files
    ("network_latency app-cache"), ``params`` draws its parameters, ``build`` makes the
    fault from them (a new object each time: each example is a drill of its own)."""

    label: str
    build: Callable[[Params], Fault]
    params: st.SearchStrategy[Params] = NO_PARAMS

    def __post_init__(self) -> None:
        if not isinstance(self.label, str) or not self.label.strip():
            raise InvalidDrillConfig(f"a fault choice needs a label, got {self.label!r}")
        if not callable(self.build):
            raise InvalidDrillConfig(f"fault choice {self.label!r}: build must be callable")
        if not isinstance(self.params, st.SearchStrategy):
            raise InvalidDrillConfig(f"fault choice {self.label!r}: params must be a Hypothesis strategy")


@dataclass(frozen=True)
class FaultSpace:
    """The faults of a search and its budget.

    A schedule holds 1 to ``max_faults`` faults (each choice at most once), each starting
    ``0`` to ``horizon_s`` seconds after the first and lasting ``min_duration_s`` to
    ``max_duration_s``; at most ``max_concurrent`` are in effect at once (the blast radius).
    """

    choices: tuple[FaultChoice, ...]
    max_faults: int = 3
    max_concurrent: int = 2
    horizon_s: float = 3.0
    min_duration_s: float = 0.5
    max_duration_s: float = 3.0

    def __post_init__(self) -> None:
        if not self.choices:
            raise InvalidDrillConfig("a fault space needs at least one fault choice")
        labels = [c.label for c in self.choices]
        if len(set(labels)) != len(labels):
            dup = sorted({label for label in labels if labels.count(label) > 1})
            raise InvalidDrillConfig(f"fault choices must have distinct labels; repeated: {', '.join(dup)}")
        for name in ("max_faults", "max_concurrent"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidDrillConfig(f"{name} must be a whole number >= 1, got {value!r}")
        if not 0 <= self.horizon_s <= 3600:
            raise InvalidDrillConfig(f"horizon_s must be between 0 and 3600 s, got {self.horizon_s!r}")
        if not 0 < self.min_duration_s <= self.max_duration_s <= 3600:
            raise InvalidDrillConfig(
                "durations need 0 < min_duration_s <= max_duration_s <= 3600, got "
                f"{self.min_duration_s!r} and {self.max_duration_s!r}"
            )

    def choice(self, label: str) -> FaultChoice:
        for choice in self.choices:
            if choice.label == label:
                return choice
        known = ", ".join(c.label for c in self.choices)
        raise InvalidDrillConfig(f"no fault {label!r} in this fault space (it has: {known})")

    def digest(self) -> bytes:
        """What tells this space's saved examples apart from another's (the example database key)."""
        shape = repr(
            (
                [(c.label, repr(c.params)) for c in self.choices],
                self.max_faults,
                self.max_concurrent,
                self.horizon_s,
                self.min_duration_s,
                self.max_duration_s,
            )
        )
        return hashlib.sha256(shape.encode()).digest()
