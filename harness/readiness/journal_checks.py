"""Checks read from the journal: what was drilled, when, and with which probes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from drillbook.harness.durations import format_duration
from drillbook.harness.events import Event
from drillbook.harness.readiness.model import Item, failed, passed
from drillbook.harness.records import DrillResult, Status
from drillbook.harness.timing import iso

if TYPE_CHECKING:
    import pandas as pd

BACKUP_LINE = "Backup systems tested monthly"
FAILOVER_LINE = "Automated failover tested"
MONITORING_LINE = "Monitoring and alerting configured"


@dataclass(frozen=True)
class SuiteDrill:
    """What the suite declares about one drill (from its marker)."""

    scenario: str
    option: str | None
    tier: str | None
    component: str | None


def finished(record: DrillResult) -> datetime | None:
    stamp = record.finished_at or record.started_at
    if not stamp:
        return None
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def evidence(records: Iterable[DrillResult]) -> list[DrillResult]:
    """Records that count as evidence: finished, and not synthetic (demo) data."""
    return [r for r in records if finished(r) is not None and not r.extra.get("synthetic")]


def is_backup_drill(record: DrillResult, names: Sequence[str]) -> bool:
    if names:
        keys = {record.drill.scenario.lower()}
        if record.drill.option:
            keys.add(f"{record.drill.scenario}/{record.drill.option}".lower())
        return bool(keys & {n.lower() for n in names})
    text = " ".join(
        filter(
            None, (record.drill.scenario, record.drill.option, record.drill.nodeid, record.drill.description)
        )
    ).lower()
    return "backup" in text


def backup_verified(
    records: Sequence[DrillResult], *, now: datetime, max_age_days: int, names: Sequence[str]
) -> Item:
    title = f"a backup verification drill passed within {max_age_days} days"
    backups = [r for r in records if is_backup_drill(r, names)]
    good = [r for r in backups if r.status is Status.PASS]
    latest = max(good, key=lambda r: finished(r) or now, default=None)
    if latest is None:
        seen = f"; {len(backups)} backup drill(s) in the journal, none passed" if backups else ""
        return failed(
            "backup_drill",
            title,
            BACKUP_LINE,
            f"no passed backup verification drill in the journal{seen}: run `drillbook run "
            "--schedule monthly`",
        )
    when = finished(latest)
    assert when is not None
    age = now - when
    detail = (
        f"{latest.drill.scenario} ({latest.drill.nodeid}) passed {format_duration(age.total_seconds())} ago"
    )
    facts = {"record_id": latest.record_id, "finished_at": iso(when), "age_s": round(age.total_seconds())}
    if age > timedelta(days=max_age_days):
        return failed("backup_drill", title, BACKUP_LINE, detail + f", over {max_age_days} days", **facts)
    return passed("backup_drill", title, BACKUP_LINE, detail, **facts)


def scenarios_fresh(
    drills: Sequence[SuiteDrill],
    records: Sequence[DrillResult],
    *,
    now: datetime,
    cadence_days: Mapping[str, int],
    schedule: str | None = None,
) -> Item:
    """Every scenario of the suite has a passing drill within its cadence, judged by the reports'
    freshness matrix (the same cells ``drillbook history`` shows): a scenario's own tiers and,
    as the DR testing schedule asks every scenario once a year, annual; with ``schedule`` only
    that tier."""
    from drillbook.reports.freshness import matrix

    title = "every scenario drilled within its cadence"
    expected: dict[str, set[str]] = {}
    for d in drills:
        if schedule in (None, "annual"):
            expected.setdefault(d.scenario, set()).update({d.tier or "annual", "annual"})
        elif d.tier == schedule:
            expected.setdefault(d.scenario, set()).add(schedule)
    if not expected:
        tier = f" of the {schedule} tier" if schedule else ""
        return failed(
            "freshness", title, FAILOVER_LINE, f"the drill suite has no drills{tier}: nothing to drill"
        )
    cells = matrix(_frame(records), now, dict(cadence_days), key="scenario")
    problems: list[str] = []
    fresh: list[str] = []
    for scenario, tiers in sorted(expected.items()):
        for tier in sorted(tiers, key=list(cadence_days).index):
            if scenario not in cells.scenarios:
                problems.append(f"{scenario} ({tier}): never drilled")
                continue
            cell = cells.cell(scenario, tier)
            (problems if cell.overdue else fresh).append(f"{scenario} ({tier}): {cell.text}")
    facts = {"scenarios": len(expected), "cells": len(problems) + len(fresh), "overdue": len(problems)}
    if problems:
        return failed("freshness", title, FAILOVER_LINE, "; ".join(problems), **facts)
    return passed("freshness", title, FAILOVER_LINE, "; ".join(fresh), **facts)


def _frame(records: Sequence[DrillResult]) -> pd.DataFrame:
    """The reports' history frame of ``records`` (see :func:`drillbook.reports.frame.load_frame`)."""
    import pandas as pd

    from drillbook.reports.frame import COLUMNS, row

    frame = pd.DataFrame.from_records(
        [row(r.to_dict(), r.record_id or "") for r in records], columns=list(COLUMNS)
    )
    frame["started"] = pd.to_datetime(frame["started"], utc=True, format="ISO8601")
    return frame


def probes_defined(
    drills: Sequence[SuiteDrill], records: Sequence[DrillResult], environment_probes: Sequence[str]
) -> Item:
    """Each component the suite drills had a steady state of probes in its latest drill."""
    title = "probes defined for every component"
    components = sorted({d.component for d in drills if d.component})
    if not components:
        return failed("probes", title, MONITORING_LINE, "no drill of the suite names a component")
    missing, found = [], []
    for component in components:
        runs = [r for r in records if r.drill.component == component]
        last = max(runs, key=_sort_key) if runs else None
        probes = _probes(last) if last is not None else []
        if probes:
            found.append(f"{component}: {', '.join(probes)}")
        else:
            missing.append(component if last is None else f"{component} (its last drill had no probe)")
    extra = f"; environment steady state: {', '.join(environment_probes)}" if environment_probes else ""
    if missing:
        return failed(
            "probes",
            title,
            MONITORING_LINE,
            f"no steady-state probe on record for {', '.join(missing)}{extra}",
            components=components,
        )
    return passed("probes", title, MONITORING_LINE, "; ".join(found) + extra, components=components)


def _sort_key(record: DrillResult) -> str:
    return record.finished_at or record.started_at or ""


def _probes(record: DrillResult) -> list[str]:
    for event in record.timeline:
        if event.event == Event.STEADY_STATE_HOLDS and event.detail:
            return [p.strip() for p in event.detail.split(",") if p.strip()]
    return []
