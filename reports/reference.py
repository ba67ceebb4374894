"""Figures and lists taken from the DR procedures (``docs/dr-procedures.md``) that reports use.

The phases and each scenario's expected timeline live in :mod:`drillbook.harness.phases`
(the drills time them too); this module holds what only reports need: the testing
cadences, the default sign-off roles, the incident levels, and the catalogue of what
the procedures ask to be exercised, against which a report states its scope.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: "DR Testing Schedule": how often each tier must pass, in days (a month, a quarter, a year).
CADENCE_DAYS: dict[str, int] = {"monthly": 31, "quarterly": 92, "annual": 366}
TIERS = tuple(CADENCE_DAYS)

#: The Test Documentation Template's default sign-off roles.
SIGN_OFF_ROLES = ("DR Manager", "IT Director")

#: "Disaster Classification": the words of each severity, and the internal plan's "P1 (Critical)".
SEVERITY_WORDS = {1: "Critical", 2: "High", 3: "Medium"}

#: "Escalation Path", Level 4: never paged by a drill.
LEVEL_4 = "Level 4: CEO (critical incidents only); a drill never pages it"

#: The internal communication plan's update cadence ("Incident Updates (Every 15-30 minutes)").
UPDATE_EVERY_S = 15 * 60.0


@dataclass(frozen=True)
class ProcedureItem:
    """A scenario option or a test of the procedures' "DR Testing Schedule" a run may exercise.

    A drill record covers it when its scenario is ``scenario`` and, for an item with
    ``codes``, its option starts with one of them ("2B table lost ...") or, for an
    option without such a code, holds one of ``words``.
    """

    key: str
    title: str
    cadence: str  # how often the procedures ask for it: monthly, quarterly, annual
    scenario: str = ""
    codes: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    #: Covered only by an unannounced run (the annual complete disaster simulation).
    unannounced: bool = False
    #: Why drillbook cannot exercise it (a document review); "" when a drill can.
    not_a_drill: str = ""


CATALOGUE: tuple[ProcedureItem, ...] = (
    ProcedureItem(
        "monthly-backup", "Monthly: Database Backup Verification", "monthly", "backup-verification"
    ),
    ProcedureItem("monthly-deploy", "Monthly: Application Deployment Test", "monthly", "deployment-test"),
    ProcedureItem(
        "1A",
        "Scenario 1, Option A: Primary Infrastructure Recovery",
        "quarterly",
        "complete-infrastructure-failure",
        ("1A",),
        ("primary", "restart"),
    ),
    ProcedureItem(
        "1B",
        "Scenario 1, Option B: Failover to DR Region",
        "quarterly",
        "complete-infrastructure-failure",
        ("1B",),
        ("failover", "dr region"),
    ),
    ProcedureItem(
        "quarterly-failover",
        "Quarterly: Full DR Failover Test (failover to the DR region)",
        "quarterly",
        "complete-infrastructure-failure",
        ("1B",),
        ("failover", "dr region"),
    ),
    ProcedureItem(
        "2A",
        "Scenario 2, Option A: Minor Corruption (VACUUM/REINDEX)",
        "monthly",
        "database-corruption",
        ("2A",),
        ("minor", "vacuum", "reindex"),
    ),
    ProcedureItem(
        "2B",
        "Scenario 2, Option B: Restore from Latest Snapshot",
        "monthly",
        "database-corruption",
        ("2B",),
        ("snapshot",),
    ),
    ProcedureItem(
        "2C",
        "Scenario 2, Option C: Point-in-Time Recovery (PITR)",
        "monthly",
        "database-corruption",
        ("2C",),
        ("pitr", "point-in-time"),
    ),
    ProcedureItem("3", "Scenario 3: Security Breach", "quarterly", "security-breach"),
    ProcedureItem(
        "quarterly-security",
        "Quarterly: Security Incident Simulation (its technical part; the tabletop is the team's)",
        "quarterly",
        "security-breach",
    ),
    ProcedureItem("4", "Scenario 4: Data Center Failure", "quarterly", "data-center-failure"),
    ProcedureItem(
        "5A",
        "Scenario 5, Option A: Rollback to Previous Version",
        "monthly",
        "application-crash",
        ("5A",),
        ("rollback", "rollout undo"),
    ),
    ProcedureItem(
        "5B",
        "Scenario 5, Option B: Fix and Redeploy",
        "monthly",
        "application-crash",
        ("5B",),
        ("fix and redeploy", "redeploy"),
    ),
    ProcedureItem(
        "5C",
        "Scenario 5, Option C: Emergency Hotfix",
        "monthly",
        "application-crash",
        ("5C",),
        ("hotfix",),
    ),
    ProcedureItem(
        "annual-simulation",
        "Annual: Complete Disaster Simulation (unannounced)",
        "annual",
        unannounced=True,
    ),
    ProcedureItem(
        "annual-review",
        "Annual: DR Plan Review and Update",
        "annual",
        not_a_drill="a review of the procedures and contacts by people, not a drill",
    ),
)

_CODE = re.compile(r"^\s*(\d[A-Za-z])\b")


def covers(item: ProcedureItem, scenario: str, option: str, *, unannounced: bool) -> bool:
    """Whether a drill record of ``scenario`` / ``option`` exercises ``item``."""
    if item.not_a_drill:
        return False
    if item.unannounced:
        return unannounced
    if scenario != item.scenario:
        return False
    if not item.codes:
        return True
    code = _CODE.match(option)
    if code is not None:
        return code.group(1).upper() in item.codes
    text = option.lower()
    return any(word in text for word in item.words)
