"""A drill's phases against its scenario's expected timeline, from its own section of the DR
procedures (:mod:`drillbook.harness.phases`), with the phases the drill did not time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from drillbook.harness.durations import format_duration
from drillbook.harness.phases import PHASES, ExpectedTimeline, phase_of
from drillbook.harness.records import DrillResult
from drillbook.harness.redact import redact_text
from drillbook.reports import timefmt


@dataclass(frozen=True)
class PhaseRow:
    name: str
    started: str
    start_offset_s: float | None  # since the test start
    duration_s: float | None  # None: this procedure phase was not timed by the drill
    duration: str
    expected_s: float | None
    expected: str
    expected_source: str
    procedure_s: float | None  # the scenario's section's expectation for this phase
    cumulative: str
    procedure_cumulative: str
    state: str  # within | over | failed | no expectation | not timed
    over: str
    detail: str


@dataclass(frozen=True)
class ExpectedTimelineView:
    source: str  # "DR procedures, Scenario 5: Application Crash", or why there is none
    total: str  # the section's words: "RTO: 30 minutes"
    note: str
    known: bool


def expected_view(r: DrillResult, expected: ExpectedTimeline | None) -> ExpectedTimelineView:
    if expected is None:
        return ExpectedTimelineView(
            f"none: the DR procedures have no section for scenario {r.drill.scenario!r}",
            "",
            "Phases are compared with the drill's own expectations only.",
            False,
        )
    return ExpectedTimelineView(expected.source, expected.total_text, expected.note, True)


def phases(r: DrillResult, start: datetime | None, expected: ExpectedTimeline | None) -> tuple[PhaseRow, ...]:
    rows = []
    cumulative = 0.0
    timed = {phase_of(p.name) for p in r.phases}
    for p in r.phases:
        proc = expected.expected(p.name) if expected is not None else None
        if p.expected_s is not None:
            expected_s = p.expected_s
            same = proc is not None and abs(proc.seconds - p.expected_s) < 1e-6
            source = f"the section: {proc.basis}" if same and proc else "the drill"
        elif proc is not None:
            expected_s, source = proc.seconds, f"the section: {proc.basis}"
        else:
            expected_s, source = None, ""
        cumulative += p.duration_s
        if not p.passed:
            state, over = "failed", ""
        elif expected_s is None:
            state, over = "no expectation", ""
        elif p.duration_s > expected_s:
            extra = p.duration_s - expected_s
            pct = f" (+{extra / expected_s:.0%})" if expected_s > 0 else ""
            state, over = "over", f"+{format_duration(extra)}{pct}"
        else:
            state, over = "within", ""
        rows.append(
            PhaseRow(
                name=p.name,
                started=timefmt.clock(timefmt.parse_iso(p.started_at)),
                start_offset_s=timefmt.between(start, timefmt.parse_iso(p.started_at)),
                duration_s=p.duration_s,
                duration=format_duration(p.duration_s),
                expected_s=expected_s,
                expected=format_duration(expected_s) if expected_s is not None else "",
                expected_source=source,
                procedure_s=proc.seconds if proc is not None else None,
                cumulative=format_duration(cumulative),
                procedure_cumulative=_elapsed(expected, p.name),
                state=state,
                over=over,
                detail=redact_text(p.detail),
            )
        )
    if expected is not None:
        for phase in PHASES:
            proc = expected.expected(phase)
            if phase in timed or proc is None:
                continue
            rows.append(
                PhaseRow(
                    phase.value,
                    "",
                    None,
                    None,
                    "not timed",
                    None,
                    "",
                    "",
                    proc.seconds,
                    "",
                    "",
                    "not timed",
                    "",
                    f"this drill did not time this phase ({format_duration(proc.seconds)} expected by "
                    f"{expected.source})",
                )
            )
    return tuple(rows)


def _elapsed(expected: ExpectedTimeline | None, phase: str) -> str:
    elapsed = expected.elapsed(phase) if expected is not None else None
    return format_duration(elapsed) if elapsed is not None else ""
