"""Issue 14: "the generated IAM policy and Role cover every call made in an annual run, and
nothing more". The whole annual tier runs once on the twin through its generated staging
profile (the RDS, Kubernetes, Route 53, Secrets Manager, S3 and toxiproxy drivers), and its
journal's control-plane calls are set against what ``drillbook env policy`` prints:

- every recorded call is granted by the IAM policy or the Roles;
- every permission granted for the drills is called, but for :data:`CONDITIONAL`, each with
  the reason the reference platform's annual run does not call it.

Granted for others and not asked of the drills: ``drillbook env check``'s own calls and the
environment lease's (their declarations' ``used_by``), and the permissions AWS checks along
with a call (``implied``, each declared with its reason).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from drillbook.harness.calls.declared import declarations
from drillbook.harness.environments import capabilities as caps
from tests.environments.profile_run import ROOT, run_on_profile
from tests.harness.calls.granted import granted_by
from tests.local_env import SharedEnv

#: Granted for the drills, not called in the reference platform's annual run, and why.
CONDITIONAL: dict[str, str] = {
    "rds:StopDBInstance": "1A stops the primary only where no read replica is attached (RDS refuses "
    "StopDBInstance for one); the reference primary compliant-prod has compliant-prod-replica-west",
    "rds:StartDBInstance": "1A starts the primary again only where it stopped it (rds:StopDBInstance)",
    "secretsmanager:RotateSecret": "the secrets role's rotate() of a secret with a rotation function; "
    "Scenario 3 writes the new values itself (PutSecretValue), as the procedures do",
    "secretsmanager:DescribeSecret": "read by rotate() (above) and by `drillbook env check` (is rotation "
    "set up), which no drill record holds",
    "route53:GetHostedZone": "`drillbook env check` reads the zone's name; the drills are given "
    "hosted_zone_id",
    "s3:GetBucketObjectLockConfiguration": "`drillbook env check` checks the evidence bucket's object "
    "lock; the drills write with SSE and read back",
    "core/pods:delete": "pod kills (k8s_pod_kill, deployment_kill: `drillbook explore` and drills of "
    "one's own); no reference drill deletes a pod (5A-5C crash a release, 4 evicts)",
}


@pytest.fixture(scope="module")
def annual(local_env: SharedEnv, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[dict[str, Any]]]:
    """The journal records of one run of the annual tier (every drill) on the generated profile."""
    from tests.twin.rds.support import DR_REGION, REPLICA, rds_client

    where = tmp_path_factory.mktemp("annual-on-the-profile")
    yield run_on_profile(local_env, where, grant=(caps.SUPERUSER,), args=("--drill-tier", "annual"),
                         timeout=900.0)
    # 1B's revert keeps the promoted replica's data as a final snapshot; the shared twin need not.
    west = rds_client(local_env.env, DR_REGION)
    for snapshot in west.describe_db_snapshots(DBInstanceIdentifier=REPLICA)["DBSnapshots"]:
        if snapshot["DBSnapshotIdentifier"].startswith(f"{REPLICA}-promoted-"):
            west.delete_db_snapshot(DBSnapshotIdentifier=snapshot["DBSnapshotIdentifier"])


@pytest.fixture(scope="module")
def granted(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """What ``drillbook env policy`` grants: its IAM policy and its Role and ClusterRole."""
    cwd = tmp_path_factory.mktemp("policy")
    printed = {}
    for only in ("iam", "rbac"):
        done = subprocess.run([sys.executable, "-m", "drillbook", "env", "policy", "--only", only], cwd=cwd,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, text=True, capture_output=True,
                              timeout=120, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, done.stderr
        printed[only] = done.stdout
    return granted_by(json.loads(printed["iam"]), list(yaml.safe_load_all(printed["rbac"])))


def test_the_annual_tier_runs_whole_on_the_profile(annual: list[dict[str, Any]]) -> None:
    options = sorted(str(r["drill"]["option"]) for r in annual)
    assert len(options) == 15 and "1A primary infrastructure recovery" in options, options
    assert "1B failover to the DR region" in options and "zone az-a lost" in options, options


def test_every_call_of_the_annual_run_is_granted(annual: list[dict[str, Any]], granted: set[str]) -> None:
    calls = [c for r in annual for c in r["calls"]]
    # toxiproxy's API has no IAM or RBAC: everything else must name the permission it needs.
    unnamed = {(c["service"], c["operation"]) for c in calls
               if not c["permission"] and c["service"] != "toxiproxy"}
    assert not unnamed, f"calls no permission names: {sorted(unnamed)}"
    called = {c["permission"] for c in calls if c["permission"]}
    assert called <= granted, f"called but not in the generated policy/Role: {sorted(called - granted)}"
    assert {c["caller_kind"] for c in calls} >= {"step", "fault", "revert", "change"}


def test_nothing_is_granted_for_the_drills_that_they_do_not_call(annual: list[dict[str, Any]],
                                                                 granted: set[str]) -> None:
    declared = declarations()
    for_others = {p for d in declared if d.used_by != "drills" for p in d.permissions}
    implied = {p for d in declared for p in d.implied}
    called = {c["permission"] for r in annual for c in r["calls"] if c["permission"]}
    idle = granted - for_others - implied - called
    assert idle == set(CONDITIONAL), (
        f"granted, not called and not conditional: {sorted(idle - set(CONDITIONAL))}; "
        f"conditional but called (remove from CONDITIONAL): {sorted(set(CONDITIONAL) - idle)}"
    )
    # The condition of 1A's stop holds on the reference platform, as the record says.
    (restart,) = [r for r in annual if r["drill"]["option"] == "1A primary infrastructure recovery"]
    outage = restart["extra"]["database_outage"]
    assert not outage["stopped"] and "compliant-prod-replica-west" in outage["not_stopped_because"], outage
