"""Post-mortem and communication drafts from a drill's timeline and figures."""

from __future__ import annotations

from pathlib import Path

from drillbook.reports import journals, model, postmortem
from drillbook.reports.model import DrillReport
from drillbook.reports.options import ReportOptions
from tests.reports.conftest import NOW, RUN_ANNUAL, RUN_C, RUN_MONTHLY, SUITE, Golden


def drills_of(run_id: str, options: ReportOptions) -> tuple[DrillReport, ...]:
    run = model.build_run(journals.run_records(SUITE, run_id), options, generated_at=NOW, generator="golden")
    return run.drills


def drill(run_id: str, status: str, options: ReportOptions) -> DrillReport:
    run = model.build_run(journals.run_records(SUITE, run_id), options, generated_at=NOW, generator="golden")
    return next(d for d in run.drills if d.status == status)


def test_fail_postmortem_and_comms_match_golden(
    in_repo: Path, options: ReportOptions, golden: Golden
) -> None:
    d = drill(RUN_MONTHLY, "FAIL", options)
    golden(
        "postmortem-fail.md",
        postmortem.postmortem_markdown(postmortem.build_postmortem(d, options, today=NOW)),
    )
    golden("comms-fail.md", postmortem.comms_markdown(postmortem.build_comms(d, options)))


def test_partial_postmortem_and_comms_match_golden(
    in_repo: Path, options: ReportOptions, golden: Golden
) -> None:
    d = drill(RUN_ANNUAL, "PARTIAL", options)
    golden(
        "postmortem-partial.md",
        postmortem.postmortem_markdown(postmortem.build_postmortem(d, options, today=NOW)),
    )
    golden("comms-partial.md", postmortem.comms_markdown(postmortem.build_comms(d, options)))


def test_postmortem_is_filled_from_the_timeline(in_repo: Path, options: ReportOptions) -> None:
    d = drill(RUN_ANNUAL, "PASS", options)
    pm = postmortem.build_postmortem(d, options, today=NOW)
    stages = {s.label: s.at for s in pm.timeline}
    assert stages["Incident detected"] == d.key_times["Issue detected"].split(" ", 1)[1]
    assert stages["Service restored"] == d.key_times["Recovery complete"].split(" ", 1)[1]
    assert pm.data_loss.startswith("None (") and "all recovered" in pm.data_loss
    assert pm.duration.endswith("seconds") and any(w.startswith("RTO met") for w in pm.went_well)
    assert not pm.went_badly
    assert pm.attendees == options.participants


def test_status_page_stages_and_eta(in_repo: Path, options: ReportOptions) -> None:
    d = drill(RUN_MONTHLY, "PARTIAL", options)
    comms = postmortem.build_comms(d, options)
    assert [s.label for s in comms.status_page] == ["Investigating", "Identified", "Monitoring", "Resolved"]
    assert all(s.at for s in comms.status_page)
    # the ETA is the fault time plus the RTO target (400ms)
    fault = next(r for r in d.timeline if r.event == "fault injected")
    assert comms.eta.startswith(fault.clock[:6])
    assert "No data was lost" in comms.impact
    text = postmortem.comms_markdown(comms)
    assert "Expected resolution time: " + comms.eta in text
    assert "Total Downtime: 1.1" in text


def test_data_loss_is_never_claimed_away(in_repo: Path, options: ReportOptions) -> None:
    d = drill(RUN_MONTHLY, "FAIL", options)
    comms = postmortem.build_comms(d, options)
    assert "No data was lost" not in comms.impact
    assert any("could not be recovered" in i for i in comms.impact)
    assert postmortem.build_postmortem(d, options, today=NOW).data_loss.startswith("EXCEEDED RPO")


def test_a_severity_3_incident_is_drafted_at_its_level(
    in_repo: Path, options: ReportOptions, golden: Golden
) -> None:
    jobs = next(d for d in drills_of(RUN_C, options) if d.identity.scenario == "background-jobs")
    comms = postmortem.build_comms(jobs, options)
    assert (comms.level, comms.severity) == ("P3", "P3 (Medium)")
    text = postmortem.comms_markdown(comms)
    assert "Subject: [P3 INCIDENT] background-jobs - 2026-12-02" in text and "P1" not in text
    assert "BRIDGE: [to be completed] (the conference bridge; [report.comms] bridge)" in text
    assert "SLACK: #incident-20261202" in text
    assert "ESCALATION: not measured: this drill paged no one" in text
    assert "## Internal: updates (every 15-30 minutes)" in text and "UPDATE 08:35:" in text
    assert "It ended before the first 15-minute update was due." in text
    assert "A drill on a simulation: rehearse them, send none to customers." in text
    golden("comms-severity3.md", text)


def test_a_restore_test_is_not_drafted_as_an_outage(
    in_repo: Path, options: ReportOptions, golden: Golden
) -> None:
    backup = drills_of(RUN_C, options)[0]
    comms = postmortem.build_comms(backup, options)
    text = postmortem.comms_markdown(comms)
    assert "Subject: [P3 DR TEST] backup-verification / monthly restore test" in text
    assert "could not be recovered" not in text and "No data was lost" not in text
    assert text.count("Not to be sent: a planned test (restore time measured)") == 2  # status page, email
    assert "DATA LOSS: None in production (a planned test); the restored copy lacks 21 of 41" in text
    golden("comms-restore-test.md", text)
    pm = postmortem.build_postmortem(backup, options, today=NOW)
    assert pm.attendees == backup.identity.participants  # the journal's people
    assert "planned test" in pm.summary and "Service was restored" not in pm.summary


def test_a_severity_1_incident_is_p1(in_repo: Path, options: ReportOptions) -> None:
    corruption = drills_of(RUN_C, options)[1]
    assert "Subject: [P1 INCIDENT]" in postmortem.comms_markdown(postmortem.build_comms(corruption, options))


def test_periodic_updates_follow_a_long_incident(in_repo: Path, options: ReportOptions) -> None:
    (old,) = drills_of("2025-10-06-quarterly", options)  # 1h 30m from fault to recovery
    updates = postmortem.build_comms(old, options).updates
    periodic = [u for u in updates if u.label == "Periodic update"]
    assert [u.at for u in periodic[:2]] == ["09:17:10.000 UTC", "09:32:10.000 UTC"]
    assert len(periodic) == 6 and periodic[1].detail == "- Still in progress: DR activation"
