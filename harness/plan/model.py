"""The drill plan: what a run will break, what it must achieve and how it recovers.

Plain data, built from the suite's markers and runbooks (``collect``/``build``)
and rendered for review (``render``). Nothing here refers to live objects, so a
plan can be rendered, compared or serialised after the suite's modules are gone.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PlanFault:
    """A fault a drill injects, with what it can break and how it is undone."""

    name: str
    qualname: str
    blast_radius: str
    rollback: str
    registered: bool
    summary: str = ""


@dataclass(frozen=True)
class PlanStep:
    name: str
    phase: str
    estimated_s: float | None
    role: str = ""
    expected_output: str = ""
    if_it_fails: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanPhase:
    """A phase of the expected timeline: its expected duration and its steps' estimates."""

    name: str
    expected_s: float | None
    estimated_s: float | None
    steps: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanRunbook:
    name: str
    overview: str
    prerequisites: tuple[str, ...]
    estimated_s: float | None
    phases: tuple[PlanPhase, ...]
    steps: tuple[PlanStep, ...]
    verification: str
    rollback: str
    markdown: str

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.role for s in self.steps if s.role))


@dataclass(frozen=True)
class PlanTargets:
    rto_s: float | None
    rpo_s: float | None
    rto_source: str | None
    rpo_source: str | None


@dataclass
class PlanDrill:
    """One drill (one test) of the suite."""

    nodeid: str
    scenario: str
    option: str | None
    tier: str | None
    severity: int | None
    component: str | None
    description: str | None
    targets: PlanTargets
    faults: list[PlanFault] = field(default_factory=list)
    runbooks: list[PlanRunbook] = field(default_factory=list)
    #: Phases the drill's own code opens (``drill.phase(name, expected=...)``).
    phases: list[PlanPhase] = field(default_factory=list)
    owner: str = ""
    risks: list[str] = field(default_factory=list)
    #: A marker the harness rejects: the drill would fail before injecting anything.
    error: str | None = None

    @property
    def title(self) -> str:
        return f"{self.scenario} ({self.option})" if self.option else self.scenario

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r for rb in self.runbooks for r in rb.roles))


@dataclass
class PlanScenario:
    """The drills of one scenario, in suite order."""

    name: str
    drills: list[PlanDrill]

    @property
    def tiers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(d.tier or "untiered" for d in self.drills))


@dataclass
class DrillPlan:
    generated_at: str
    schedule: str | None
    suite: str
    config: str
    environment: str
    drills: list[PlanDrill] = field(default_factory=list)
    #: Files the suite could not even collect (import errors): they would not run.
    collection_errors: list[str] = field(default_factory=list)

    @property
    def scenarios(self) -> list[PlanScenario]:
        groups: dict[str, list[PlanDrill]] = {}
        for drill in self.drills:
            groups.setdefault(drill.scenario, []).append(drill)
        return [PlanScenario(name, drills) for name, drills in groups.items()]

    @property
    def faults(self) -> list[PlanFault]:
        """Every distinct fault of the plan, first use first."""
        seen: dict[str, PlanFault] = {}
        for drill in self.drills:
            for fault in drill.faults:
                seen.setdefault(fault.qualname, fault)
        return list(seen.values())

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
