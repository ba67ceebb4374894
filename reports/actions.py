"""A drill's action items: the DR procedures item, one per issue worth fixing, training.

The procedures item never proposes changing production targets from a simulation's figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from drillbook.harness.durations import format_duration
from drillbook.harness.records import DrillResult
from drillbook.reports import timefmt
from drillbook.reports.findings import Finding, Severity
from drillbook.reports.options import ReportOptions


@dataclass(frozen=True)
class ActionItem:
    text: str
    owner: str
    due: str


def action_items(
    r: DrillResult,
    found: list[Finding],
    start: datetime | None,
    options: ReportOptions,
    simulation: bool,
    figure: str,
) -> tuple[ActionItem, ...]:
    def due(key: str) -> str:
        days = options.due_days.get(key)
        return "" if days is None or start is None else timefmt.day(start + timedelta(days=days))

    numbered = [
        (i, f) for i, f in enumerate(found, 1) if f.severity is not Severity.LOW or f.kind == "no-target"
    ]
    refs = ", ".join(f"#{i}" for i, _ in numbered)
    if simulation:
        text = (
            f"Review the DR procedures' steps for {r.drill.scenario} against issues {refs}"
            if refs
            else f"No change to the DR procedures' steps for {r.drill.scenario} from this drill"
        )
        text += (
            "; its figures come from a simulation on the local twin, not from production: they are no "
            "grounds to change the RTO/RPO targets"
        )
    else:
        measured = format_duration(r.measured.rto_s) if r.measured.rto_s is not None else "(none)"
        text = (
            f"Compare the measured {figure} {measured} and RPO {format_duration(r.measured.rpo_s)} of "
            f"{r.drill.scenario} with the DR procedures' targets and update the procedures where they no "
            "longer hold" + (f" (issues {refs})" if refs else "")
        )
    items = [ActionItem(text, options.owner("procedures"), due("procedures"))]
    items += [
        ActionItem(
            f"Fix issue #{i} ({f.severity}): {f.action}", options.owner("fix"), due(f.severity.value.lower())
        )
        for i, f in numbered
    ]
    items.append(
        ActionItem("Schedule training on this scenario's runbook", options.owner("training"), due("training"))
    )
    return tuple(items)
