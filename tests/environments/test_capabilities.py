"""Capabilities: what a platform can do is declared by its environment; a drill needing a
missing one is skipped naming it, a part needing one is reported as not run and the rest runs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from drillbook.harness import journal
from drillbook.harness.config import Config, ConfigError, find_config
from drillbook.harness.environments import capabilities as caps
from drillbook.harness.environments.profile import load_profile
from drillbook.harness.errors import InvalidDrillConfig
from drillbook.harness.runbook import Step
from drillbook.reports import journals, model, render
from drillbook.reports.options import ReportOptions

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
STAGE = """
[environments.stage]
driver = "staging"
{grant}

[environments.stage.database]
driver = "postgres"
url = "postgresql://drills@127.0.0.1:1/compliant"
"""


def config(tmp_path: Path, grant: str = "") -> Config:
    (tmp_path / "drillbook.toml").write_text(STAGE.format(grant=grant))
    return find_config(tmp_path)


def test_the_local_environment_has_every_capability(tmp_path: Path) -> None:
    assert load_profile(config(tmp_path), "local").capabilities == frozenset(caps.KNOWN)


def test_a_staging_profile_has_none_unless_it_grants_them(tmp_path: Path) -> None:
    assert load_profile(config(tmp_path), "stage").capabilities == frozenset()
    granted = config(tmp_path, f'capabilities = ["{caps.SUPERUSER}"]')
    assert load_profile(granted, "stage").capabilities == {caps.SUPERUSER}


@pytest.mark.parametrize(
    ("grant", "message"),
    [
        ('capabilities = ["database.superpower"]', "unknown capability 'database.superpower'"),
        ('capabilities = ["twin.internals"]', "unknown capability 'twin.internals'"),  # withdrawn
        ("capabilities = 3", "expected an array of strings"),
    ],
)
def test_a_bad_grant_is_a_config_error_naming_the_key(tmp_path: Path, grant: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        load_profile(config(tmp_path, grant), "stage")
    assert "capabilities" in str(caught.value)


def test_a_step_naming_an_unknown_capability_is_refused() -> None:
    with pytest.raises(InvalidDrillConfig, match="unknown capability 'files'"):
        Step("checksums", "verification & testing", lambda ctx: None, requires="files")


INNER = """
import pytest

@pytest.mark.requires_capability("database.data_directory")
def test_needs_files():
    pass

def test_needs_nothing():
    pass
"""


def test_the_marker_is_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.requires_capability(*capabilities)*database.data_directory*"])


def test_a_drill_needing_a_missing_capability_is_skipped_naming_it(pytester: pytest.Pytester) -> None:
    (pytester.path / "drillbook.toml").write_text(STAGE.format(grant=""))
    pytester.makepyfile(test_inner=INNER)
    result = pytester.runpytest("-p", "no:cacheprovider", "--drill-env", "stage", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines([
        "*needs capability 'database.data_directory', which environment 'stage' lacks*"
    ])


def test_granted_or_local_the_drill_runs(pytester: pytest.Pytester) -> None:
    grant = f'capabilities = ["{caps.DATA_DIRECTORY}"]'
    (pytester.path / "drillbook.toml").write_text(STAGE.format(grant=grant))
    pytester.makepyfile(test_inner=INNER)
    pytester.runpytest("-p", "no:cacheprovider", "--drill-env", "stage").assert_outcomes(passed=2)
    pytester.runpytest("-p", "no:cacheprovider", "--drill-env", "local").assert_outcomes(passed=2)


def test_an_unknown_capability_in_the_marker_fails_the_test_clearly(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner='import pytest\n@pytest.mark.requires_capability("disk")\ndef test_x():\n'
                        "    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown capability 'disk'; capabilities are*"])
    assert "Traceback" not in result.stdout.str()


DRILL = """
import pytest
from drillbook.harness.runbook import Runbook, Step

ran = []

RUNBOOK = Runbook(name="restore test", overview="restore and check", steps=[
    Step("restore", "DR activation", lambda ctx: ran.append("restore")),
    Step("pg_checksums", "verification & testing", lambda ctx: ran.append("checksums"),
         requires="database.data_directory"),
    Step("row counts", "verification & testing", lambda ctx: ran.append("counts")),
])

@pytest.mark.drill(scenario="backup-verification", tier="monthly", rto="5s", rpo="1s")
def test_restore(drill):
    drill.steady_state(lambda: True)
    RUNBOOK.run(drill, None)
    drill.verify("parts that ran", (ran == {expected}, str(ran)))
"""


def test_a_part_needing_a_missing_capability_is_not_run_and_the_rest_runs(pytester: pytest.Pytester) -> None:
    (pytester.path / "drillbook.toml").write_text(STAGE.format(grant=""))
    pytester.makepyfile(test_inner=DRILL.format(expected=["restore", "counts"]))
    result = pytester.runpytest("-p", "no:cacheprovider", "--drill-quiet", "--drill-env", "stage")
    result.assert_outcomes(passed=1)
    (record,) = journal.load(pytester.path / "drill-results")
    assert record.status.value == "PASS"
    assert [(n.part, n.capability) for n in record.not_run] == [("pg_checksums", caps.DATA_DIRECTORY)]
    assert "environment 'stage' lacks" in record.not_run[0].reason
    assert record.environment.capabilities == []
    assert any(e.event == "part not run" for e in record.timeline)
    results = pytester.path / "drill-results"
    report = model.build_run(
        journals.run_records(results, record.run_id), ReportOptions(), generated_at=NOW, generator="test"
    )
    markdown, html = render.run_markdown(report), render.run_html(report)
    assert "<h3>Not run</h3>" in html and caps.DATA_DIRECTORY in html
    assert "### Not run" in markdown and "- pg_checksums: not run, needs capability" in markdown


def test_where_the_capability_is_there_every_part_runs(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner=DRILL.format(expected=["restore", "checksums", "counts"]))
    result = pytester.runpytest("-p", "no:cacheprovider", "--drill-quiet", "--drill-env", "local")
    result.assert_outcomes(passed=1)
    (record,) = journal.load(pytester.path / "drill-results")
    assert record.not_run == [] and sorted(record.environment.capabilities or []) == sorted(caps.KNOWN)
