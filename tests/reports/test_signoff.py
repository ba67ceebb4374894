"""Sign-off as evidence: ``drillbook signoff`` appends to the journal's chain, the report shows who
signed as which role and when, says "not signed" plainly, and says when the journal changed after."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from drillbook.harness import journal
from drillbook.harness.cli import main
from drillbook.harness.records import SIGNOFF_KIND, DrillResult
from drillbook.reports import journals, model, render
from drillbook.reports.model import RunReport
from drillbook.reports.options import ReportOptions
from tests.reports.conftest import NOW, REPO, RUN_ANNUAL, RUN_C, SUITE


def build(directory: Path, run_id: str, options: ReportOptions | None = None) -> RunReport:
    records = journals.run_records(directory, run_id)
    return model.build_run(records, options or ReportOptions(), generated_at=NOW, generator="test")


def test_a_signed_run_shows_who_signed_as_which_role_and_when(in_repo: Path) -> None:
    report = build(SUITE, RUN_C)
    signed = report.sign_off
    assert signed.status == "SIGNED" and signed.signed and not signed.changed
    rows = {r.role: r for r in signed.rows}
    assert (rows["DR Manager"].name, rows["IT Director"].name) == ("Lee Chen", "Ana Ruiz")
    assert rows["DR Manager"].note == "restore times reviewed"
    assert all(r.valid and r.signed_at.startswith("2026-12-02T") for r in rows.values())
    raw = [json.loads(p.read_text()) for p in journal.record_files(SUITE)]
    signoffs = [r for r in raw if r.get("kind") == SIGNOFF_KIND]
    assert {s["report_hash"] for s in signoffs} == {signed.report_hash}
    assert signoffs[0]["records"] == [d.identity.record_id for d in report.drills]
    md, html = render.run_markdown(report), render.run_html(report)
    assert "Sign-off: **SIGNED**" in md and "DR Manager: Lee Chen Date: 2026-12-02T08:36" in md
    assert 'class="signoff-state signed"' in html and "Ana Ruiz" in html


def test_an_unsigned_run_says_so_plainly(in_repo: Path) -> None:
    report = build(SUITE, RUN_ANNUAL)
    assert report.sign_off.status == "NOT SIGNED" and not report.sign_off.signed
    assert [(r.role, r.state) for r in report.sign_off.rows] == [
        ("DR Manager", "not signed"),
        ("IT Director", "not signed"),
    ]
    md = render.run_markdown(report)
    assert "Sign-off: **NOT SIGNED**" in md
    assert f"drillbook signoff {RUN_ANNUAL} --as ROLE --name NAME --hash {report.sign_off.report_hash}" in md


def test_signoff_command_appends_to_the_chain(suite_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = build(suite_copy, RUN_ANNUAL)
    argv = ["signoff", RUN_ANNUAL, "--results", str(suite_copy), "--as", "dr manager", "--name", "Kim Lee"]
    assert main([*argv, "--hash", before.sign_off.report_hash, "--note", "read in full"]) == 0
    assert "signed by Kim Lee as DR Manager" in capsys.readouterr().out
    partly = build(suite_copy, RUN_ANNUAL)
    assert partly.sign_off.status == "PARTLY SIGNED (IT Director not signed)"
    assert (
        main(["signoff", RUN_ANNUAL, "--results", str(suite_copy), "--as", "IT Director", "--name", "Bo"])
        == 0
    )
    assert build(suite_copy, RUN_ANNUAL).sign_off.status == "SIGNED"
    assert journal.verify_chain(suite_copy).ok  # the sign-offs are links of the chain
    last = json.loads(journal.record_files(suite_copy)[-1].read_text())
    assert (last["kind"], last["role"], last["name"]) == (SIGNOFF_KIND, "IT Director", "Bo")
    # drill readers skip sign-offs: the journal still holds the same drill records
    assert [r.record_id for r in journal.load(suite_copy)] == [
        r.record_id for r in journal.load(REPO / SUITE)
    ]
    verified = subprocess.run(
        [sys.executable, "-m", "drillbook", "verify", str(suite_copy)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--as", "Janitor", "--name", "X"],
            "not a sign-off role of this report: use one of DR Manager, IT Director",
        ),
        (["--as", "DR Manager", "--name", "  "], "--name: give a name"),
        (["--as", "DR Manager", "--name", "X", "--hash", "ab" * 32], "the journal now gives report hash"),
        (["--as", "DR Manager", "--name", "X", "--note", "a\nb"], "--note is one line"),
    ],
)
def test_bad_signoffs_are_refused_with_the_fix(
    suite_copy: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    count = len(journal.record_files(suite_copy))
    assert main(["signoff", RUN_ANNUAL, "--results", str(suite_copy), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert len(journal.record_files(suite_copy)) == count


def test_a_broken_journal_cannot_be_signed(suite_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    victim = journal.record_files(suite_copy)[3]
    victim.write_text(victim.read_text().replace('"FAIL"', '"PASS"'))
    assert (
        main(["signoff", RUN_ANNUAL, "--results", str(suite_copy), "--as", "DR Manager", "--name", "X"]) == 2
    )
    assert f"hash chain is broken at {victim.name}" in capsys.readouterr().err


def test_a_record_added_to_the_run_after_signing_is_reported(suite_copy: Path) -> None:
    # a legitimate, chained record of the signed run, written after both signatures
    late = journal.load(suite_copy)[-1]
    copy = DrillResult.from_dict(late.to_dict())
    copy.record_id = f"{RUN_C}-004"
    journal.append(suite_copy, copy)
    report = build(suite_copy, RUN_C)
    assert report.chain_ok  # nothing was tampered with: the run grew
    assert report.sign_off.status == "CHANGED AFTER SIGNING" and not report.sign_off.signed
    assert all(
        r.state.startswith("CHANGED AFTER SIGNING: it signs report hash") for r in report.sign_off.rows
    )
    assert "CHANGED AFTER SIGNING" in render.run_html(report)


def test_a_signed_record_edited_in_place_is_reported(suite_copy: Path) -> None:
    victim = next(p for p in journal.record_files(suite_copy) if p.name.endswith(f"{RUN_C}-002.json"))
    data = json.loads(victim.read_text())
    data["measured"]["lost_writes"] = 0  # hide the loss, and re-hash the record to pass its own check
    data["hash"] = journal.record_hash(data)
    victim.write_text(journal.file_text(data))
    report = build(suite_copy, RUN_C)
    # the record verifies on its own: the chain breaks at the next record, whose link no longer matches
    assert report.chain_ok is False and f"{RUN_C}-003.json" in report.chain
    assert report.sign_off.changed and report.sign_off.status == "CHANGED AFTER SIGNING"
    assert all(r.valid is False for r in report.sign_off.rows)
