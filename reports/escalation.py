"""The escalation path of a drill's report and the measured time to engage (drills that page)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drillbook.harness.durations import format_duration
from drillbook.harness.records import DrillResult
from drillbook.reports.options import ReportOptions
from drillbook.reports.reference import LEVEL_4


@dataclass(frozen=True)
class EscalationLevel:
    level: int
    who: str
    respond_within: str
    paged: str  # what happened at this level in this drill, or ""


@dataclass(frozen=True)
class Escalation:
    path: tuple[EscalationLevel, ...]
    level_4: str
    paged: bool
    time_to_engage: str
    met: bool | None  # acknowledged within the acknowledging level's time; None: not paged


def escalation(r: DrillResult, options: ReportOptions) -> Escalation:
    engagement = r.engagement
    paged = {p.level: p for p in engagement.levels} if engagement is not None else {}
    path = tuple(
        EscalationLevel(
            level.number,
            f"{level.name} ({level.contact})" if level.contact else level.name,
            format_duration(level.respond_within_s),
            _paged_text(paged.get(level.number)),
        )
        for level in options.escalation
    )
    if engagement is None or engagement.outcome == "not paged":
        why = f" ({engagement.detail})" if engagement is not None and engagement.detail else ""
        return Escalation(path, LEVEL_4, False, f"not measured: this drill paged no one{why}", None)
    if engagement.outcome != "acknowledged" or engagement.time_to_engage_s is None:
        return Escalation(
            path, LEVEL_4, True, f"NOT ENGAGED: {engagement.outcome} (levels paged: {len(paged)})", False
        )
    level = next((lv for lv in options.escalation if lv.number == engagement.acked_level), None)
    limit = level.respond_within_s if level is not None else None
    met = None if limit is None else engagement.time_to_engage_s <= limit
    text = (
        f"{format_duration(engagement.time_to_engage_s)} from the first page, acknowledged by "
        f"{engagement.acked_by or 'someone'} at level {engagement.acked_level} after "
        f"{engagement.escalations} escalation(s)"
    )
    if limit is not None:
        text += f" ({'within' if met else 'OVER'} the level's {format_duration(limit)})"
    return Escalation(path, LEVEL_4, True, text, met)


def _paged_text(page: Any) -> str:
    if page is None:
        return ""
    waited = f" after {format_duration(page.waited_s)}" if page.waited_s is not None else ""
    return f"{page.outcome}{waited}"
