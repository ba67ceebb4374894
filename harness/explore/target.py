"""What a search explores: a platform's fault space, steady state, ledger and objectives."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from drillbook.harness.errors import InvalidDrillConfig
from drillbook.harness.explore.space import FaultSpace
from drillbook.harness.ledger.store import LedgerStore
from drillbook.harness.probes import Probe


@dataclass(frozen=True)
class Target:
    """A platform to explore.

    ``steady_state`` returns the probes of the steady state and ``ledger`` a new ledger
    store (or None) for each example: each example is a complete drill of its own, so
    nothing is shared between examples behind Hypothesis's back. ``rto_s`` is the time
    the platform has to recover *after the last fault lifts*, ``rpo_s`` the data loss
    allowed. ``reset`` (optional) brings a platform that stayed broken back between
    examples, after the failing example was recorded. ``factory`` ("module:function")
    and ``factory_fixtures`` (pytest fixture names passed to it) let a written drill
    file build this target again under plain pytest. ``quiet_s`` is a pause before each
    example once the steady state holds, so that what a platform remembers of the last
    example for a moment (a slow call in a breaker's window) is gone when the next begins:
    each replay of a schedule then means the same thing.
    """

    name: str
    space: FaultSpace
    steady_state: Callable[[], Sequence[Probe]]
    ledger: Callable[[], LedgerStore | None] = lambda: None
    rto_s: float = 30.0
    rpo_s: float = 0.0
    reset: Callable[[], None] | None = None
    factory: str | None = None
    factory_fixtures: tuple[str, ...] = ()
    quiet_s: float = 0.0

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("-", "").replace("_", "").isalnum():
            raise InvalidDrillConfig(f"a target's name is letters, digits, - and _, got {self.name!r}")
        if not isinstance(self.space, FaultSpace):
            raise InvalidDrillConfig("space must be a FaultSpace")
        if not 0 < self.rto_s <= 86400 or not 0 <= self.rpo_s <= 86400:
            raise InvalidDrillConfig(f"rto_s must be in (0, 86400] and rpo_s in [0, 86400], got "
                                     f"{self.rto_s!r} and {self.rpo_s!r}")
        if not 0 <= self.quiet_s <= 600:
            raise InvalidDrillConfig(f"quiet_s must be in [0, 600], got {self.quiet_s!r}")
        if self.factory is not None and ":" not in self.factory:
            raise InvalidDrillConfig(f"factory is 'module:function', got {self.factory!r}")
