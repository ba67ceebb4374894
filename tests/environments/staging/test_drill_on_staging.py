"""Drills run with ``--drill-env staging`` end to end (pytester): the ``env`` fixture builds the
staging environment from drillbook.toml, the guard checks the faults, the staging faults
act on the emulated platform, and the journal records the staging run with its measures."""

from __future__ import annotations

import json

import pytest

from drillbook.harness import journal
from tests.environments.staging.platform import StagingPlatform

DRILLS = """
import pytest

from drillbook.faults.k8s_pod_kill import K8sPodKill
from drillbook.faults.rds_stop import RdsStop
from drillbook.harness.environments.staging.k8s.cluster import Cluster
from drillbook.harness.probes import Probe


@pytest.mark.drill(scenario="api pods lost", tier="monthly", rto="60s", component="api")
def test_api_pods_lost(drill, env):
    app = env.app
    drill.steady_state(Probe("api available", lambda: app.deployments.status(app.name).done),
                       *env.steady_probes())
    cluster = Cluster.of(env.settings.roles["app"].kube)
    drill.inject(K8sPodKill("app=api", percent=50, grace_period=0, deployment="api", poll_interval=0.05,
                            **cluster.params()))
    with drill.phase("service restoration"):
        app.wait_available(timeout=30)
    drill.await_recovery()


@pytest.mark.drill(scenario="database stopped", tier="monthly", rto="60s", component="database")
def test_database_stopped(drill, env):
    database = env.database
    drill.steady_state(Probe("rds available", database.running))
    aws = database.rds.aws
    drill.inject(RdsStop(database.name, aws.region, endpoint_url=aws.endpoint_url, poll_interval=0.05,
                         timeout=30))
    drill.await_detection(timeout=10)
    with drill.phase("service restoration"):
        database.start(timeout=30)
    drill.await_recovery()
"""


def test_drills_run_against_the_staging_profile(
    pytester: pytest.Pytester, staging_platform: StagingPlatform
) -> None:
    staging_platform.write(pytester.path)
    pytester.makepyfile(test_staging_drills=DRILLS)
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--drill-env",
        "staging",
        "--drill-probe-interval",
        "50ms",
        "-W",
        "ignore::UserWarning",
    )
    result.assert_outcomes(passed=2)
    records = journal.load_dicts(pytester.path / "drill-results")
    assert [r["environment"]["name"] for r in records] == ["staging", "staging"]
    assert {r["status"] for r in records} == {"PASS"}
    stopped = next(r for r in records if r["drill"]["scenario"] == "database stopped")
    assert stopped["measured"]["rto_s"] > 0 and stopped["measured"]["detect_s"] is not None
    assert stopped["faults"][0]["name"] == "rds_stop" and stopped["faults"][0]["reverted_at"]
    assert staging_platform.password not in json.dumps(records)
