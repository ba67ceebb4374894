"""Drills on the local environment (the twin) journal the control-plane calls their steps and
faults make: its roles are the staging drivers (twin/driven.py), so these are the AWS calls of
boto3 to the twin's RDS, Route 53, Secrets Manager and S3, and the Kubernetes calls of the
official client to its API server; the generated policy grants every one of them."""

from __future__ import annotations

import json

import pytest

from drillbook.harness.calls.declared import declarations
from drillbook.harness.calls.policy import permissions
from tests.drills.conftest import RunDrill

#: Drills whose steps and faults call AWS APIs on the twin: DNS (1A's front door lost and back,
#: 1B's Route 53 UPSERT and INSYNC wait), evidence (S3) and secrets (Secrets Manager) in the
#: breach, RDS and the Kubernetes API in the zone failure (the Multi-AZ failover, the zone's
#: nodes drained).
THROUGH_APIS = (
    "drillbook/drills/test_infrastructure_failure.py::test_1a_restart_in_order",
    "drillbook/drills/test_infrastructure_failure.py::test_1b_failover_to_dr_region",
    "drillbook/drills/test_zone_failure.py::test_zone_failure",
    "drillbook/drills/test_security_breach.py::test_security_breach",
)


@pytest.mark.parametrize("drill", THROUGH_APIS)
def test_calls_on_the_twin_are_granted_by_the_policy(run_drill: RunDrill, drill: str) -> None:
    record = run_drill(drill, hard_timeout=None, timeout=600.0)
    assert record["status"] == "PASS", record["pytest_output"]
    calls = record["calls"]
    assert calls, "no control-plane call recorded"
    called = {c["permission"] for c in calls if c["permission"]}
    print(drill, json.dumps(sorted(called)))
    granted = permissions(declarations())
    missing = called - granted
    assert not missing, f"not in the generated policy/Role: {sorted(missing)}"
    assert {c["caller_kind"] for c in calls} & {"step", "fault", "revert"}
    assert {c["service"] for c in calls} >= {"kubernetes", "route53"}, "the roles are not the drivers"
    assert all(c["request_id"] for c in calls if c["service"] != "toxiproxy")
