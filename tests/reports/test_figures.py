"""Honest figures: each scenario's own expected timeline, a planned test's figure under its own
name, no target change proposed from a simulation, the event log in time order, loss visible."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from drillbook.harness import journal
from drillbook.harness.records import (
    DrillInfo,
    DrillResult,
    EnvironmentInfo,
    Measured,
    Status,
    Targets,
    TimelineEvent,
)
from drillbook.reports import journals, model, render
from drillbook.reports.model import DrillReport
from drillbook.reports.options import ReportOptions
from tests.reports.conftest import NOW, RUN_C, RUN_MONTHLY, SUITE


def drills(
    run_id: str, options: ReportOptions | None = None, directory: Path = SUITE
) -> tuple[DrillReport, ...]:
    records = journals.run_records(directory, run_id)
    return model.build_run(records, options or ReportOptions(), generated_at=NOW, generator="t").drills


def test_each_scenario_is_compared_with_its_own_sections_timeline(in_repo: Path) -> None:
    crash, corruption, _ = drills(RUN_MONTHLY)
    # Scenario 5 (RTO 30 minutes), not Scenario 1's 110 minutes
    assert crash.expected_timeline.source == "DR procedures, Scenario 5: Application Crash"
    assert crash.expected_timeline.total == "RTO: 30 minutes"
    assert [p.procedure_cumulative for p in crash.phases if p.duration_s is not None] == [
        "2m",
        "5m",
        "23m",
        "28m",
    ]
    assert corruption.expected_timeline.source == "DR procedures, Scenario 2: Database Corruption/Loss"
    untimed = next(p for p in crash.phases if p.state == "not timed")
    assert untimed.name == "DR activation" and untimed.procedure_s == 7 * 60


def test_a_planned_test_reports_its_own_figure_not_an_outage_rto(in_repo: Path) -> None:
    backup = drills(RUN_C)[0]
    assert backup.recovery_figure == "restore time" and not backup.outage
    assert backup.rto.name == "Restore time" and backup.rto.verdict.startswith("met")
    assert backup.detect == "not applicable (a planned test)"
    assert backup.key_times["Issue detected"] == "not applicable: a planned test, nothing to detect"
    assert "Restore complete" in backup.key_times and "Recovery complete" not in backup.key_times
    assert not any(i.kind == "not-detected" for i in backup.issues)
    md = render.run_markdown(
        model.build_run(journals.run_records(SUITE, RUN_C), ReportOptions(), generated_at=NOW, generator="t")
    )
    assert "- **Actual Restore time: 317ms** (Target: 30m)" in md
    assert "- Actual RTO: not applicable: a planned test, not an outage (restore time measured instead)" in md
    assert "Issue detected: not detected" not in md


def test_a_simulations_action_items_never_propose_changing_targets(in_repo: Path) -> None:
    for d in drills(RUN_C):
        texts = [a.text for a in d.action_items] + [i.action for i in d.issues]
        assert not any("Update the DR procedures with the measured" in t for t in texts)
        assert not any("revise the target" in t or "correct its expected duration" in t for t in texts)
        assert "they are no grounds to change the RTO/RPO targets" in d.action_items[0].text


def test_a_staging_runs_action_items_compare_its_figures_with_the_targets(tmp_path: Path) -> None:
    result = DrillResult(
        run_id="staging-run",
        record_id="staging-run-001",
        drill=DrillInfo("t.py::test_x", "application-crash", tier="monthly", severity=2),
        environment=EnvironmentInfo("staging", kind="staging", production=False),
        targets=Targets(rto_s=60.0, rpo_s=None),
        measured=Measured(rto_s=90.0, detect_s=1.0),
        status=Status.PARTIAL,
        started_at="2026-11-01T10:00:00.000Z",
        timeline=[TimelineEvent("2026-11-01T10:00:00.000Z", "test start", "")],
    )
    journal.append(tmp_path, result)
    (d,) = drills("staging-run", directory=tmp_path)
    assert d.action_items[0].text.startswith(
        "Compare the measured RTO 1m 30s and RPO n/a of application-crash"
    )
    assert any("revise the target with the business" in i.action for i in d.issues)


def test_the_event_log_is_in_time_order(tmp_path: Path) -> None:
    # written as an older engine wrote it: "recovery complete" dated back to the first of the
    # K passing checks, but appended after an event with a later time
    events = [
        ("10:00:00.000", "test start"),
        ("10:00:01.000", "fault injected"),
        ("10:00:01.100", "issue detected"),
        ("10:00:03.000", "fault reverted"),
        ("10:00:03.400", "verification"),
        ("10:00:02.500", "recovery complete"),
        ("10:00:04.000", "test end"),
    ]
    result = DrillResult(
        run_id="order",
        record_id="order-001",
        drill=DrillInfo("t.py::test_x", "application-crash"),
        environment=EnvironmentInfo("local", kind="local"),
        measured=Measured(rto_s=1.5, detect_s=0.1),
        status=Status.PASS,
        started_at="2026-11-01T10:00:00.000Z",
        timeline=[TimelineEvent(f"2026-11-01T{t}Z", e) for t, e in events],
    )
    journal.append(tmp_path, result)
    (d,) = drills("order", directory=tmp_path)
    assert [e.event for e in d.timeline] == [
        "test start",
        "fault injected",
        "issue detected",
        "recovery complete",
        "fault reverted",
        "verification",
        "test end",
    ]
    assert [e.clock for e in d.timeline] == sorted(e.clock for e in d.timeline)


def test_loss_within_the_rpo_is_an_issue_and_shown_in_the_summary(in_repo: Path) -> None:
    corruption = drills(RUN_C)[1]
    assert corruption.status == "PASS" and corruption.rpo.met
    issues = {i.kind: i for i in corruption.issues}
    lost = issues["acked-lost"]
    assert lost.severity == "Medium" and lost.issue.startswith("14 of 27 acknowledged writes lost (52%)")
    assert "within the RPO target of 5m" in lost.issue
    unknown = issues["indeterminate"]
    assert (
        unknown.severity == "Medium"
        and "24 writes timed out" in unknown.issue
        and "threshold of 10" in unknown.issue
    )
    assert any("Fix issue #2 (Medium)" in a.text for a in corruption.action_items)
    assert "writes: 27 acknowledged, 14 lost, 24 of unknown outcome" in corruption.summary
    md = render.run_markdown(
        model.build_run(journals.run_records(SUITE, RUN_C), ReportOptions(), generated_at=NOW, generator="t")
    )
    summary = md.split("## Not exercised", 1)[0]
    assert "| **PASS** | RTO | 1.01s | 1h | 728ms | 5m | 27 | 14 | 24 | 2 |" in summary


def test_unknown_outcomes_at_or_below_the_threshold_stay_low(in_repo: Path) -> None:
    options = dataclasses.replace(ReportOptions(), indeterminate_threshold=30)
    corruption = drills(RUN_C, options)[1]
    unknown = next(i for i in corruption.issues if i.kind == "indeterminate")
    assert unknown.severity == "Low"
    assert not any(f"#{unknown.number} " in a.text for a in corruption.action_items[1:])
