"""Drill plans: the suite's scenarios, faults, targets, runbooks and risks for review."""

from drillbook.harness.plan.build import build_plan
from drillbook.harness.plan.collect import Collection, CollectionFailed, collect
from drillbook.harness.plan.model import DrillPlan, PlanDrill, PlanFault, PlanRunbook
from drillbook.harness.plan.render import FORMATS, render, write

__all__ = [
    "FORMATS",
    "Collection",
    "CollectionFailed",
    "DrillPlan",
    "PlanDrill",
    "PlanFault",
    "PlanRunbook",
    "build_plan",
    "collect",
    "render",
    "write",
]
