"""Scenario 4: Data Center Failure (RTO 1 hour, RPO 5 minutes).

Availability zone az-a goes dark, as the control planes see it: its nodes are drained at
once (cordoned, every pod on them evicted with no grace period: the zone's replicas die
together) and the database's primary, whose zone is lost, fails over to its Multi-AZ
standby in the other zone (``aws rds reboot-db-instance --force-failover``: the failover
RDS makes by itself when the primary's zone is lost, forced as AWS documents for testing
it). The runbook checks that the failover happened (the primary now runs in its
standby's zone, available), drains the failed zone's nodes (``kubectl drain``: whatever
is left there moves), and verifies every replica runs and is ready in az-b. The ledger
writes through the service the whole time: the failover is orderly, so no acknowledged
write may be lost.

Everything goes through the staging drivers (RDS, Kubernetes) at the addresses the
environment names: the twin's APIs locally, a profile's on staging.
"""

from __future__ import annotations

import pytest

from drillbook.drills import control_planes, steps
from drillbook.drills.context import Context
from drillbook.drills.platform import Platform
from drillbook.faults.rds_reboot_failover import RdsRebootFailover
from drillbook.harness.drill import ACTIVATION, ASSESSMENT, DETECTION, RESTORATION, VERIFICATION, Drill
from drillbook.harness.environments.base import Environment
from drillbook.harness.phases import expected_phases
from drillbook.harness.runbook import Runbook, Step

SCENARIO = "data-center-failure"
FAILED_ZONE = "az-a"
SURVIVING_ZONE = "az-b"


def zones_of(ctx: Context) -> str:
    """DR procedures: ``kubectl get pods -o wide`` (which AZ each pod is in)."""
    rows = [f"{r.name}@{r.zone}:{r.phase}{'' if r.ready else '(not ready)'}" for r in ctx.env.app.replicas()]
    ctx.found.setdefault("pods_seen", []).append(rows)
    return ", ".join(rows) or "no pods"


def check_database(ctx: Context) -> str:
    """DR procedures: ``aws rds describe-db-instances --query 'DBInstances[*].[...,AvailabilityZone,
    DBInstanceStatus]'``: is the instance Multi-AZ, where does its primary run now?"""
    rds, instance_id = control_planes.rds(ctx.env)
    now = rds.describe(instance_id)
    ctx.drill.extra["database_zone_at_failure"] = now.availability_zone
    return (f"{instance_id}: {now.status}, Multi-AZ {now.multi_az}, primary in {now.availability_zone}, "
            f"standby in {now.secondary_availability_zone}")


def verify_failover(ctx: Context) -> str:
    """DR procedures: "Verify Multi-AZ is Working": wait until the instance is available again and
    check its primary moved out of the lost zone (``aws rds describe-events --duration 60``)."""
    failover: RdsRebootFailover = ctx.found["database_failover"]
    rds, instance_id = control_planes.rds(ctx.env)
    after = rds.wait_status(instance_id, "available", timeout=control_planes.TIMEOUT_S)
    before = failover.zone_before
    ctx.drill.extra["database_zone"] = {"before": before, "after": after.availability_zone}
    ctx.drill.verify(
        "the database failed over out of the lost zone",
        (before is not None and after.availability_zone not in (None, before),
         f"primary in {before} before, {after.availability_zone} now"),
    )
    return f"{instance_id} available, primary moved {before} -> {after.availability_zone}"


def drain_failed_zone(ctx: Context) -> str:
    """DR procedures: ``kubectl drain node-in-failed-az --ignore-daemonsets --delete-emptydir-data``
    for each node of the lost zone (what is still there is evicted; cordoned already, it stays)."""
    nodes = control_planes.nodes(ctx.env)
    reports = nodes.drain_zone(FAILED_ZONE, ignore_daemonsets=True, delete_emptydir_data=True,
                               timeout=control_planes.TIMEOUT_S)
    evicted = [pod for r in reports for pod in r.evicted]
    return f"drained {', '.join(r.node for r in reports)}: {len(evicted)} pods evicted"


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
    overview="An availability zone is lost. Confirm the database failed over to its Multi-AZ standby, "
    "drain the lost zone's nodes and confirm the application runs in the surviving zone.",
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
            "verify the Multi-AZ failover",
            ACTIVATION,
            verify_failover,
            estimated="5m",
            role="Database Admin",
            commands="aws rds describe-events --source-identifier compliant-prod --source-type db-instance "
            "--duration 60\n"
            "# if it did not:\n"
            "aws rds reboot-db-instance --db-instance-identifier compliant-prod --force-failover",
        ),
        Step(
            "drain the failed zone's nodes",
            RESTORATION,
            drain_failed_zone,
            estimated="5m",
            commands="kubectl drain node-in-failed-az --ignore-daemonsets --delete-emptydir-data",
        ),
        Step(
            "rescheduled into the surviving zone",
            RESTORATION,
            rescheduled,
            estimated="10m",
            commands="kubectl get pods -n production -o wide",
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


@pytest.fixture(autouse=True)
def _both_control_planes_and_the_service(env: Environment, platform: Platform) -> None:
    """Skipped before the drill starts (no record) without an RDS instance, a cluster or the API
    (the zone's loss and the failover are seen through the service, which follows the failover)."""
    why = control_planes.missing(env)
    if why is not None:
        pytest.skip(why)
    if not platform.has_api:
        pytest.skip(f"environment {env.name!r} has no app_url: the zone's loss is seen through the API")


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
    rds, instance_id = control_planes.rds(env)
    # A failover needs the Multi-AZ standby streaming (the twin builds it in the background).
    rds.wait_status(instance_id, "available", timeout=control_planes.TIMEOUT_S)
    drill.steady_state(platform.health_probe())
    ctx.found["ledgers"] = [drill.ledger(platform.ledger_store())]
    steps.wait_for_acks(ctx)
    ctx.found["database_failover"] = failover = drill.inject(control_planes.rds_failover(env))
    zone = drill.inject(control_planes.zone_drain(env, FAILED_ZONE, grace_period=0))
    ZONE_FAILOVER.run(drill, ctx)
    drill.reconcile()
    # The zone comes back (uncordoned); the database stays on its new primary (no fail back).
    drill.heal(zone)
    drill.heal(failover)
