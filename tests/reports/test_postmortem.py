"""Post-mortem and communication drafts from a drill's timeline and figures."""

from __future__ import annotations

from pathlib import Path

from drillbook.reports import journals, model, postmortem
from drillbook.reports.model import DrillReport
from drillbook.reports.options import ReportOptions
from tests.reports.conftest import NOW, RUN_ANNUAL, RUN_MONTHLY, SUITE, Golden


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
