"""Turn a collected suite into a :class:`DrillPlan`: faults, runbooks, owners, risks."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from typing import Any

from drillbook.faults.base import Reversible
from drillbook.harness.durations import format_duration, parse_duration
from drillbook.harness.plan.collect import CollectedDrill, Collection
from drillbook.harness.plan.model import (
    DrillPlan,
    PlanDrill,
    PlanFault,
    PlanPhase,
    PlanRunbook,
    PlanStep,
    PlanTargets,
)
from drillbook.harness.registry import registered_faults
from drillbook.harness.runbook import Runbook
from drillbook.harness.timing import iso

# The DR procedures' "Disaster Classification".
SEVERITY = {
    1: "Severity 1 (critical): complete outage, data center failure, breach or corruption of all data",
    2: "Severity 2 (high): partial outage or single-region failure with failover available",
    3: "Severity 3 (medium): degradation or a non-critical component failing",
}


def build_plan(
    collection: Collection,
    *,
    schedule: str | None,
    suite: str,
    environment: str = "local",
    now: datetime | None = None,
) -> DrillPlan:
    owners = Owners(collection.config_data)
    plan = DrillPlan(
        generated_at=iso(now or datetime.now(UTC)),
        schedule=schedule,
        suite=suite,
        config=collection.config_where,
        environment=environment,
        collection_errors=list(collection.errors),
    )
    plan.drills = [_drill(item, owners) for item in collection.drills]
    return plan


def _drill(item: CollectedDrill, owners: Owners) -> PlanDrill:
    spec = item.spec
    if spec is None:
        name = item.nodeid.rsplit("::", 1)[-1]
        return PlanDrill(
            nodeid=item.nodeid,
            scenario=name,
            option=None,
            tier=None,
            severity=None,
            component=None,
            description=None,
            targets=PlanTargets(None, None, None, None),
            error=item.error,
            risks=[f"invalid drill marker: {item.error}"],
        )
    drill = PlanDrill(
        nodeid=item.nodeid,
        scenario=spec.scenario,
        option=spec.option,
        tier=spec.tier,
        severity=spec.severity,
        component=spec.component,
        description=spec.description,
        targets=PlanTargets(spec.rto_s, spec.rpo_s, spec.rto_source, spec.rpo_source),
        faults=[plan_fault(cls) for cls in item.faults],
        runbooks=[plan_runbook(rb) for rb in item.runbooks],
        phases=[PlanPhase(name, expected, None) for name, expected in item.phases],
    )
    drill.owner = owners.owner_of(drill)
    drill.risks = risks(drill)
    return drill


def plan_fault(cls: type[Reversible]) -> PlanFault:
    registered = registered_faults().get(cls.name) is cls
    doc = inspect.getdoc(cls) or ""
    return PlanFault(
        name=cls.name,
        qualname=f"{cls.__module__}.{cls.__qualname__}",
        blast_radius=cls.blast_radius,
        rollback=cls.rollback,
        registered=registered,
        summary=doc.split("\n\n", 1)[0].replace("\n", " "),
    )


def plan_runbook(runbook: Runbook) -> PlanRunbook:
    steps = tuple(
        PlanStep(
            name=s.name,
            phase=s.phase,
            estimated_s=s.estimated_s,
            role=s.role,
            expected_output=s.expected_output.strip(),
            if_it_fails=tuple(s.if_it_fails),
        )
        for s in runbook.steps
    )
    phases = []
    for phase in runbook.phases():
        in_phase = [s for s in steps if s.phase == phase]
        estimates = [s.estimated_s for s in in_phase if s.estimated_s is not None]
        expected = runbook.expected_phases.get(phase)
        phases.append(
            PlanPhase(
                name=phase,
                expected_s=None if expected is None else parse_duration(expected, what=f"phase {phase!r}"),
                estimated_s=sum(estimates) if estimates else None,
                steps=tuple(s.name for s in in_phase),
            )
        )
    return PlanRunbook(
        name=runbook.name,
        overview=runbook.overview.strip(),
        prerequisites=tuple(runbook.prerequisites),
        estimated_s=runbook.estimated_s,
        phases=tuple(phases),
        steps=steps,
        verification=runbook.verification.strip(),
        rollback=runbook.rollback.strip(),
        markdown=runbook.to_markdown(),
    )


def risks(drill: PlanDrill) -> list[str]:
    """What a reviewer should weigh before approving the drill."""
    found = []
    if drill.severity in SEVERITY:
        found.append(SEVERITY[drill.severity])
    if not drill.faults:
        found.append("no fault found in the drill's code: review what it breaks before running it")
    for fault in drill.faults:
        if not fault.registered:
            found.append(
                f"fault {fault.name} is not registered (entry point group drillbook.fault_injectors): "
                f"`drillbook revert` cannot undo it after a runner crash; by hand: {fault.rollback}"
            )
        if fault.blast_radius in ("", "unspecified"):
            found.append(f"fault {fault.name} does not state its blast radius")
    if not drill.runbooks:
        found.append("no runbook: the recovery steps are not documented")
    for rb in drill.runbooks:
        unestimated = [s.name for s in rb.steps if s.estimated_s is None]
        if unestimated:
            found.append(f"runbook {rb.name!r}: {len(unestimated)} step(s) without an estimate")
        if not rb.rollback:
            found.append(f"runbook {rb.name!r} has no rollback")
        target = drill.targets.rto_s
        if rb.estimated_s is not None and target is not None and rb.estimated_s > target:
            found.append(
                f"runbook {rb.name!r} is estimated at {format_duration(rb.estimated_s)}, "
                f"over the RTO target {format_duration(target)}"
            )
    if drill.targets.rto_s is None:
        found.append("no RTO target: recovery time is measured but not judged")
    if drill.targets.rpo_s is None and drill.component not in (None, "cache", "redis"):
        found.append("no RPO target: data loss is measured but not judged")
    return found


class Owners:
    """Who owns a drill, from ``[plan]`` (``owners`` by scenario, option or component,
    then ``owner``) or ``[report]`` (``owner``, ``led_by``); blank when unknown."""

    def __init__(self, config: dict[str, Any]) -> None:
        plan = _table(config.get("plan"))
        report = _table(config.get("report"))
        table = _table(plan.get("owners"))
        self.table = {str(k).lower(): str(v) for k, v in table.items()}
        self.default = str(
            plan.get("owner") or report.get("owner") or report.get("led_by") or report.get("led-by") or ""
        )

    def owner_of(self, drill: PlanDrill) -> str:
        keys = []
        if drill.option:
            keys.append(f"{drill.scenario}/{drill.option}")
        keys.append(drill.scenario)
        if drill.component:
            keys.append(drill.component)
        for key in keys:
            if key.lower() in self.table:
                return self.table[key.lower()]
        return self.default


def _table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
