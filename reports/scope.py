"""What a run's report covers, stated: the environment's kind and what the procedures ask
to be exercised that this run did not exercise, with when each last passed.

"9 PASS of 9" must not read as full coverage: every report names the items of the
procedures' scenarios and testing schedule (:data:`reference.CATALOGUE`) the run did
not exercise, and whether its figures come from a simulation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drillbook.harness.records import DRILL_KIND, DrillResult, EnvironmentInfo, Status
from drillbook.reports import frame, timefmt
from drillbook.reports.reference import CATALOGUE, ProcedureItem, covers


@dataclass(frozen=True)
class EnvironmentKind:
    text: str  # "simulation on the embedded local twin (environment 'local')"
    simulation: bool  # figures from a simulation: never grounds to change production targets
    production: bool


def environment_kind(env: EnvironmentInfo) -> EnvironmentKind:
    name = env.name
    if env.production:
        return EnvironmentKind(f"PRODUCTION (environment '{name}')", False, True)
    if env.kind == "local":
        return EnvironmentKind(f"simulation on the embedded local twin (environment '{name}')", True, False)
    if env.kind == "containers":
        return EnvironmentKind(f"simulation in local containers (environment '{name}')", True, False)
    if env.kind == "staging":
        return EnvironmentKind(f"staging (environment '{name}')", False, False)
    if name == "local":
        return EnvironmentKind(
            "simulation on the embedded local twin (environment 'local'; kind inferred from the name: "
            "the record predates the kind)",
            True,
            False,
        )
    return EnvironmentKind(f"not recorded (environment '{name}', written before the kind was)", False, False)


@dataclass(frozen=True)
class CoverageRow:
    key: str
    title: str
    cadence: str
    exercised_by: tuple[str, ...]  # this run's drills that exercised it, with their status
    last_pass: str  # "2026-11-27 (record ...)", "never", or why it cannot pass


@dataclass(frozen=True)
class Scope:
    environment: EnvironmentKind
    exercised: tuple[CoverageRow, ...]
    not_exercised: tuple[CoverageRow, ...]
    beyond: tuple[str, ...]  # this run's drills of scenarios the procedures do not have
    #: This run's drills of a scenario of the procedures whose option names none of its options.
    unmatched: tuple[str, ...]
    summary: str


def _unannounced(r: DrillResult) -> bool:
    return r.unannounced is not None


def _name(r: DrillResult) -> str:
    return f"{r.drill.scenario} / {r.drill.option}" if r.drill.option else r.drill.scenario


def build(
    results: Sequence[DrillResult], environment: EnvironmentInfo, history: Sequence[tuple[Any, ...]]
) -> Scope:
    """``history``: every drill row of the journal (:func:`drillbook.reports.frame.load_rows`)."""
    exercised: list[CoverageRow] = []
    missing: list[CoverageRow] = []
    for item in CATALOGUE:
        by = tuple(
            f"{_name(r)} ({r.status.value})"
            for r in results
            if covers(item, r.drill.scenario, r.drill.option or "", unannounced=_unannounced(r))
        )
        row = CoverageRow(item.key, item.title, item.cadence, by, _last_pass(item, history))
        (exercised if by else missing).append(row)
    known = {i.scenario for i in CATALOGUE if i.scenario}
    beyond = tuple(dict.fromkeys(_name(r) for r in results if r.drill.scenario not in known))
    unmatched = tuple(
        dict.fromkeys(
            _name(r)
            for r in results
            if r.drill.scenario in known
            and not any(
                covers(i, r.drill.scenario, r.drill.option or "", unannounced=False) for i in CATALOGUE
            )
        )
    )
    drillable = sum(1 for i in CATALOGUE if not i.not_a_drill)
    summary = (
        f"This run exercised {len(exercised)} of the {drillable} scenario options and tests of the DR "
        f"procedures that a drill can exercise; {len(missing)} item(s) were not exercised (listed below)"
    )
    return Scope(environment_kind(environment), tuple(exercised), tuple(missing), beyond, unmatched, summary)


_COL = {name: i for i, name in enumerate(frame.COLUMNS)}


def _last_pass(item: ProcedureItem, history: Sequence[tuple[Any, ...]]) -> str:
    if item.not_a_drill:
        return f"not exercised by drillbook: {item.not_a_drill}"
    if item.unannounced:
        return _last_unannounced_pass(history)
    latest: tuple[Any, ...] | None = None
    for row in history:
        if row[_COL["status"]] != Status.PASS.value:
            continue
        if covers(item, str(row[_COL["scenario"]]), str(row[_COL["option"]]), unannounced=False) and (
            latest is None or str(row[_COL["started"]] or "") >= str(latest[_COL["started"]] or "")
        ):
            latest = row
    return _when(latest)


def _last_unannounced_pass(history: Sequence[tuple[Any, ...]]) -> str:
    """The latest unannounced run whose every drill passed."""
    runs: dict[str, list[tuple[Any, ...]]] = {}
    for row in history:
        if row[_COL["unannounced"]]:
            runs.setdefault(str(row[_COL["run_id"]]), []).append(row)
    passed = [rows for rows in runs.values() if all(r[_COL["status"]] == Status.PASS.value for r in rows)]
    if not passed:
        return "never (no unannounced run passed every drill)"
    latest = max(passed, key=lambda rows: str(rows[0][_COL["started"]] or ""))
    return _when(latest[0], what=f"run {latest[0][_COL['run_id']]}")


def _when(row: tuple[Any, ...] | None, *, what: str = "") -> str:
    if row is None:
        return "never"
    day = timefmt.day(timefmt.parse_iso(str(row[_COL["started"]] or "")))
    return f"{day or 'date not recorded'} ({what or 'record ' + str(row[_COL['record_id']])})"


def history_rows(directory: Path) -> list[tuple[Any, ...]]:
    """Every drill row of the journal in ``directory`` (cached like ``drillbook history``)."""
    return [r for r in frame.load_rows(directory, cache=True) if r[frame.KIND] == DRILL_KIND]
