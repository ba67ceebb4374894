"""One drill run per environment: the local lease, through `drillbook run` and pytest as users start them.

The drill pauses a real process (SIGSTOP) and holds it for a while: a second run that went
ahead, or a takeover that did not revert first, would find it paused.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from drillbook.harness import procs

DRILL = """
import os, time, pytest
from drillbook.faults.process_pause import ProcessPause
from drillbook.harness import procs
from drillbook.harness.probes import Probe

VICTIM = int(os.environ["VICTIM_PID"])


@pytest.mark.drill(scenario="held environment", tier="monthly", rto="1h")
def test_hold(drill):
    drill.steady_state(Probe("victim runs", lambda: procs.state(VICTIM) not in (None, "T", "t")))
    fault = drill.inject(ProcessPause(VICTIM))
    flag = os.environ.get("FLAG")
    if flag:
        with open(flag, "w") as out:
            out.write("injected")
    deadline = time.monotonic() + float(os.environ.get("HOLD_S", "0"))
    while time.monotonic() < deadline:
        time.sleep(0.05)
    drill.heal(fault)
"""


@pytest.fixture
def victim() -> Iterator[int]:
    proc = subprocess.Popen(["sleep", "600"])
    try:
        yield proc.pid
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        proc.kill()
        proc.wait()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "drills").mkdir()
    (tmp_path / "drills" / "test_hold.py").write_text(DRILL)
    return tmp_path


def start(
    project: Path,
    victim: int,
    *args: str,
    hold: float = 0.0,
    flag: Path | None = None,
    command: tuple[str, ...] = ("drillbook", "run"),
) -> subprocess.Popen[str]:
    environ = {**os.environ, "VICTIM_PID": str(victim), "HOLD_S": str(hold)}
    if flag is not None:
        environ["FLAG"] = str(flag)
    argv = [sys.executable, "-m", *command, *args] if command[0] == "drillbook" else [*command, *args]
    return subprocess.Popen(
        argv,
        cwd=project,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait_for(flag: Path, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not flag.exists():
        assert proc.poll() is None, proc.communicate()[0]
        assert time.monotonic() < deadline, "the drill never injected"
        time.sleep(0.05)


def paused(pid: int) -> bool:
    return procs.state(pid) in ("T", "t")


def status(project: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "drillbook", "env", "status", "--json"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
    )
    (row,) = [r for r in json.loads(done.stdout)["components"] if r["kind"] == "lease"]
    return dict(row)


def test_a_second_run_is_refused_at_once_naming_the_holder(project: Path, victim: int) -> None:
    flag = project / "injected.flag"
    first = start(project, victim, hold=8.0, flag=flag)
    wait_for(flag, first)
    began = time.monotonic()
    second = start(project, victim)
    out, _ = second.communicate(timeout=60)
    refused_after = time.monotonic() - began
    assert second.returncode == 3, out
    assert "Traceback" not in out
    holder = json.loads((project / ".drillbook" / "leases" / "local.json").read_text())
    assert (
        f"leased to run {holder['run_id']} (host {holder['host']}, pid {first.pid}, since {holder['since']}, "
        "command `drillbook run`)" in out
    )
    assert "--wait-for-lease" in out
    # Not a wait for the first run (which holds the lease 8 s more): the interpreter's start-up
    # and imports are most of this; the lease itself is one non-blocking lock.
    assert refused_after < 6.0, refused_after
    assert first.poll() is None, "the second run ended the first"
    assert paused(victim), "the second run touched the first run's fault"
    held = status(project)
    assert held["health"] == "held" and held["pid"] == first.pid
    out, _ = first.communicate(timeout=120)
    assert first.returncode == 0, out
    assert status(project)["health"] == "free"
    print(f"second run refused {refused_after:.2f}s after it started")


def test_two_runs_started_together_one_goes_ahead(project: Path, victim: int) -> None:
    first, second = (start(project, victim, hold=4.0) for _ in range(2))
    outs = {proc.pid: proc.communicate(timeout=180)[0] for proc in (first, second)}
    codes = sorted(proc.returncode for proc in (first, second))
    assert codes == [0, 3], outs
    refused = next(p for p in (first, second) if p.returncode == 3)
    winner = next(p for p in (first, second) if p.returncode == 0)
    assert f"pid {winner.pid}," in outs[refused.pid] and "Traceback" not in outs[refused.pid]
    assert "1 passed" in outs[winner.pid]


def test_pytest_itself_is_refused_too(project: Path, victim: int) -> None:
    flag = project / "injected.flag"
    first = start(project, victim, hold=8.0, flag=flag)
    wait_for(flag, first)
    plain = start(
        project, victim, "-p", "no:cacheprovider", "drills", command=(sys.executable, "-m", "pytest")
    )
    out, _ = plain.communicate(timeout=120)
    assert plain.returncode == 3, out
    assert "is leased to run" in out and "Traceback" not in out
    assert first.communicate(timeout=120)[0] and first.returncode == 0


def test_wait_for_lease_runs_once_the_holder_is_done(project: Path, victim: int) -> None:
    flag = project / "injected.flag"
    first = start(project, victim, hold=3.0, flag=flag)
    wait_for(flag, first)
    second = start(project, victim, "--wait-for-lease", "2m")
    out, _ = second.communicate(timeout=180)
    assert second.returncode == 0, out
    assert "waiting up to 120s for the lease of 'local'" in out
    assert first.wait(60) == 0
    refused = start(project, victim, "--wait-for-lease", "1s", hold=0)
    assert refused.communicate(timeout=120)[0] and refused.returncode == 0  # free again: runs at once


def test_a_dead_holders_lease_is_taken_over_after_its_faults_are_reverted(project: Path, victim: int) -> None:
    flag = project / "injected.flag"
    first = start(project, victim, hold=600.0, flag=flag)
    wait_for(flag, first)
    os.killpg(first.pid, signal.SIGKILL)  # the runner and its pytest, as CI does when a job times out
    first.wait(30)
    assert paused(victim), "the fault outlives the killed runner"
    stale = status(project)
    assert stale["health"] == "free" and "ended without releasing it" in str(stale["detail"])
    assert "1 of its faults not reverted yet" in str(stale["detail"])

    second = start(project, victim)
    out, _ = second.communicate(timeout=180)
    assert second.returncode == 0, out
    assert "is gone without releasing it: reverting what it left behind before taking the lease over" in out
    assert not paused(victim)
    assert "1 passed" in out
    undo = project / ".drillbook" / "undo"
    assert not list(undo.glob("*.jsonl")), [p.read_text() for p in undo.glob("*.jsonl")]
    assert status(project)["health"] == "free"


def test_a_takeover_that_cannot_revert_leaves_the_dead_holder_recorded(project: Path, victim: int) -> None:
    leases = project / ".drillbook" / "leases"
    undo = project / ".drillbook" / "undo"
    leases.mkdir(parents=True)
    undo.mkdir(parents=True)
    dead = {
        "run_id": "r-dead",
        "host": os.uname().nodename,
        "pid": 999_999_999,
        "pid_ticks": None,
        "since": "2026-01-01T00:00:00Z",
        "command": "drillbook run",
    }
    (leases / "local.json").write_text(json.dumps(dead))
    lines = [
        {"op": "run", "run_id": "r-dead", "pid": 999_999_999, "pid_ticks": None, "at": "x"},
        {"op": "inject", "seq": 1, "name": "homegrown", "params": {}, "registered": False, "at": "x"},
    ]
    (undo / "r-dead.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    refused = start(project, victim)
    out, _ = refused.communicate(timeout=120)
    assert refused.returncode == 2, out
    assert "taken over only after its faults are reverted" in out and "homegrown" in out
    assert "Traceback" not in out
    assert json.loads((leases / "local.json").read_text())["run_id"] == "r-dead"
    assert not paused(victim)
