"""The commands end to end: exit codes, files written, errors without tracebacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from drillbook.harness.cli import main
from tests.reports.conftest import REPO, RUN_ANNUAL, RUN_C, RUN_MONTHLY, SUITE

RESULTS = str(REPO / SUITE)


def test_report_writes_every_format_with_relative_links(
    suite_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "reports"
    argv = ["report", "--results", str(suite_copy), "-o", str(out_dir), "--led-by", "Ana"]
    assert main([*argv, "--participant", "Bo (DBA)", "--run", RUN_ANNUAL]) == 0
    out = capsys.readouterr().out
    files = sorted(p.name for p in (out_dir / RUN_ANNUAL).iterdir())
    drafts = [f"{kind}-{RUN_ANNUAL}-{n:03d}.md" for kind in ("comms", "postmortem") for n in range(1, 6)]
    assert files == sorted([*drafts, "report.html", "report.json", "report.md"])
    assert "PARTIAL database-corruption / snapshot-restore: RTO 1.1" in out
    assert "sign-off: NOT SIGNED" in out and "environment: simulation on the embedded local twin" in out
    md = (out_dir / RUN_ANNUAL / "report.md").read_text()
    # the journal does not name these people: the report takes them from its options, and says so
    assert "| Led by | Ana (the report's options (the journal does not record them)) |" in md
    assert "- Bo (Role: DBA)" in md
    # evidence links are relative to the report file, never this machine's absolute paths
    assert str(tmp_path) not in md and str(tmp_path) not in (out_dir / RUN_ANNUAL / "report.html").read_text()
    assert f"](../../journal/000005-{RUN_ANNUAL}-001.json)" in md
    assert f"](postmortem-{RUN_ANNUAL}-001.md)" in md
    for link in ("../../journal/000005-" + RUN_ANNUAL + "-001.json", f"comms-{RUN_ANNUAL}-001.md"):
        assert (out_dir / RUN_ANNUAL / link).is_file()


def test_report_of_a_named_run_in_one_format(tmp_path: Path) -> None:
    assert (
        main(["report", "--results", RESULTS, "--run", RUN_MONTHLY, "--format", "md", "-o", str(tmp_path)])
        == 0
    )
    names = sorted(p.name for p in (tmp_path / RUN_MONTHLY).iterdir())
    assert names[-1] == "report.md" and all(n.startswith(("comms-", "postmortem-")) for n in names[:-1])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["report", "--run", "nope"], "no run 'nope'"),
        (["report", "--format", "pdf"], "--format 'pdf'"),
        (["history", "--as-of", "yesterday"], "--as-of 'yesterday'"),
        (["postmortem", RUN_MONTHLY, "--record", "nope"], "no record 'nope'"),
    ],
)
def test_bad_input_is_a_clear_error(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--results", RESULTS, "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_missing_results_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "--results", str(tmp_path / "none")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_history_formats_and_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "history",
        "--results",
        RESULTS,
        "--format",
        "table,html,csv",
        "-o",
        str(tmp_path),
        "--as-of",
        "2026-11-28",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "OVERDUE data-center-failure (monthly): NEVER PASSED (2 runs)" in out
    assert (tmp_path / "history.html").is_file() and (tmp_path / "history.csv").is_file()
    assert main([*argv, "--check"]) == 1


def test_history_threshold_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "history",
                "--results",
                RESULTS,
                "--regression-threshold",
                "0.01",
                "--regression-window",
                "1",
                "--as-of",
                "2026-11-28",
            ]
        )
        == 0
    )
    assert "REGRESSION WARNING application-crash" not in capsys.readouterr().out  # too few runs (min 4)
    assert main(["history", "--results", RESULTS, "--regression-threshold", "-1"]) == 2


def test_postmortem_by_record_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = f"{RUN_MONTHLY}-003"
    assert main(["postmortem", record, "--results", RESULTS, "-o", str(tmp_path)]) == 0
    names = sorted(p.name for p in (tmp_path / RUN_MONTHLY).iterdir())
    assert names == [f"comms-{record}.md", f"postmortem-{record}.md"]
    assert "# Post-Mortem: DR drill data-center-failure" in (tmp_path / RUN_MONTHLY / names[1]).read_text()


def test_postmortem_of_every_drill_of_the_latest_run(tmp_path: Path) -> None:
    assert main(["postmortem", "latest", "--results", RESULTS, "-o", str(tmp_path)]) == 0
    assert len(list((tmp_path / RUN_C).iterdir())) == 6


def test_report_options_from_the_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "drillbook.toml"
    config.write_text(
        f'results_dir = "{RESULTS}"\n[report]\nled_by = "Lee"\n'
        'participants = ["Kim (Security Lead)", {name = "Max", role = "DBA"}]\n'
        'sign_off = ["CISO"]\n[report.owners]\ndefault = "platform team"\n'
    )
    argv = ["report", "--config", str(config), "--format", "md", "-o", str(tmp_path / "out")]
    assert main([*argv, "--run", RUN_ANNUAL]) == 0
    md = (tmp_path / "out" / RUN_ANNUAL / "report.md").read_text()
    assert "| Led by | Lee |" in md and "- Kim (Role: Security Lead)" in md and "- Max (Role: DBA)" in md
    assert "CISO: ______" in md and "Owner: platform team" in md
    config.write_text('[report]\nparticipants = "not a list"\n')
    assert main(["report", "--config", str(config), "--results", RESULTS, "-o", str(tmp_path)]) == 2
    assert "participants must be a list" in capsys.readouterr().err
