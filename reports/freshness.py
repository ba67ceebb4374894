"""Freshness: is each scenario's last passing drill within its tier's cadence?

A record counts for a tier when the drill is of that tier or the suite ran as
that tier (``extra["schedule"]``): the annual run, which runs every drill,
refreshes the annual cell of every scenario. A cell is expected (and shown as
NEVER PASSED when nothing passed) for the drill's own tier and for annual, as
the DR testing schedule asks every scenario to be exercised once a year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from drillbook.reports.frame import as_datetime
from drillbook.reports.reference import TIERS

FRESH = "fresh"
DUE_SOON = "due soon"
OVERDUE = "OVERDUE"
NEVER = "NEVER PASSED"
NOT_SCHEDULED = "not scheduled"
DUE_SOON_AT = 0.8  # of the cadence


@dataclass(frozen=True)
class Cell:
    scenario: str
    tier: str
    state: str
    cadence_days: int
    runs: int
    last_pass: datetime | None
    last_pass_record: str
    age_days: float | None
    due: datetime | None

    @property
    def overdue(self) -> bool:
        return self.state in (OVERDUE, NEVER)

    @property
    def text(self) -> str:
        if self.state == NOT_SCHEDULED:
            return "n/a"
        if self.last_pass is None:
            return f"{self.state} ({self.runs} run{'s' if self.runs != 1 else ''})"
        age = f"{self.age_days:.0f} d ago" if self.age_days is not None else ""
        due = f"due {self.due:%Y-%m-%d}" if self.due is not None else ""
        return f"{self.state}: passed {self.last_pass:%Y-%m-%d} ({age}), {due}"


@dataclass(frozen=True)
class Matrix:
    as_of: datetime
    tiers: tuple[str, ...]
    scenarios: tuple[str, ...]
    cells: dict[tuple[str, str], Cell]

    def cell(self, scenario: str, tier: str) -> Cell:
        return self.cells[(scenario, tier)]

    @property
    def overdue(self) -> list[Cell]:
        return [c for c in self.cells.values() if c.overdue]


def matrix(
    frame: pd.DataFrame, as_of: datetime, cadence_days: dict[str, int], *, key: str = "drill"
) -> Matrix:
    """The scenario x tier matrix of ``frame`` (a :func:`drillbook.reports.frame.load_frame` frame)
    at ``as_of``."""
    scenarios = tuple(sorted(frame[key].unique())) if len(frame) else ()
    own_tiers = {str(k): {str(t) for t in v} for k, v in frame.groupby(key)["tier"].unique().items()}
    passed = frame["status"] == "PASS"
    cells: dict[tuple[str, str], Cell] = {}
    for tier in TIERS:
        counts = (frame["tier"] == tier) | (frame["schedule"] == tier)
        runs = frame[counts].groupby(key).size()
        passes = frame[counts & passed]
        last = passes.sort_values("started").groupby(key).tail(1).set_index(key)
        cadence = cadence_days[tier]
        for scenario in scenarios:
            expected = tier == "annual" or tier in own_tiers.get(scenario, set())
            n = int(runs.get(scenario, 0))
            if scenario in last.index:
                at = as_datetime(last.at[scenario, "started"]) or as_of
                age = (as_of - at).total_seconds() / 86400
                due = at + timedelta(days=cadence)
                state = OVERDUE if age > cadence else DUE_SOON if age > DUE_SOON_AT * cadence else FRESH
                cells[(scenario, tier)] = Cell(
                    scenario, tier, state, cadence, n, at, str(last.at[scenario, "record_id"]), age, due
                )
            else:
                state = NEVER if expected or n else NOT_SCHEDULED
                cells[(scenario, tier)] = Cell(scenario, tier, state, cadence, n, None, "", None, None)
    return Matrix(as_of, TIERS, scenarios, cells)
