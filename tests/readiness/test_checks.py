"""Readiness items judged from journal records, template directories and a stopped environment."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from drillbook.harness.config import Config
from drillbook.harness.readiness import PRE_DISASTER, Inputs, Item, State, SuiteDrill, check, render
from drillbook.harness.readiness.journal_checks import backup_verified, probes_defined, scenarios_fresh
from drillbook.harness.readiness.template_checks import builtin_templates, templates_present
from drillbook.harness.records import DrillInfo, DrillResult, EnvironmentInfo, Status, TimelineEvent
from drillbook.harness.timing import iso
from drillbook.twin.environment import LocalEnvironment

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
CADENCE = {"monthly": 31, "quarterly": 92, "annual": 366}


def record(
    scenario: str,
    *,
    days_ago: float,
    status: Status = Status.PASS,
    component: str = "database",
    tier: str = "monthly",
    probes: str = "primary, cache",
    **extra: object,
) -> DrillResult:
    at = iso(NOW - timedelta(days=days_ago))
    return DrillResult(
        run_id=f"run-{scenario}-{days_ago}",
        record_id=f"rec-{scenario}-{days_ago}",
        drill=DrillInfo(f"drills/test_x.py::test_{scenario}", scenario, tier=tier, component=component),
        environment=EnvironmentInfo("local"),
        status=status,
        started_at=at,
        finished_at=at,
        timeline=[TimelineEvent(at, "steady state holds", probes)] if probes else [],
        extra=dict(extra),
    )


def test_a_backup_drill_passed_within_31_days() -> None:
    fresh = backup_verified([record("backup-verification", days_ago=30)], now=NOW, max_age_days=31, names=())
    assert fresh.state is State.PASS and "backup-verification" in fresh.detail
    stale = backup_verified([record("backup-verification", days_ago=32)], now=NOW, max_age_days=31, names=())
    assert stale.state is State.FAIL and "over 31 days" in stale.detail
    failed = backup_verified(
        [record("backup-verification", days_ago=1, status=Status.FAIL)], now=NOW, max_age_days=31, names=()
    )
    assert failed.state is State.FAIL and "none passed" in failed.detail
    other = backup_verified([record("application-crash", days_ago=1)], now=NOW, max_age_days=31, names=())
    assert other.state is State.FAIL
    named = backup_verified(
        [record("database-corruption", days_ago=1)], now=NOW, max_age_days=31, names=("database-corruption",)
    )
    assert named.state is State.PASS


def test_every_scenario_within_its_cadence() -> None:
    drills = [
        SuiteDrill("restore", None, "monthly", "database"),
        SuiteDrill("failover", None, "quarterly", "api"),
    ]
    runs = [record("restore", days_ago=20), record("failover", days_ago=80, tier="quarterly")]

    def fresh(records: list[DrillResult], schedule: str | None = None) -> Item:
        return scenarios_fresh(drills, records, now=NOW, cadence_days=CADENCE, schedule=schedule)

    # Each scenario's own tier, and annual (the DR testing schedule: every scenario once a year).
    whole = fresh(runs)
    assert whole.state is State.FAIL
    assert "restore (annual): never drilled" not in whole.detail  # it is in the journal: NEVER PASSED
    assert "restore (annual): NEVER PASSED (0 runs)" in whole.detail
    annual = [
        record("restore", days_ago=100, tier="monthly", schedule="annual"),
        record("failover", days_ago=100, tier="quarterly", schedule="annual"),
    ]
    assert fresh(runs + annual).state is State.PASS
    # One tier only: what `drillbook run --schedule monthly` keeps fresh.
    assert fresh(runs, "monthly").state is State.PASS
    stale = fresh([record("restore", days_ago=40)], "monthly")
    assert stale.state is State.FAIL and "restore (monthly): OVERDUE: passed" in stale.detail
    never = fresh([record("restore", days_ago=1)], "quarterly")
    assert never.state is State.FAIL and "failover (quarterly): never drilled" in never.detail
    failed_only = fresh([record("restore", days_ago=1, status=Status.FAIL)], "monthly")
    assert failed_only.state is State.FAIL and "NEVER PASSED (1 run)" in failed_only.detail
    passed_then_failed = fresh(
        [record("restore", days_ago=2), record("restore", days_ago=1, status=Status.FAIL)], "monthly"
    )
    assert passed_then_failed.state is State.PASS  # the reports' rule: the last PASS within the cadence


def test_probes_on_record_for_every_component() -> None:
    drills = [
        SuiteDrill("restore", None, "monthly", "database"),
        SuiteDrill("flush", None, "monthly", "cache"),
    ]
    ok = probes_defined(
        drills,
        [record("restore", days_ago=1), record("flush", days_ago=1, component="cache")],
        ["database", "cache"],
    )
    assert ok.state is State.PASS and "database: primary, cache" in ok.detail
    bare = probes_defined(
        drills, [record("restore", days_ago=1), record("flush", days_ago=1, component="cache", probes="")], []
    )
    assert bare.state is State.FAIL and "cache (its last drill had no probe)" in bare.detail


def test_templates_of_each_kind(tmp_path: Path) -> None:
    assert templates_present([tmp_path]).state is State.FAIL
    (tmp_path / "postmortem.md").write_text("x")
    only_pm = templates_present([tmp_path])
    assert only_pm.state is State.FAIL and "incident communications" in only_pm.detail
    (tmp_path / "status-page.md").write_text("x")
    assert templates_present([tmp_path]).state is State.PASS
    builtin = builtin_templates()
    assert builtin is not None and templates_present([builtin]).state is State.PASS, "reports ship both kinds"


def inputs(tmp_path: Path, records: list[DrillResult], **config: object) -> Inputs:
    env = LocalEnvironment(tmp_path / "state" / "local")  # never started: down
    return Inputs(
        config=Config(dict(config)),
        environment=env,
        records=records,
        drills=[SuiteDrill("backup-verification", None, "monthly", "database")],
        results=tmp_path,
        cadence_days=CADENCE,
        schedule="monthly",
        now=NOW,
    )


def test_an_environment_that_is_down_fails_the_database_items(tmp_path: Path) -> None:
    result = check(inputs(tmp_path, [record("backup-verification", days_ago=1)]))
    items = {i.key: i for i in result.items}
    for key in ("snapshot", "wal_archive", "replica_lag"):
        assert items[key].state is State.FAIL and "not up: run `drillbook env up`" in items[key].detail
    assert items["backup_drill"].state is State.PASS and items["freshness"].state is State.PASS
    assert not result.ok
    # Every line of Appendix A's Pre-Disaster Preparation is there, automated or to confirm.
    assert {i.checklist for i in result.items} == {line for line, _ in PRE_DISASTER}
    assert sum(1 for i in result.items if i.state is State.MANUAL) == 5


def test_synthetic_records_are_not_evidence(tmp_path: Path) -> None:
    result = check(inputs(tmp_path, [record("backup-verification", days_ago=1, synthetic=True)]))
    items = {i.key: i for i in result.items}
    assert items["backup_drill"].state is State.FAIL and items["freshness"].state is State.FAIL


def test_renders_table_markdown_and_json(tmp_path: Path) -> None:
    result = check(inputs(tmp_path, [], paging={"url_env": "X"}))
    table = render(result, "table")
    assert "NOT READY" in table and "FAIL    a backup verification drill passed within 31 days" in table
    md = render(result, "md")
    assert "| [ ] **FAIL** | a backup verification drill passed within 31 days |" in md
    assert "technical lead (Technical Lead) 30m" in md  # the configured escalation path, to confirm
    data = json.loads(render(result, "json"))
    assert data["ok"] is False and {i["state"] for i in data["items"]} == {"PASS", "FAIL", "MANUAL"}


def test_bad_readiness_config_names_the_key(tmp_path: Path) -> None:
    from drillbook.harness.errors import InvalidDrillConfig

    with pytest.raises(InvalidDrillConfig, match="backup_max_age"):
        check(inputs(tmp_path, [], readiness={"backup_max_age": "a month"}))
    with pytest.raises(InvalidDrillConfig, match="unknown key"):
        check(inputs(tmp_path, [], readiness={"snapshot_age": "1h"}))


def test_cli_rejects_a_missing_journal_directory(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "drillbook", "readiness", "--results", str(tmp_path / "nope")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "does not exist" in done.stderr and "Traceback" not in done.stderr


def test_the_cli_lists_the_renderers_formats() -> None:
    from drillbook.harness.cli import readiness as readiness_cli
    from drillbook.harness.readiness import FORMATS

    assert readiness_cli.FORMATS == FORMATS
