"""Runbooks: the scripted recovery as timed steps that carry the fields of the DR
procedures' runbook template, so a runbook document can be generated from code.

A :class:`Runbook` is declared once (module level in a drill file) and run by a
drill with :meth:`Runbook.run`; each step is timed inside the drill phase it
belongs to (the DR procedures' expected timeline). ``to_markdown()`` renders the
DR procedures' "Runbook Template".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from drillbook.harness.calls.scope import scope
from drillbook.harness.durations import format_duration, parse_duration
from drillbook.harness.environments.capabilities import check_names
from drillbook.harness.events import Event
from drillbook.harness.records import CallerKind
from drillbook.harness.redact import redact_text

if TYPE_CHECKING:
    from drillbook.harness.drill import Drill

Action = Callable[[Any], Any]


@dataclass
class Step:
    """One step: what to do (``action(context)``) and the template's fields around it."""

    name: str
    phase: str
    action: Action
    instructions: str = ""
    commands: str = ""
    expected_output: str = ""
    if_it_fails: tuple[str, ...] = ()
    estimated: str | float | timedelta | None = None
    role: str = ""  # who performs it (DR Team Roles), e.g. "Database Admin"
    #: A capability the step needs (``database.data_directory``): where the environment lacks
    #: it the step is reported as not run, with why, and the rest of the runbook runs.
    requires: str | None = None

    def __post_init__(self) -> None:
        if self.requires is not None:
            check_names([self.requires], where=f"step {self.name!r}")

    @property
    def estimated_s(self) -> float | None:
        return (
            None
            if self.estimated is None
            else parse_duration(self.estimated, what=f"estimate of {self.name!r}")
        )


@dataclass
class StepResult:
    name: str
    phase: str
    duration_s: float
    passed: bool
    detail: str = ""
    value: Any = None


@dataclass
class Runbook:
    """A recovery procedure in the DR procedures' runbook template."""

    name: str
    overview: str
    steps: list[Step]
    prerequisites: tuple[str, ...] = ()
    verification: str = ""
    rollback: str = ""
    notes: str = ""
    #: Expected duration of each phase (the scenario's Expected Timeline).
    expected_phases: Mapping[str, str | float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for step in self.steps:
            _ = step.estimated_s  # validate early: a bad estimate is a config error at import

    @property
    def estimated_s(self) -> float | None:
        known = [s.estimated_s for s in self.steps if s.estimated_s is not None]
        return sum(known) if known else None

    def phases(self) -> list[str]:
        seen: list[str] = []
        for step in self.steps:
            if step.phase not in seen:
                seen.append(step.phase)
        return seen

    def steps_in(self, phase: str) -> Iterator[Step]:
        return (s for s in self.steps if s.phase == phase)

    def run(
        self, drill: Drill, context: Any, *, only: set[str] | None = None, skip: set[str] | None = None
    ) -> dict[str, StepResult]:
        """Run the steps in order, each phase timed by ``drill.phase``.

        ``skip`` leaves steps out (how mutation tests break a recovery on purpose);
        a skipped step is recorded in the timeline. A step that raises ends the
        runbook: the exception propagates and the drill records it.
        """
        results: dict[str, StepResult] = {}
        for phase in self.phases():
            expected = self.expected_phases.get(phase)
            with drill.phase(phase, expected=expected):
                for step in self.steps_in(phase):
                    if (only is not None and step.name not in only) or (skip and step.name in skip):
                        drill.note(Event.RUNBOOK_STEP_SKIPPED, step.name)
                        continue
                    if step.requires is not None and not drill.can(step.requires, part=step.name):
                        continue
                    results[step.name] = self._run_step(drill, step, context)
        drill.extra.setdefault("runbooks", []).append(
            {
                "name": self.name,
                "steps": [
                    {
                        "name": r.name,
                        "phase": r.phase,
                        "duration_s": round(r.duration_s, 6),
                        "passed": r.passed,
                        "detail": r.detail,
                    }
                    for r in results.values()
                ],
            }
        )
        return results

    def _run_step(self, drill: Drill, step: Step, context: Any) -> StepResult:
        drill.note(Event.RUNBOOK_STEP, step.name)
        start = time.monotonic()
        try:
            with scope(drill.calls, CallerKind.STEP, step.name):
                value = drill.action_for(step.name, step.action)(context)
        except Exception as exc:
            failure = f"{step.name}: {type(exc).__name__}: {redact_text(str(exc))}"
            drill.note(Event.RUNBOOK_STEP_FAILED, failure)
            raise
        duration = time.monotonic() - start
        detail = "" if value is None else redact_text(str(value))[:500]
        drill.note(Event.RUNBOOK_STEP_DONE, f"{step.name} ({format_duration(duration)})")
        return StepResult(step.name, step.phase, duration, True, detail, value)

    def to_markdown(self) -> str:
        """The DR procedures' runbook template, filled from this runbook."""
        out = [f"# {self.name}", "", "## Overview", self.overview.strip(), "", "## Prerequisites"]
        out += [f"- {p}" for p in self.prerequisites] or ["- none"]
        out += ["", "## Estimated Time", format_duration(self.estimated_s), "", "## Steps", ""]
        for number, step in enumerate(self.steps, start=1):
            out += [
                f"### {number}. {step.name}",
                f"*Phase: {step.phase}*"
                + (f" · *Role: {step.role}*" if step.role else "")
                + (f" · *Estimated: {format_duration(step.estimated_s)}*" if step.estimated else "")
                + (f" · *Needs: {step.requires}*" if step.requires else ""),
                "",
            ]
            if step.instructions:
                out += [step.instructions.strip(), ""]
            if step.commands:
                out += ["```bash", step.commands.strip(), "```", ""]
            if step.expected_output:
                out += ["**Expected Output:**", "```", step.expected_output.strip(), "```", ""]
            if step.if_it_fails:
                out += ["**If it fails:**"] + [f"- {item}" for item in step.if_it_fails] + [""]
        out += [
            "## Verification",
            self.verification.strip() or "-",
            "",
            "## Rollback",
            self.rollback.strip() or "-",
            "",
            "## Notes",
            self.notes.strip() or "-",
            "",
        ]
        return "\n".join(out)
