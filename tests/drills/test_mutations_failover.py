"""Mutation checks of Scenario 1 (1A, 1B) and Scenario 4 on the drivers: with the recovery broken
on purpose the drill is FAIL or PARTIAL, never PASS; the same drill unbroken passes."""

from __future__ import annotations

from tests.drills.conftest import RunDrill

RESTART = "drillbook/drills/test_infrastructure_failure.py::test_1a_restart_in_order"
REGION = "drillbook/drills/test_infrastructure_failure.py::test_1b_failover_to_dr_region"
ZONE = "drillbook/drills/test_zone_failure.py::test_zone_failure"


def test_the_restart_in_order_passes_unbroken(run_drill: RunDrill) -> None:
    record = run_drill(RESTART, hard_timeout=None)
    assert record["status"] == "PASS", record["pytest_output"]
    # The twin's primary has the DR replica attached: like RDS, 1A cuts its link and does not stop it.
    assert sorted(f["name"] for f in record["faults"]) == [
        "deployment_scale", "deployment_scale", "dns_record", "network_partition", "network_partition"]
    assert all(f["reverted_at"] and not f["revert_error"] for f in record["faults"])
    outage = record["extra"]["database_outage"]
    assert outage["link_cut"] == "app-db" and not outage["stopped"], outage
    assert "RDS refuses StopDBInstance" in outage["not_stopped_because"], outage


def test_the_front_door_not_restarted_is_not_pass(run_drill: RunDrill) -> None:
    """The API record still names no load balancer: nothing reaches the restarted service."""
    record = run_drill(RESTART, mutation="skip-front-door")
    assert record["status"] != "PASS", record["pytest_output"]
    assert record["measured"]["rto_s"] is None, record["reasons"]


def test_the_database_link_not_restored_is_not_pass(run_drill: RunDrill) -> None:
    """The infrastructure fix skipped: the database runs but the application cannot reach it,
    and the restart stops at the database's check."""
    record = run_drill(RESTART, mutation="skip-infrastructure-fix")
    assert record["status"] != "PASS", record["pytest_output"]
    assert record["measured"]["rto_s"] is None, record["reasons"]
    failed = [v["name"] for v in record["verification"] if not v["passed"]]
    assert failed == ["database answers through app-db"], record["verification"]


def test_the_region_failover_passes_unbroken(run_drill: RunDrill) -> None:
    record = run_drill(REGION, hard_timeout=None)
    assert record["status"] == "PASS", record["pytest_output"]
    changes = {c["name"] for c in record["changes"]}
    assert {"replica_promotion", "deployment_scale", "dns_record"} <= changes, changes
    assert all(f["reverted_at"] and not f["revert_error"] for f in record["faults"] + record["changes"])


def test_the_dns_not_moved_is_not_pass(run_drill: RunDrill) -> None:
    """The DR pool runs on the promoted replica, but the API record still names the primary pool
    (at zero): the service never comes back."""
    record = run_drill(REGION, mutation="skip-dns")
    assert record["status"] != "PASS", record["pytest_output"]
    assert record["measured"]["rto_s"] is None, record["reasons"]


def test_the_zone_failure_passes_unbroken(run_drill: RunDrill) -> None:
    record = run_drill(ZONE, hard_timeout=None)
    assert record["status"] == "PASS", record["pytest_output"]
    assert record["extra"]["database_zone"]["before"] != record["extra"]["database_zone"]["after"]
    assert record["measured"]["lost_writes"] == 0
