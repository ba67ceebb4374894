"""Mutation checks of the data drills: with the recovery broken on purpose the drill is
FAIL or PARTIAL, never PASS (issue #5); the same drill unbroken passes."""

from __future__ import annotations

from tests.drills.conftest import RunDrill

RESTORE = "drillbook/drills/test_database_corruption.py::test_2b_table_dropped_restore_snapshot"
PITR = "drillbook/drills/test_database_corruption.py::test_2c_table_lost_pitr"
ZONE = "drillbook/drills/test_zone_failure.py::test_zone_failure"
BACKUP = "drillbook/drills/test_backup_verification.py::test_backup_verification"


def test_the_restore_drill_passes_unbroken(run_drill: RunDrill) -> None:
    record = run_drill(RESTORE, hard_timeout=None)
    assert record["status"] == "PASS", record["pytest_output"]
    assert record["measured"]["rto_s"] > 0 and record["measured"]["lost_writes"] is not None


def test_restore_step_skipped_is_not_pass(run_drill: RunDrill) -> None:
    record = run_drill(RESTORE, mutation="skip-restore")
    assert record["status"] != "PASS", record["pytest_output"]
    assert record["pytest_exit"] != 0
    assert any("restored instance" in r or "not recovered" in r for r in record["reasons"]), record["reasons"]


def test_pitr_target_after_the_fault_is_not_pass(run_drill: RunDrill) -> None:
    record = run_drill(PITR, mutation="pitr-after-fault")
    assert record["status"] != "PASS", record["pytest_output"]
    # The restored copy holds the loss: the projects never come back.
    assert record["measured"]["rto_s"] is None, record["reasons"]


def test_a_replica_not_rescheduled_is_not_pass(run_drill: RunDrill) -> None:
    record = run_drill(ZONE, mutation="no-reschedule")
    assert record["status"] != "PASS", record["pytest_output"]


def test_the_backup_drill_passes_unbroken_with_every_check(run_drill: RunDrill) -> None:
    record = run_drill(BACKUP, hard_timeout=None)
    assert record["status"] == "PASS", record["pytest_output"]
    checks = {v["name"]: v["passed"] for v in record["verification"]}
    assert checks["amcheck: no corruption in the restored copy"]
    assert checks["pg_checksums: every page of the restored copy"]  # the twin has a data directory
    assert record["not_run"] == []


def test_backup_restore_skipped_is_not_pass(run_drill: RunDrill) -> None:
    record = run_drill(BACKUP, mutation="skip-restore")
    assert record["status"] == "FAIL", record["pytest_output"]
