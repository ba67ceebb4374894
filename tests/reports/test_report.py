"""The DR Test Report from the stored journals: golden files, and what each status must say."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

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
from drillbook.reports.model import RunReport
from drillbook.reports.options import ReportOptions
from tests.reports.conftest import NOW, RUN_ANNUAL, RUN_C, RUN_MONTHLY, RUN_OLD, SUITE, Golden


def build(run_id: str | None, options: ReportOptions, directory: Path = SUITE) -> RunReport:
    records = journals.run_records(directory, run_id)
    return model.build_run(records, options, generated_at=NOW, generator="drillbook (golden)")


@pytest.mark.parametrize("run_id", [RUN_OLD, RUN_MONTHLY, RUN_ANNUAL, RUN_C])
def test_reports_match_their_golden_files(
    in_repo: Path, options: ReportOptions, golden: Golden, run_id: str
) -> None:
    report = build(run_id, options)
    golden(f"report-{run_id}.md", render.run_markdown(report))
    golden(f"report-{run_id}.json", render.run_json(report))
    golden(f"report-{run_id}.html", render.run_html(report))


def test_json_keeps_its_figures(in_repo: Path, options: ReportOptions) -> None:
    body = json.loads(render.run_json(build(RUN_MONTHLY, options)))
    assert body["format"] == "drillbook.report" and body["version"] == 1
    assert body["counts"] == {"PASS": 1, "PARTIAL": 1, "FAIL": 1}
    checks = [v for d in body["drills"] for v in d["verification"]]
    assert {v["passed"] for v in checks} == {True, False}
    assert body["drills"][1]["rto"]["measured_s"] > body["drills"][1]["rto"]["target_s"] == 0.4


def test_latest_run_is_the_run_of_the_last_record(in_repo: Path, options: ReportOptions) -> None:
    assert build(None, options).run_id == RUN_C  # its sign-offs come last: they belong to the run


def test_partial_report_states_why_with_the_numbers(in_repo: Path, options: ReportOptions) -> None:
    report = build(RUN_MONTHLY, options)
    partial = next(d for d in report.drills if d.status == "PARTIAL")
    raw = journal.load_dicts(SUITE)
    rec = next(r for r in raw if r.get("record_id") == partial.identity.record_id)
    measured, target = rec["measured"]["rto_s"], rec["targets"]["rto_s"]
    assert measured > target
    assert partial.rto.met is False
    assert partial.rto.verdict.startswith("MISSED by")
    assert any(
        r.startswith("RTO target missed: measured 1.1") and "target 400ms" in r for r in partial.reasons
    )
    issue = partial.issues[0]
    assert issue.kind == "rto-missed"
    over_pct = (measured - target) / target
    assert f"+{over_pct:.0%}" in issue.issue and issue.severity == "Critical"  # more than twice the target
    assert any(i.kind == "phase-over" and "service restoration" in i.issue for i in partial.issues)
    md = render.run_markdown(report)
    assert "**Why PARTIAL:**" in md and "RTO target missed: measured 1.1" in md
    assert "[ ] PASS [ ] FAIL [x] PARTIAL" in md


def test_fail_report_states_why_with_the_numbers(in_repo: Path, options: ReportOptions) -> None:
    report = build(RUN_MONTHLY, options)
    fail = next(d for d in report.drills if d.status == "FAIL")
    assert fail.rto.measured == "n/a" and fail.rto.verdict == "not recovered"
    assert "not recovered within 1.50s of the fault" in fail.reasons
    assert any(
        "verification failed: pods rescheduled to zone b (0/3 replicas ready" in r for r in fail.reasons
    )
    kinds = {i.kind: i for i in fail.issues}
    assert kinds["not-recovered"].severity == "Critical"
    assert kinds["verification"].severity == "High"
    assert "5 of 5 acknowledged writes lost" in kinds["rpo-missed"].issue
    assert fail.ledger.lost == 5 and fail.ledger.acked == 5
    html = render.run_html(report)
    assert "Why FAIL:" in html and "not recovered within 1.50s of the fault" in html
    assert "[x] FAIL" in html


def test_revert_problem_is_a_critical_issue(in_repo: Path, options: ReportOptions) -> None:
    breach = next(d for d in build(RUN_ANNUAL, options).drills if d.identity.scenario == "security-breach")
    assert breach.status == "FAIL"
    revert = next(i for i in breach.issues if i.kind == "revert")
    assert revert.severity == "Critical" and "rotation locked by policy" in revert.issue
    assert breach.faults[0].revert_error
    assert [o.met for o in breach.objectives][-1] is False


def test_old_schema_record_loads_and_renders(in_repo: Path, options: ReportOptions) -> None:
    report = build(RUN_OLD, options)
    (old,) = report.drills
    assert old.evidence.schema_version == 0 and "older drillbook" in old.evidence.schema_note
    assert old.status == "PARTIAL"  # stored as "partial"
    assert old.reasons == ("RPO target missed: measured 21m > target 15m (by 6m)",)  # implied from figures
    assert old.identity.record_id.startswith(RUN_OLD) and old.identity.schedule == "ad hoc"
    assert old.evidence.config_hash == "not recorded"
    assert [p.state for p in old.phases][:5] == ["over", "within", "over", "within", "within"]
    for text in (render.run_markdown(report), render.run_html(report), render.run_json(report)):
        assert "s3cr3t-pw" not in text and "hunter2-old" not in text
        assert "postgresql://drill:***@db.internal:5432/app" in text


def test_unannounced_and_schedule_come_from_extra(in_repo: Path, options: ReportOptions) -> None:
    annual = build(RUN_ANNUAL, options)
    assert all(not d.identity.announced and d.identity.schedule == "annual" for d in annual.drills)
    monthly = build(RUN_MONTHLY, options)
    assert all(d.identity.announced and d.identity.schedule == "monthly" for d in monthly.drills)


def test_an_unannounced_drills_reveal_is_shown() -> None:
    from drillbook.harness.records import Unannounced
    from drillbook.reports.model import _announcement

    reveal = {
        "sealed_at": "2026-11-01T09:00:00+00:00",
        "scheduled_at": "2026-11-20T14:00:00+00:00",
        "revealed_at": "2026-11-20T16:00:00Z",
        "verified": False,
        "commitment": "ab12",
        "nonce": "x",
    }
    text = _announcement(Unannounced.from_value(reveal))
    assert text.startswith("UNANNOUNCED (plan sealed 2026-11-01T09:00:00+00:00, scheduled 2026-11-20")
    assert text.endswith("commitment NOT verified)")
    assert _announcement(None) == "announced" and _announcement(Unannounced.from_value(True)) == "UNANNOUNCED"


def test_action_items_take_owners_and_due_dates_from_options(in_repo: Path, options: ReportOptions) -> None:
    fail = next(d for d in build(RUN_MONTHLY, options).drills if d.status == "FAIL")
    first, *fixes, training = fail.action_items
    assert first.owner == "DevOps lead" and first.due == "2026-12-27"
    assert all(f.owner == "SRE on call" for f in fixes)
    assert fixes[0].due == "2026-12-04"  # critical: 7 days
    assert training.due == "2027-01-26"
    blank = next(d for d in build(RUN_MONTHLY, ReportOptions()).drills if d.status == "FAIL")
    assert all(a.owner == "" and a.due == "" for a in blank.action_items)


def test_evidence_names_the_chain_state(suite_copy: Path, options: ReportOptions) -> None:
    report = build(RUN_ANNUAL, options, suite_copy)
    assert report.chain_ok and all(d.evidence.chain_verified for d in report.drills)
    assert (
        report.drills[0].evidence.record_hash
        == json.loads((suite_copy / report.drills[0].evidence.journal_file).read_text())["hash"]
    )
    tampered = journal.record_files(suite_copy)[2]  # a record of the monthly run
    tampered.write_text(tampered.read_text().replace('"PARTIAL"', '"PASS"'))
    broken = build(RUN_ANNUAL, options, suite_copy)
    assert broken.chain_ok is False and tampered.name in broken.chain
    assert all(d.evidence.chain_verified is False for d in broken.drills)
    assert "cannot be verified: the chain breaks before it" in broken.drills[0].evidence.chain
    monthly = build(RUN_MONTHLY, options, suite_copy)
    states = [d.evidence.chain for d in monthly.drills]
    assert states[0].startswith("verified; the chain breaks later") and states[1].startswith("BROKEN")


def test_secrets_are_redacted_in_every_format(tmp_path: Path, options: ReportOptions) -> None:
    secret = "Sup3rS3cretPw"
    result = DrillResult(
        run_id="run-secret",
        record_id="run-secret-001",
        drill=DrillInfo(
            nodeid="t.py::test_x", scenario="database-corruption", description=f"dsn password={secret}"
        ),
        environment=EnvironmentInfo(
            "staging", {"db_url": f"postgresql://app:{secret}@db/x", "api_token": secret}
        ),
        targets=Targets(rto_s=60.0, rpo_s=0.0),
        measured=Measured(rto_s=10.0, rpo_s=0.0, acked_writes=3, lost_writes=0),
        status=Status.PASS,
        timeline=[
            TimelineEvent("2026-11-01T10:00:00.000Z", "test start", f"token={secret}"),
            TimelineEvent("2026-11-01T10:00:05.000Z", "test end", ""),
        ],
        started_at="2026-11-01T10:00:00.000Z",
        extra={"client_secret": secret},
    )
    journal.append(tmp_path, result)
    report = build("run-secret", options, tmp_path)
    for text in (render.run_markdown(report), render.run_html(report), render.run_json(report)):
        assert secret not in text
        assert "***" in text


def test_unknown_run_names_the_latest_runs(in_repo: Path) -> None:
    with pytest.raises(journals.NoJournal, match=rf"no run 'nope'.*{RUN_ANNUAL}.*--latest"):
        journals.run_records(SUITE, "nope")


def test_empty_results_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(journals.NoJournal, match="no journal records"):
        journals.run_records(tmp_path)
    with pytest.raises(journals.NoJournal, match="does not exist; pass --results"):
        journals.run_records(tmp_path / "missing")
