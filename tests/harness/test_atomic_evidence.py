"""Evidence is written whole or not at all, shown on a real full disk: a 1 MB tmpfs mounted in a
private mount namespace (``unshare``), filled to within a few pages, then written to by the journal,
the report writer and the undo log. A write that does not fit fails naming the file and leaves
nothing half-written; once there is room again the journal's chain goes on and verifies."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from drillbook.reports import journals

SCRIPT = textwrap.dedent(
    """
    import json, os, subprocess, sys
    from datetime import UTC, datetime
    from pathlib import Path

    from drillbook.harness import journal, undolog
    from drillbook.harness.atomic import WriteFailed
    from drillbook.harness.records import DrillInfo, DrillResult, EnvironmentInfo
    from drillbook.reports import journals, model, render
    from drillbook.reports.options import ReportOptions

    disk = Path(sys.argv[1])
    suite = Path(sys.argv[2])
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], check=True)
    filler = disk / "filler"
    findings = {}

    def fill(leave: int) -> None:
        # Fill the disk, then give back ``leave`` bytes: room for small writes only.
        with open(filler, "wb", buffering=0) as out:
            try:
                while True:
                    out.write(b"x" * 4096)
            except OSError:
                pass
        size = filler.stat().st_size
        os.truncate(filler, max(0, size - leave))

    def record(n: int, padding: int) -> DrillResult:
        return DrillResult(run_id="r", record_id=f"r-{n:03d}", drill=DrillInfo("t::x", "s"),
                           environment=EnvironmentInfo("local"), extra={"padding": "p" * padding})

    results = disk / "results"
    for n in range(1, 3):
        journal.append(results, record(n, 1000))
    fill(leave=8192)
    try:
        journal.append(results, record(3, 200_000))
        findings["journal_error"] = None
    except WriteFailed as exc:
        findings["journal_error"] = str(exc)
    findings["journal_files"] = sorted(p.name for p in results.iterdir())
    findings["chain_after_failure"] = journal.verify_chain(results).ok
    filler.unlink()
    journal.append(results, record(3, 1000))
    findings["chain_after_room"] = [journal.verify_chain(results).ok, journal.verify_chain(results).records]

    report = model.build_run(journals.run_records(suite), ReportOptions(), generated_at=datetime.now(UTC),
                             generator="test")
    out = disk / "reports"
    render.write_run(report, out, ["json"])
    before = sorted(p.read_bytes() for p in out.rglob("report.json"))
    fill(leave=4096)
    try:
        render.write_run(report, out, ["html", "json"])
        findings["report_error"] = None
    except WriteFailed as exc:
        findings["report_error"] = str(exc)
    findings["report_files"] = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    findings["report_json_unchanged"] = sorted(p.read_bytes() for p in out.rglob("report.json")) == before
    filler.unlink()

    state = disk / "state"
    log = undolog.UndoLog(state, "run-1")
    log.before_inject("noop", {"label": "small"}, True, "t")
    size = log.path.stat().st_size
    fill(leave=4096)
    try:
        log.before_inject("noop", {"label": "big", "padding": "p" * 100_000}, True, "t")
        findings["undo_error"] = None
    except WriteFailed as exc:
        findings["undo_error"] = str(exc)
    findings["undo_size_unchanged"] = log.path.stat().st_size == size
    findings["undo_lines_parse"] = all(json.loads(line) for line in log.path.read_text().splitlines())
    findings["undo_entries"] = [e.params.get("label") for e in undolog.read(log.path).entries]
    filler.unlink()
    log.mark(1, "reverted")
    findings["undo_after_room"] = [e.state for e in undolog.read(log.path).entries]
    findings["leftovers"] = sorted(str(p.relative_to(disk)) for p in disk.rglob(".*.tmp"))
    print(json.dumps(findings))
    """
)


def can_mount() -> list[str] | None:
    """``unshare`` arguments for a private mount namespace where this user may mount a tmpfs."""
    if shutil.which("unshare") is None:
        return None
    prefix = ["unshare", "--mount"] if os.geteuid() == 0 else ["unshare", "--mount", "--map-root-user"]
    probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=30)
    return prefix if probe.returncode == 0 else None


def test_a_full_disk_leaves_whole_files_or_none(tmp_path: Path) -> None:
    prefix = can_mount()
    if prefix is None:
        pytest.skip("no private mount namespace here (unshare --mount); the disk cannot be filled safely")
    disk = tmp_path / "disk"
    disk.mkdir()
    suite = Path(__file__).parents[1] / "fixtures" / "journals" / "suite"
    done = subprocess.run(
        [*prefix, sys.executable, "-c", SCRIPT, str(disk), str(suite)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])

    assert found["journal_error"] and "No space left on device" in found["journal_error"]
    assert "000003-r-003.json: not written" in found["journal_error"]
    assert found["journal_files"] == [".journal.lock", "000001-r-001.json", "000002-r-002.json"]
    assert found["chain_after_failure"] is True
    assert found["chain_after_room"] == [True, 3]

    assert found["report_error"] and "report.html: not written" in found["report_error"]
    run = journals.run_records(suite).run_id  # the newest run of the stored journal
    assert found["report_files"] == [run, f"{run}/report.json"]
    assert found["report_json_unchanged"] is True

    assert found["undo_error"] and "entry not written" in found["undo_error"]
    assert found["undo_size_unchanged"] and found["undo_lines_parse"]
    assert found["undo_entries"] == ["small"]  # the refused fault was never recorded, so never injected
    assert found["undo_after_room"] == ["reverted"]
    assert found["leftovers"] == []
