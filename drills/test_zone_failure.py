"""Scenario 4: Data Center Failure (RTO 1 hour, RPO 5 minutes).

Availability zone az-a goes dark: every replica in it dies at once and the zone
is cordoned; the database primary, which the local platform places in az-a (its
standby runs in az-b), goes down with it. Workloads reschedule into az-b on their
own (the automatic part of a multi-AZ setup); the database fails over to the
standby (promote it, repoint the application). The ledger writes through the
service the whole time: streaming replication keeps the loss near zero.
"""

from __future__ import annotations

import os

import pytest

from drillbook.drills import steps
from drillbook.drills.context import Context
from drillbook.drills.platform import Platform
from drillbook.drills.twin_access import app_plane, local
from drillbook.faults.database_stop import DatabaseStop
from drillbook.faults.database_switchover import DatabaseSwitchover
from drillbook.faults.replica_promotion import ReplicaPromotion
from drillbook.faults.zone_failure import ZoneFailure
from drillbook.harness.drill import ACTIVATION, ASSESSMENT, DETECTION, RESTORATION, VERIFICATION, Drill
from drillbook.harness.environments.base import Environment
from drillbook.harness.environments.capabilities import TWIN_INTERNALS
from drillbook.harness.phases import expected_phases
from drillbook.harness.runbook import Runbook, Step

#: Not yet written against the role drivers: it reaches the local supervisor's zones and the local standby.
pytestmark = pytest.mark.requires_capability(TWIN_INTERNALS)
SCENARIO = "data-center-failure"
FAILED_ZONE = "az-a"
SURVIVING_ZONE = "az-b"
#: Where the local platform runs its database primary (its standby is in the other zone).
DATABASE_ZONE = os.environ.get("DRILLBOOK_DATABASE_ZONE", "az-a")


def zones_of(ctx: Context) -> str:
    """DR procedures: ``kubectl get pods -o wide`` (which AZ each pod is in)."""
    rows = [f"{r.name}@{r.zone}:{r.phase}{'' if r.ready else '(not ready)'}" for r in ctx.env.app.replicas()]
    ctx.found.setdefault("pods_seen", []).append(rows)
    return ", ".join(rows) or "no pods"


def check_database(ctx: Context) -> str:
    """DR procedures: ``aws rds describe-db-instances`` — is the primary up, is there a standby?"""
    primary_up = ctx.env.database.running()
    lag = ctx.env.replica.lag_s() if ctx.env.replica.running() else None
    ctx.found["failover_needed"] = not primary_up
    ctx.drill.extra["replication_lag_at_failure_s"] = lag
    return f"primary {'up' if primary_up else 'DOWN'}; standby lag {lag}"


def promote_standby(ctx: Context) -> str:
    """RDS Multi-AZ fails over to the standby; here: promote it."""
    if not ctx.found.get("failover_needed"):
        return "the primary is up: no database failover"
    ctx.drill.apply(ReplicaPromotion(**ctx.where()))
    return "standby promoted"


def repoint_application(ctx: Context) -> str:
    if not ctx.found.get("failover_needed"):
        return "no database failover: nothing to repoint"
    replica = local(ctx.env).local_replica
    # Bounded: replicas that cannot be scheduled must fail the drill in seconds, not minutes.
    ctx.drill.apply(DatabaseSwitchover(**ctx.where(), instance="standby", port=replica.port, timeout=30.0))
    return f"DATABASE_URL repointed at the promoted standby (port {replica.port})"


def rescheduled(ctx: Context) -> str:
    """DR procedures: "Kubernetes should auto-reschedule pods"; verify they run in az-b."""

    def all_moved() -> bool:
        pods = ctx.env.app.replicas()
        return bool(pods) and all(p.zone == SURVIVING_ZONE and p.ready for p in pods)

    ctx.drill.wait_until(
        all_moved, timeout="60s", interval="0.2s", what=f"every API replica rescheduled into {SURVIVING_ZONE}"
    )
    return zones_of(ctx)


def verify_zones(ctx: Context) -> str:
    pods = ctx.env.app.replicas()
    in_failed = [p.name for p in pods if p.zone == FAILED_ZONE]
    ctx.drill.verify(f"no replica left in {FAILED_ZONE}", (not in_failed, ", ".join(in_failed) or "none"))
    ready = [p for p in pods if p.ready]
    ctx.drill.verify(
        "every API replica ready", (len(ready) == len(pods) and pods != [], f"{len(ready)}/{len(pods)} ready")
    )
    return zones_of(ctx)


ZONE_FAILOVER = Runbook(
    name="Scenario 4: Data Center Failure",
    overview="An availability zone is lost. Confirm the database failed over to its standby and the "
    "application was rescheduled into the surviving zone; force it where it did not happen.",
    prerequisites=("a multi-AZ deployment (replicas in az-a and az-b)", "a standby in another zone"),
    expected_phases=expected_phases(SCENARIO),
    steps=[
        Step(
            "detect",
            DETECTION,
            steps.await_detection,
            commands="aws ec2 describe-availability-zones\naws rds describe-db-instances",
        ),
        Step("pods per zone", ASSESSMENT, zones_of, commands="kubectl get pods -n production -o wide"),
        Step(
            "database status",
            ASSESSMENT,
            check_database,
            commands="aws rds describe-db-instances --query 'DBInstances[*].[...,AvailabilityZone,...]'",
        ),
        Step(
            "fail over the database",
            ACTIVATION,
            promote_standby,
            estimated="5m",
            role="Database Admin",
            commands="aws rds describe-events --source-identifier compliant-prod --duration 60",
        ),
        Step("repoint the application", ACTIVATION, repoint_application, estimated="5m"),
        Step(
            "rescheduled into the surviving zone",
            RESTORATION,
            rescheduled,
            estimated="10m",
            commands="kubectl drain node-in-failed-az --ignore-daemonsets --delete-emptydir-data\n"
            "kubectl get pods -n production",
        ),
        Step("await recovery", RESTORATION, steps.await_recovery),
        Step(
            "verify zones",
            VERIFICATION,
            verify_zones,
            commands="kubectl get pods -o custom-columns=NAME:.metadata.name,AZ:.spec.nodeSelector",
        ),
        Step("smoke checks", VERIFICATION, steps.smoke_checks),
    ],
    verification="Every replica runs and is ready in az-b; the database answers writes; no acknowledged "
    "write lost beyond the RPO.",
    rollback="Uncordon the zone when it returns; fail the database back in a maintenance window.",
)


@pytest.mark.drill(
    scenario=SCENARIO,
    option="zone az-a lost",
    tier="quarterly",
    rto="1h",
    rpo="5m",
    severity=1,
    component="database",
)
def test_zone_failure(drill: Drill, env: Environment, platform: Platform) -> None:
    ctx = Context(drill, env, platform)
    drill.steady_state(platform.health_probe())
    ctx.found["ledgers"] = [drill.ledger(platform.ledger_store())]
    steps.wait_for_acks(ctx)
    zone = drill.inject(ZoneFailure(FAILED_ZONE, state_dir=_supervisor_dir(env)))
    database = (
        drill.inject(DatabaseStop(**ctx.where(), mode="immediate")) if DATABASE_ZONE == FAILED_ZONE else None
    )
    ZONE_FAILOVER.run(drill, ctx)
    drill.reconcile()
    # The zone comes back: its machines and the old primary return before the changes are undone.
    drill.heal(zone)
    if database is not None:
        drill.heal(database)


def _supervisor_dir(env: Environment) -> str:
    plane = app_plane(env)
    return str(plane.state_dir)
