"""The drill suite itself (drills/) run with ``--drill-env staging`` against the emulated
staging platform: the drills with a staging form pass and are journaled as staging runs;
the others are skipped, each naming the capability or the setting it needs."""

from __future__ import annotations

import json

import pytest

from drillbook.harness import journal
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
    # The heap-page overwrite (2D) needs the data directory; no drill needs twin.internals any more.
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
