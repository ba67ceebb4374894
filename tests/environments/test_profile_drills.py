"""The drills moved to the role drivers pass on the twin through the staging profile
``drillbook env profile`` prints (issue 14: a local run and a staging run make the same calls).
One test per drill module, so a failure names the drill."""

from __future__ import annotations

from pathlib import Path

from tests.environments.profile_run import run_on_profile
from tests.local_env import SharedEnv


def test_the_network_partition_through_the_profiles_toxiproxy(local_env: SharedEnv, tmp_path: Path) -> None:
    (record,) = run_on_profile(local_env, tmp_path, "test_network_partition.py")
    assert record["drill"]["scenario"] == "network-partition"
    (fault,) = record["faults"]
    assert fault["name"] == "network_partition" and fault["reverted_at"] and not fault["revert_error"]
    toxiproxy = {c["operation"] for c in record["calls"] if c["service"] == "toxiproxy"}
    assert {"POST /proxies/{proxy}/toxics", "DELETE /proxies/{proxy}/toxics/{toxic}"} <= toxiproxy




def test_the_restart_in_order_through_the_profile(local_env: SharedEnv, tmp_path: Path) -> None:
    """1A on RDS's rule: the primary has the DR read replica, so it is not stopped (RDS refuses
    StopDBInstance) but lost by its link, which the runbook's infrastructure fix restores."""
    (record,) = run_on_profile(local_env, tmp_path,
                               "test_infrastructure_failure.py::test_1a_restart_in_order")
    outage = record["extra"]["database_outage"]
    assert outage == {"link_cut": "app-db", "stopped": False, "not_stopped_because":
                      "compliant-prod has read replica compliant-prod-replica-west "
                      "(RDS refuses StopDBInstance)"}, outage
    assert sorted(f["name"] for f in record["faults"]) == [
        "deployment_scale", "deployment_scale", "dns_record", "network_partition", "network_partition"]
    assert all(f["reverted_at"] and not f["revert_error"] for f in record["faults"]), record["faults"]
    called = {c["permission"] for c in record["calls"] if c["permission"]}
    assert "rds:StopDBInstance" not in called and "route53:ChangeResourceRecordSets" in called, called


def test_the_failover_to_the_dr_region_through_the_profile(local_env: SharedEnv, tmp_path: Path) -> None:
    """1B: the DR replica promoted through RDS, the DR pool scaled in the DR cluster's context,
    the record UPSERTed; the revert deletes the promoted replica (a final snapshot kept) and
    creates the read replica again, which streams from the primary at its old endpoint."""
    from tests.twin.rds.support import DR_REGION, REPLICA, rds_client

    west = rds_client(local_env.env, DR_REGION)
    before = west.describe_db_instances(DBInstanceIdentifier=REPLICA)["DBInstances"][0]
    (record,) = run_on_profile(local_env, tmp_path,
                               "test_infrastructure_failure.py::test_1b_failover_to_dr_region")
    assert record["drill"]["option"] == "1B failover to the DR region"
    assert all(f["reverted_at"] and not f["revert_error"] for f in record["faults"]), record["faults"]
    by_kind: dict[str, set[str]] = {}
    for call in record["calls"]:
        if call["permission"]:
            by_kind.setdefault(str(call["caller_kind"]), set()).add(str(call["permission"]))
    assert {"rds:PromoteReadReplica", "route53:ChangeResourceRecordSets"} <= by_kind["change"], by_kind
    assert "apps/deployments:patch" in by_kind["fault"] | by_kind["change"], by_kind  # pools scaled
    assert {"rds:DeleteDBInstance", "rds:CreateDBInstanceReadReplica"} <= by_kind["revert"], by_kind
    after = west.describe_db_instances(DBInstanceIdentifier=REPLICA)["DBInstances"][0]
    assert after["DBInstanceStatus"] == "available" and after["Endpoint"] == before["Endpoint"]
    assert after["ReadReplicaSourceDBInstanceIdentifier"] == before["ReadReplicaSourceDBInstanceIdentifier"]
    assert local_env.env.local_replica.lag().state == "streaming"
    finals = [s["DBSnapshotIdentifier"] for s in west.describe_db_snapshots(DBInstanceIdentifier=REPLICA)[
        "DBSnapshots"] if s["DBSnapshotIdentifier"].startswith(f"{REPLICA}-promoted-")]
    assert finals, "the promoted replica was deleted without a final snapshot"
    for final in finals:
        west.delete_db_snapshot(DBSnapshotIdentifier=final)


def test_the_application_crash_through_the_profiles_kubernetes_api(local_env: SharedEnv,
                                                                   tmp_path: Path) -> None:
    """5A-5C through the deployment: the bad release (Recreate), the crashed replica's previous
    log, undo / set env / hotfix, all Kubernetes API calls."""
    records = run_on_profile(local_env, tmp_path, "test_application_crash.py", timeout=600)
    assert sorted(r["drill"]["option"] for r in records) == [
        "5A rollout undo", "5B fix and redeploy", "5C emergency hotfix"]
    for record in records:
        (fault,) = record["faults"]
        assert fault["name"] == "deployment_bad_release" and fault["reverted_at"]
        assert not fault["revert_error"]
        kube = {c["permission"] for c in record["calls"] if c["service"] == "kubernetes"}
        assert {"core/pods/log:get", "apps/deployments:patch"} <= kube, kube


def test_the_security_breach_through_the_profile(local_env: SharedEnv, tmp_path: Path) -> None:
    """Secrets rotated in Secrets Manager, sessions revoked, the evidence written to S3 with SSE
    and read back, the replicas' logs through pods/log: the journal's calls say so."""
    (record,) = run_on_profile(local_env, tmp_path, "test_security_breach.py", timeout=600)
    assert record["drill"]["scenario"] == "security-breach"
    called = {c["permission"] for c in record["calls"] if c["permission"]}
    assert {"secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "s3:PutObject",
            "s3:GetObject", "core/pods/log:get"} <= called, sorted(called)


def test_the_zone_failure_through_the_profiles_rds_and_kubernetes_apis(local_env: SharedEnv,
                                                                       tmp_path: Path) -> None:
    """Scenario 4: the Multi-AZ failover through RDS RebootDBInstance, the zone's nodes cordoned
    and drained through the Kubernetes API (evictions), all journaled."""
    (record,) = run_on_profile(local_env, tmp_path, "test_zone_failure.py")
    assert sorted(f["name"] for f in record["faults"]) == ["k8s_zone_drain", "rds_reboot_failover"]
    assert all(f["reverted_at"] and not f["revert_error"] for f in record["faults"])
    zones = record["extra"]["database_zone"]
    assert zones["before"] != zones["after"], zones
    called = {c["permission"] for c in record["calls"] if c["permission"]}
    assert {"rds:RebootDBInstance", "rds:DescribeDBInstances", "core/nodes:patch",
            "core/pods/eviction:create"} <= called, sorted(called)


def test_scenario_5s_releases_are_the_ones_the_twin_serves() -> None:
    """The drill names the reference service's releases by tag; the twin must serve those tags."""
    from drillbook.drills import test_application_crash as crash
    from drillbook.twin.service import images

    assert (crash.BAD_VERSION, crash.HOTFIX_VERSION) == (images.BAD_VERSION, images.HOTFIX_VERSION)
    assert crash.BAD_VERSION in images.API_IMAGES and crash.HOTFIX_VERSION in images.API_IMAGES
