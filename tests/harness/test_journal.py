from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drillbook.harness import journal
from drillbook.harness.records import DrillInfo, DrillResult, EnvironmentInfo, Measured, Status


def _record(i: int) -> DrillResult:
    return DrillResult(
        run_id="run-1",
        record_id=f"run-1-{i:03d}",
        drill=DrillInfo("t::x", "scenario ü"),
        environment=EnvironmentInfo("local", {"python": "3.11"}),
        measured=Measured(rto_s=1.5 + i),
        status=Status.PASS,
    )


@pytest.fixture
def chain(tmp_path: Path) -> Path:
    for i in range(1, 4):
        journal.append(tmp_path, _record(i))
    return tmp_path


def verify(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "drillbook", "verify", str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_intact_chain_verifies(chain: Path) -> None:
    done = verify(chain)
    assert done.returncode == 0 and "3 record(s)" in done.stdout and "chain OK" in done.stdout
    loaded = journal.load(chain)
    assert [r.record_id for r in loaded] == ["run-1-001", "run-1-002", "run-1-003"]
    assert loaded[1].prev_hash == loaded[0].hash


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_changing_any_one_byte_is_detected_and_named(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    directory = tmp_path_factory.mktemp("chain")
    for i in range(1, 4):
        journal.append(directory, _record(i))
    files = journal.record_files(directory)
    index = data.draw(st.integers(0, 2))
    raw = bytearray(files[index].read_bytes())
    pos = data.draw(st.integers(0, len(raw) - 1))
    new = data.draw(st.integers(0, 255).filter(lambda b: b != raw[pos]))
    raw[pos] = new
    files[index].write_bytes(bytes(raw))
    report = journal.verify_chain(directory)
    assert not report.ok
    assert report.broken_at == files[index]


def test_the_cli_names_the_broken_record(chain: Path) -> None:
    second = journal.record_files(chain)[1]
    second.write_text(second.read_text().replace('"rto_s":3.5', '"rto_s":2.5'))
    done = verify(chain)
    assert done.returncode == 1
    assert f"BROKEN at record 2: {second}" in done.stdout and "content does not match its hash" in done.stdout


def test_a_removed_record_breaks_the_link(chain: Path) -> None:
    journal.record_files(chain)[1].unlink()
    report = journal.verify_chain(chain)
    assert not report.ok and "prev_hash" in report.problem


def test_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    done = verify(tmp_path / "nope")
    assert done.returncode == 2 and "does not exist" in done.stderr and "Traceback" not in done.stderr


def test_the_parallel_check_names_the_same_record(chain: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Large journals are checked by a pool of processes: same verdicts."""
    monkeypatch.setattr(journal, "PARALLEL_FROM", 2)
    assert journal.verify_chain(chain).ok
    third = journal.record_files(chain)[2]
    third.write_bytes(third.read_bytes().replace(b"scenario", b"Scenario", 1))
    report = journal.verify_chain(chain)
    assert not report.ok and report.broken_at == third and report.records == 2
