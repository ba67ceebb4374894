"""Scope: the environment's kind in the title block, and what the run did not exercise of the
DR procedures' scenarios and testing schedule, with the last time each passed."""

from __future__ import annotations

from pathlib import Path

import pytest

from drillbook.harness.records import EnvironmentInfo
from drillbook.reports import journals, model, render
from drillbook.reports.options import ReportOptions
from drillbook.reports.reference import CATALOGUE, covers
from drillbook.reports.scope import environment_kind
from tests.reports.conftest import NOW, RUN_C, RUN_MONTHLY, RUN_OLD, SUITE


def build(run_id: str) -> model.RunReport:
    return model.build_run(
        journals.run_records(SUITE, run_id), ReportOptions(), generated_at=NOW, generator="t"
    )


@pytest.mark.parametrize(
    ("env", "text", "simulation"),
    [
        (EnvironmentInfo("local", kind="local"), "simulation on the embedded local twin", True),
        (EnvironmentInfo("ci", kind="containers"), "simulation in local containers", True),
        (EnvironmentInfo("staging", kind="staging"), "staging (environment 'staging')", False),
        (EnvironmentInfo("prod", kind="staging", production=True), "PRODUCTION (environment 'prod')", False),
        (EnvironmentInfo("local"), "kind inferred from the name", True),  # written before the kind
        (EnvironmentInfo("staging"), "not recorded (environment 'staging'", False),
    ],
)
def test_environment_kind(env: EnvironmentInfo, text: str, simulation: bool) -> None:
    kind = environment_kind(env)
    assert text in kind.text and kind.simulation is simulation


def test_every_report_states_its_environment_in_the_title_block(in_repo: Path) -> None:
    report = build(RUN_C)
    assert report.environment_kind == "simulation on the embedded local twin (environment 'local')"
    md = render.run_markdown(report)
    head = md.split("## Not exercised", 1)[0]
    assert "> **Environment: simulation on the embedded local twin (environment 'local').**" in head
    assert "Its figures measure the drills on a simulation, not on production." in head
    old = build(RUN_OLD)
    assert old.environment_kind.startswith("not recorded (environment 'staging'") and not old.simulation


def test_what_the_run_did_not_exercise_is_listed(in_repo: Path) -> None:
    scope = build(RUN_C).scope
    missing = {c.key for c in scope.not_exercised}
    # scenarios 1, 3 and 4, the quarterly failover and the annual simulation: none of them ran
    assert {"1A", "1B", "3", "4", "quarterly-failover", "annual-simulation", "annual-review"} <= missing
    assert {c.key for c in scope.exercised} == {"monthly-backup", "2B"}
    assert scope.beyond == ("background-jobs",)
    assert "exercised 2 of the 15 scenario options and tests" in scope.summary
    assert all(c.last_pass == "never" for c in scope.not_exercised if c.key in ("1A", "3", "4"))


def test_the_last_pass_of_what_was_not_exercised_comes_from_the_journal(in_repo: Path) -> None:
    report = build(RUN_MONTHLY)  # an earlier run: the backup test passed later, in run C
    rows = {c.key: c for c in report.scope.not_exercised}
    assert rows["monthly-backup"].last_pass == f"2026-12-02 (record {RUN_C}-001)"
    assert "2B" not in rows and rows["2C"].last_pass == "never"  # 2B: the snapshot restore ran here
    html = render.run_html(report)
    assert 'data-key="monthly-backup"' in html and f"2026-12-02 (record {RUN_C}-001)" in html
    assert report.scope.unmatched == ("application-crash",)  # Scenario 5 without an option named


def test_catalogue_matching_by_option_code_then_words() -> None:
    item = {i.key: i for i in CATALOGUE}
    assert covers(item["2B"], "database-corruption", "2B table lost (TRUNCATE)", unannounced=False)
    assert not covers(item["2B"], "database-corruption", "2D overwritten heap page", unannounced=False)
    assert covers(item["2B"], "database-corruption", "snapshot-restore", unannounced=False)
    assert covers(item["5C"], "application-crash", "5C emergency hotfix", unannounced=False)
    assert not covers(item["5C"], "application-crash", "", unannounced=False)
    assert covers(item["annual-simulation"], "anything", "", unannounced=True)
    assert not covers(item["annual-review"], "anything", "", unannounced=True)
