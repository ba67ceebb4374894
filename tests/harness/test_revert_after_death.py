"""Faults outlive a killed runner only until ``drillbook revert`` (or are reverted on SIGTERM)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from drillbook.harness import journal
from tests.servers import HttpServer

DRILL = """
import time, pytest
from drillbook.faults.process_pause import ProcessPause
from drillbook.harness.probes import http_probe

@pytest.mark.drill(scenario="frozen web server", tier="monthly", rto="1h")
def test_freeze(drill):
    drill.steady_state(http_probe("{url}", timeout=0.5))
    drill.inject(ProcessPause({pid}))
    with open("{flag}", "w") as flag:
        flag.write("injected")
    for _ in range(1200):  # polls, as runbook steps do
        time.sleep(0.1)
"""


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_drill(tmp_path: Path, server: HttpServer) -> tuple[subprocess.Popen[bytes], Path]:
    flag = tmp_path / "injected.flag"
    (tmp_path / "test_freeze.py").write_text(DRILL.format(url=server.url, pid=server.pid, flag=flag))
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_freeze.py"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        # Ctrl-C reaches a drill run from a terminal. A test suite started in the
        # background (`cmd &` in a script) inherits SIGINT *ignored*, and so would this
        # drill: SIGINT would do nothing and the Ctrl-C test would wait for ever.
        preexec_fn=_default_sigint,
    )
    deadline = time.monotonic() + 60
    while not flag.exists():
        assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
        assert time.monotonic() < deadline, "the drill never injected"
        time.sleep(0.05)
    return proc, flag


def drillbook(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "drillbook", *args], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )


def test_revert_after_sigkill(http_server: HttpServer, tmp_path: Path) -> None:
    proc, _ = start_drill(tmp_path, http_server)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert not http_server.up(0.3), "the fault outlives the killed runner"

    # The next run warns about what was left behind.
    (tmp_path / "test_next.py").write_text("def test_nothing():\n    pass\n")
    nxt = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_next.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "fault(s) left behind by a dead runner (process_pause)" in nxt.stdout
    assert "drillbook revert" in nxt.stdout

    done = drillbook(tmp_path, "revert")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "reverted" in done.stdout and "process_pause" in done.stdout
    assert http_server.up(2.0), "drillbook revert thawed the real process"
    assert drillbook(tmp_path, "revert").stdout.strip() == "drillbook revert: nothing to revert"


def test_sigterm_reverts_and_journals_a_fail(http_server: HttpServer, tmp_path: Path) -> None:
    proc, _ = start_drill(tmp_path, http_server)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert http_server.up(2.0), out.decode()
    (record,) = journal.load(tmp_path / "drill-results")
    assert record.status.value == "FAIL"
    assert any("interrupted" in r for r in record.reasons)
    assert record.faults[0].reverted_at is not None
    assert not list((tmp_path / ".drillbook" / "undo").glob("*.jsonl"))


def test_sigint_reverts(http_server: HttpServer, tmp_path: Path) -> None:
    proc, _ = start_drill(tmp_path, http_server)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=120)  # the after-revert check alone may take 60 s
    assert http_server.up(2.0), out.decode()
    assert "KeyboardInterrupt" in out.decode()


def test_unregistered_faults_are_listed_for_a_manual_revert(tmp_path: Path) -> None:
    undo = tmp_path / ".drillbook" / "undo"
    undo.mkdir(parents=True)
    lines = [
        {"op": "run", "run_id": "r1", "pid": 999999999, "pid_ticks": None, "at": "x"},
        {"op": "inject", "seq": 1, "name": "homegrown", "params": {"x": 1}, "registered": False, "at": "x"},
    ]
    (undo / "r1.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    done = drillbook(tmp_path, "revert", "--run-id", "r1")
    assert done.returncode == 1
    assert "manual" in done.stdout and "homegrown" in done.stdout and "revert it by hand" in done.stdout
    missing = drillbook(tmp_path, "revert", "--run-id", "nope")
    assert missing.returncode == 2 and "no undo log for run 'nope'" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert (undo / "r1.jsonl").exists()


def test_signals_land_in_the_main_thread() -> None:
    # A signal the kernel hands to a background thread does not wake a main thread
    # blocked in a long call: the harness's threads block SIGINT and SIGTERM.
    from drillbook.harness.probes import Probe
    from drillbook.harness.steady import Monitor

    masks: list[set[int]] = []

    def probe() -> bool:
        masks.append(set(signal.pthread_sigmask(signal.SIG_BLOCK, [])))
        return True

    monitor = Monitor([Probe("mask", probe)], interval=0.01, consecutive=1)
    monitor.start()
    try:
        deadline = time.monotonic() + 5
        while not masks and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        monitor.stop()
    assert masks and {signal.SIGINT, signal.SIGTERM} <= masks[0]
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])  # main thread untouched
