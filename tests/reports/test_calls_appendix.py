"""The evidence appendix lists a drill's control-plane calls per step and fault, in every format,
with the instance and snapshot ids used and the request ids; a secret never shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from drillbook.harness import journal
from drillbook.harness.records import (
    ControlCall,
    DrillInfo,
    DrillResult,
    EnvironmentInfo,
    Measured,
    Status,
    Targets,
    TimelineEvent,
)
from drillbook.harness.redact import register_secret
from drillbook.reports import journals, model, render
from drillbook.reports.options import ReportOptions
from tests.reports.conftest import NOW, Golden

RUN = "20261202T120000Z-calls1"
SECRET = "postgres://app:Pw-never-shown-91@db/x"


def _call(at: str, service: str, operation: str, caller: str, kind: str, **params: str) -> ControlCall:
    permission = f"{service}:{operation}" if service != "kubernetes" else "apps/deployments:patch"
    request_id = "req-" + at[11:19].replace(":", "")
    return ControlCall(service, operation, permission, dict(params), request_id=request_id,
                       duration_s=0.25, at=at, caller=caller, caller_kind=kind)


def staging_record() -> DrillResult:
    calls = [
        _call("2026-12-02T12:00:01.000Z", "rds", "StopDBInstance", "rds_stop", "fault",
              DBInstanceIdentifier="compliant-db"),
        _call("2026-12-02T12:00:03.000Z", "rds", "DescribeDBSnapshots", "find the latest snapshot", "step",
              DBInstanceIdentifier="compliant-db", SnapshotType="automated"),
        _call("2026-12-02T12:00:04.000Z", "rds", "RestoreDBInstanceFromDBSnapshot", "restore it", "step",
              DBInstanceIdentifier="compliant-db-restored-1",
              DBSnapshotIdentifier="rds:compliant-db-2026-12-02-03-00"),
        _call("2026-12-02T12:00:05.000Z", "rds", "DescribeDBInstances", "restore it", "step",
              DBInstanceIdentifier="compliant-db-restored-1"),
        _call("2026-12-02T12:00:06.000Z", "rds", "DescribeDBInstances", "restore it", "step",
              DBInstanceIdentifier="compliant-db-restored-1"),
        _call("2026-12-02T12:00:07.000Z", "rds", "DescribeDBInstances", "restore it", "step",
              DBInstanceIdentifier="compliant-db-restored-1"),
        _call("2026-12-02T12:00:09.000Z", "secretsmanager", "PutSecretValue", "switch the app", "step",
              SecretId="staging/database-url"),
        _call("2026-12-02T12:00:10.000Z", "kubernetes", "patch deployments", "switch the app", "step",
              namespace="compliant", name="api"),
        _call("2026-12-02T12:00:20.000Z", "rds", "StartDBInstance", "rds_stop", "revert",
              DBInstanceIdentifier="compliant-db"),
    ]
    calls[-1].outcome = "InvalidDBInstanceState"
    return DrillResult(
        run_id=RUN,
        record_id=f"{RUN}-001",
        drill=DrillInfo(nodeid="drills/test_database_corruption.py::test_snapshot_restore",
                        scenario="database-corruption", option="2B", tier="annual", severity=1,
                        component="database"),
        environment=EnvironmentInfo("staging", {"git_sha": "abc123"}, "staging", False),
        targets=Targets(rto_s=3600.0, rpo_s=86400.0),
        measured=Measured(rto_s=42.0, rpo_s=0.0, acked_writes=10, lost_writes=0),
        status=Status.PASS,
        timeline=[
            TimelineEvent("2026-12-02T12:00:00.000Z", "test start", "", 0.0),
            TimelineEvent("2026-12-02T12:00:30.000Z", "test end", "", 30.0),
        ],
        started_at="2026-12-02T12:00:00.000Z",
        finished_at="2026-12-02T12:00:30.000Z",
        calls=calls,
    )


@pytest.fixture
def stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    journal.append(tmp_path / "journal", staging_record())
    monkeypatch.chdir(tmp_path)  # a relative journal: golden files must not hold this machine's paths
    return Path("journal")


def build(directory: Path, options: ReportOptions) -> model.RunReport:
    return model.build_run(journals.run_records(directory, RUN), options, generated_at=NOW,
                           generator="drillbook (golden)")


def test_calls_round_trip_through_the_journal(stored: Path) -> None:
    (record,) = journal.load(stored)
    assert [c.operation for c in record.calls][:2] == ["StopDBInstance", "DescribeDBSnapshots"]
    assert record.calls[2].params["DBSnapshotIdentifier"] == "rds:compliant-db-2026-12-02-03-00"


def test_the_appendix_lists_the_calls_per_step(stored: Path, options: ReportOptions, golden: Golden) -> None:
    report = build(stored, options)
    view = report.drills[0].calls
    assert (view.total, view.failed) == (9, 1)
    restore = view.groups[2]
    assert [(row.operation, row.count) for row in restore.rows] == [
        ("RestoreDBInstanceFromDBSnapshot", 1), ("DescribeDBInstances", 3),  # a wait: one row
    ]
    assert restore.rows[1].request_id == "req-120005 … req-120007"
    assert [g.title for g in view.groups] == [
        "Fault injected: rds_stop", "Step: find the latest snapshot", "Step: restore it",
        "Step: switch the app", "Reverted: rds_stop",
    ]
    assert dict(view.resources)["DBInstanceIdentifier"] == "compliant-db, compliant-db-restored-1"
    assert dict(view.resources)["DBSnapshotIdentifier"] == "rds:compliant-db-2026-12-02-03-00"
    golden("report-calls.md", render.run_markdown(report))
    golden("report-calls.html", render.run_html(report))
    golden("report-calls.json", render.run_json(report))
    html = render.run_html(report)
    assert "rds:compliant-db-2026-12-02-03-00" in html and "req-120004" in html


def test_a_secret_in_a_parameter_is_masked(tmp_path: Path, options: ReportOptions) -> None:
    register_secret(SECRET)
    record = staging_record()
    record.calls[6].params["SecretId"] = SECRET  # a caller that put a value where an id goes
    journal.append(tmp_path, record)
    report = build(tmp_path, options)
    for text in (render.run_markdown(report), render.run_html(report), render.run_json(report)):
        assert "Pw-never-shown-91" not in text


def test_a_record_without_calls_says_so(tmp_path: Path, options: ReportOptions) -> None:
    record = staging_record()
    record.calls = []
    journal.append(tmp_path, record)
    report = build(tmp_path, options)
    assert report.drills[0].calls.total == 0
    assert "No control-plane call recorded" in render.run_html(report)
    assert "No control-plane call recorded" in render.run_markdown(report)
