"""The drill suite itself (drills/) run with ``--drill-env staging`` against the emulated
staging platform (moto's server, the Kubernetes API emulator, the toxiproxy server): the drills
with a staging form pass and are journaled as staging runs, their control-plane calls granted
by the generated policy and Roles; the others are skipped, each naming the capability or the
setting it needs. Whether the policy holds nothing more than an annual run calls is asked of
the twin's generated profile, where every drill runs (tests/environments/test_profile_policy.py)."""

from __future__ import annotations

import json

import pytest

from drillbook.harness import journal
from drillbook.harness.calls.declared import declarations
from drillbook.harness.calls.policy import permissions
from drillbook.harness.suite import reference_path
from tests.environments.staging.platform import StagingPlatform

DRILLS = reference_path()


def test_the_drill_suite_on_the_staging_profile(pytester: pytest.Pytester,
                                                staging_platform: StagingPlatform) -> None:
    staging_platform.write(pytester.path)
    ini = pytester.makeini("[pytest]\n")
    result = pytester.runpytest_subprocess(
        str(DRILLS), "-c", str(ini), "--rootdir", str(pytester.path), "-p", "no:cacheprovider",
        "--drill-env", "staging", "--drill-tier", "annual", "--drill-probe-interval", "50ms",
        "-rs", "-W", "ignore::UserWarning", timeout=600,
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed") == 1, result.stdout.str()[-4000:]
    assert outcomes.get("skipped", 0) >= 10 and not outcomes.get("failed") and not outcomes.get("errors")
    # The heap-page overwrite (2D) needs the data directory; no drill reaches the twin's internals.
    result.stdout.fnmatch_lines(["*needs capability 'database.data_directory', which environment 'staging'*"])
    assert "twin.internals" not in result.stdout.str()
    # 1A, 1B, 3, 4, 5 and the partition watch the service's API: skipped without app_url, no record.
    result.stdout.fnmatch_lines(["*environment 'staging' has no app_url*"])
    (record,) = journal.load_dicts(pytester.path / "drill-results")
    assert record["environment"]["name"] == "staging"
    assert record["drill"]["scenario"] == "deployment-test" and record["status"] == "PASS"
    assert record["measured"]["rto_s"] > 0 and record["measured"]["lost_writes"] == 0
    assert [f["name"] for f in record["faults"]] == ["deployment_scale"]
    assert staging_platform.password not in json.dumps(record)
    calls = record["calls"]
    assert {c["caller_kind"] for c in calls} >= {"step", "fault", "revert"}
    assert all(c["request_id"] for c in calls if c["service"] == "kubernetes")  # the API server's Audit-Id
    called = {c["permission"] for c in calls if c["permission"]}
    granted = permissions(declarations())
    assert called and called <= granted, f"not in the generated policy/Role: {sorted(called - granted)}"
