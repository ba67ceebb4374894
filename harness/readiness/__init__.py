"""``drillbook readiness``: the DR procedures' Pre-Disaster Preparation checklist, automated
where the journal, the environment and the repository can show it."""

from drillbook.harness.readiness.checklist import PRE_DISASTER, Inputs, check, database_rpo
from drillbook.harness.readiness.journal_checks import SuiteDrill
from drillbook.harness.readiness.model import Item, Readiness, State
from drillbook.harness.readiness.render import FORMATS, render

__all__ = [
    "FORMATS",
    "PRE_DISASTER",
    "Inputs",
    "Item",
    "Readiness",
    "State",
    "SuiteDrill",
    "check",
    "database_rpo",
    "render",
]
