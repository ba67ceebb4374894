"""A drill on the staging profile (moto's RDS over HTTP): the DR Test Report's evidence appendix
shows the RDS instance and snapshot ids the runbook steps and the fault used, with AWS's
request ids, per step, and no secret."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from drillbook.harness import journal
from drillbook.reports import journals, model, render
from drillbook.reports.options import ReportOptions
from tests.environments.staging.platform import StagingPlatform

DRILL = """
import pytest

from drillbook.faults.rds_stop import RdsStop
from drillbook.harness.environments.staging.aws.rds_snapshots import RdsSnapshots
from drillbook.harness.probes import Probe
from drillbook.harness.runbook import Runbook, Step


def snapshot(env):
    return RdsSnapshots(env.database.rds).create(env.database.name, "compliant-db-drill-evidence", wait=False)


def start(env):
    env.database.start(timeout=30)


RECOVERY = Runbook(
    name="restart the database",
    overview="snapshot, then start the stopped instance",
    steps=[
        Step("snapshot before the start", "DR activation", snapshot),
        Step("start the instance", "service restoration", start),
    ],
)


@pytest.mark.drill(scenario="database stopped", tier="monthly", rto="60s", component="database")
def test_database_stopped(drill, env):
    database = env.database
    drill.steady_state(Probe("rds available", database.running))
    aws = database.rds.aws
    drill.inject(RdsStop(database.name, aws.region, endpoint_url=aws.endpoint_url, poll_interval=0.05,
                         timeout=30))
    drill.await_detection(timeout=10)
    RECOVERY.run(drill, env)
    drill.await_recovery()
"""


def test_the_report_shows_the_instance_and_snapshot_ids_used(
    pytester: pytest.Pytester, staging_platform: StagingPlatform
) -> None:
    staging_platform.write(pytester.path)
    pytester.makepyfile(test_staging_drill=DRILL)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--drill-env", "staging", "--drill-probe-interval", "50ms",
        "-W", "ignore::UserWarning",
    )
    result.assert_outcomes(passed=1)
    results = pytester.path / "drill-results"
    (record,) = journal.load(results)
    by_caller = {(c.caller_kind, c.caller, c.operation) for c in record.calls}
    assert {
        ("fault", "rds_stop", "StopDBInstance"),
        ("step", "snapshot before the start", "CreateDBSnapshot"),
        ("step", "start the instance", "StartDBInstance"),
    } <= by_caller
    rds = [c for c in record.calls if c.service == "rds"]
    assert rds and all(c.request_id for c in rds)

    report = model.build_run(journals.run_records(results, record.run_id), ReportOptions(),
                             generated_at=datetime(2026, 12, 2, tzinfo=UTC), generator="test")
    html, markdown = render.run_html(report), render.run_markdown(report)
    for text in (html, markdown, render.run_json(report)):
        assert "compliant-db-drill-evidence" in text and "DBInstanceIdentifier" in text
        assert staging_platform.password not in text
    assert "Step: snapshot before the start" in html and "Fault injected: rds_stop" in html
    assert rds[0].request_id is not None and rds[0].request_id in html
