"""The generated IAM policy and Kubernetes Roles against what drills really call: the drill suite
runs with ``--drill-env staging`` on the emulated platform (moto's server, the Kubernetes API
emulator, the toxiproxy server), every control-plane call is journaled, and

- every recorded call is granted by the policy or the Roles (``drillbook env policy``);
- every action the drivers declare for drills is called by some drill, or is listed in
  ``PENDING`` with the reason it is not yet.
"""

from __future__ import annotations

import json

import pytest

from drillbook.harness import journal
from drillbook.harness.calls.declared import declarations
from drillbook.harness.calls.policy import permissions
from drillbook.harness.suite import reference_path
from tests.environments.staging.platform import StagingPlatform

DRILLS = reference_path()
_LOCAL_ONLY = "its drill still needs the local platform (LOCAL_ONLY) until it is moved to the drivers"
#: Drills on the drivers that watch the service's API: skipped on the emulated platform (no app_url),
#: called on the twin's generated profile (tests/environments/test_profile_drills.py).
_NEEDS_APP_URL = "its drill runs on the drivers but needs app_url, which the emulated platform has not"
#: Declared for drills, not called by a drill on the staging profile yet, and why.
PENDING: dict[str, str] = {
    "rds:DescribeDBInstances": f"1A/1B/2B/4 describe RDS instances: {_LOCAL_ONLY}",
    "rds:StopDBInstance": f"1A stops the database (rds_stop): {_LOCAL_ONLY}",
    "rds:StartDBInstance": f"1A starts it again: {_LOCAL_ONLY}",
    "rds:RebootDBInstance": f"4 reboots with failover (rds_reboot_failover): {_NEEDS_APP_URL}",
    "rds:PromoteReadReplica": f"1B promotes the DR replica: {_NEEDS_APP_URL}",
    "rds:CreateDBInstanceReadReplica": f"1B's revert creates the DR replica again: {_NEEDS_APP_URL}",
    "rds:DeleteDBInstance": f"backup verification and 2B/2C delete their scratch instance: {_LOCAL_ONLY}",
    "rds:DescribeDBSnapshots": f"backup verification finds the latest snapshot: {_LOCAL_ONLY}",
    "rds:CreateDBSnapshot": f"rds_delete takes a final snapshot: {_LOCAL_ONLY}",
    "rds:DeleteDBSnapshot": f"rds_delete's revert removes its snapshot: {_LOCAL_ONLY}",
    "rds:RestoreDBInstanceFromDBSnapshot": f"backup verification and 2B restore a snapshot: {_LOCAL_ONLY}",
    "rds:RestoreDBInstanceToPointInTime": f"2C restores a point in time: {_LOCAL_ONLY}",
    "route53:GetHostedZone": f"1B reads the zone before the UPSERT: {_LOCAL_ONLY}",
    "route53:ListResourceRecordSets": f"1B reads the record: {_NEEDS_APP_URL}",
    "route53:ChangeResourceRecordSets": f"1B UPSERTs the record: {_NEEDS_APP_URL}",
    "route53:GetChange": f"1B waits for INSYNC: {_NEEDS_APP_URL}",
    "s3:PutObject": f"3 writes evidence with SSE: {_NEEDS_APP_URL}",
    "s3:GetObject": f"3 reads the evidence back: {_NEEDS_APP_URL}",
    "s3:ListBucket": f"3 lists the evidence: {_LOCAL_ONLY}",
    "s3:GetBucketObjectLockConfiguration": f"3 checks the bucket's lock: {_LOCAL_ONLY}",
    "secretsmanager:GetSecretValue": f"2B/3 read secrets: {_NEEDS_APP_URL} (3)",
    "secretsmanager:PutSecretValue": f"2B switches the database secret, 3 rotates: {_NEEDS_APP_URL} (3)",
    "secretsmanager:DescribeSecret": f"3 checks the rotation: {_LOCAL_ONLY}",
    "secretsmanager:RotateSecret": f"3 rotates the secrets: {_LOCAL_ONLY}",
    "core/nodes:get": f"4 drains a zone (k8s_zone_drain): {_NEEDS_APP_URL}",
    "core/nodes:patch": f"4 cordons and uncordons: {_NEEDS_APP_URL}",
    "core/pods/eviction:create": f"4 evicts the zone's pods: {_NEEDS_APP_URL}",
    "core/pods:get": f"4 waits for the evicted pods: {_NEEDS_APP_URL}",
    "core/pods:delete": f"5A kills pods (k8s_pod_kill): {_LOCAL_ONLY}",
    "core/pods/log:get": f"5 reads a crashed replica's previous log, 3 the replicas' logs: {_NEEDS_APP_URL}",
}


@pytest.fixture(scope="module")
def declared_for_drills() -> set[str]:
    drills = [d for d in declarations() if d.used_by == "drills"]
    implied = {p for d in drills for p in d.implied}
    return permissions(drills) - implied


def test_the_policy_covers_every_call_of_the_suite_and_nothing_is_declared_idle(
    pytester: pytest.Pytester, staging_platform: StagingPlatform, declared_for_drills: set[str]
) -> None:
    staging_platform.write(pytester.path)
    ini = pytester.makeini("[pytest]\n")
    result = pytester.runpytest_subprocess(
        str(DRILLS), "-c", str(ini), "--rootdir", str(pytester.path), "-p", "no:cacheprovider",
        "--drill-env", "staging", "--drill-tier", "annual", "--drill-probe-interval", "50ms",
        "-W", "ignore::UserWarning", timeout=600,
    )
    assert not result.parseoutcomes().get("failed"), result.stdout.str()[-4000:]
    records = journal.load_dicts(pytester.path / "drill-results")
    calls = [c for r in records for c in r.get("calls", [])]
    assert calls, "the drills on the staging profile made no recorded control-plane call"
    assert staging_platform.password not in json.dumps(calls)
    kube = [c for c in calls if c["service"] == "kubernetes"]
    assert kube and all(c["request_id"] for c in kube)  # the API server's Audit-Id
    assert {c["caller_kind"] for c in calls} >= {"step", "fault", "revert"}

    granted = permissions(declarations())
    called = {c["permission"] for c in calls if c["permission"]}
    assert called <= granted, f"called but not in the generated policy/Role: {sorted(called - granted)}"

    idle = declared_for_drills - called
    assert idle == set(PENDING), (
        f"declared, not called by any drill and not pending: {sorted(idle - set(PENDING))}; "
        f"pending but now called (remove from PENDING): {sorted(set(PENDING) - idle)}"
    )
