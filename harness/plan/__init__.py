"""Drill plans: the suite's scenarios, faults, targets, runbooks and risks for review."""

from harness.plan.build import build_plan
from harness.plan.collect import Collection, CollectionFailed, collect
from harness.plan.model import DrillPlan, PlanDrill, PlanFault, PlanRunbook
from harness.plan.render import FORMATS, render, write

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
