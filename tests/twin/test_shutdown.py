"""`env down` returns only when the environment's processes are gone, not while they still exit."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from drillbook.harness import procs
from drillbook.twin import processes
from drillbook.twin.layout import Layout
from drillbook.twin.shutdown import stop_environment
from drillbook.twin.state import LABEL_VARIABLE, ClusterRecord, EnvRecord, StateFile

# A recorded process that exits at once on SIGTERM, with a child that takes its time (a server
# flushing to disk). The child's environment has no label, as PostgreSQL's and Redis's children
# show none: they overwrite it with their process titles.
SCRIPT = """
import os, signal, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", '''
import signal, sys, time
def slow_exit(signum, frame):
    time.sleep(1.5)
    sys.exit(0)
signal.signal(signal.SIGTERM, slow_exit)
open(sys.argv[1], "w").write("ready")
while True:
    time.sleep(0.1)
''', sys.argv[2]], env={k: v for k, v in os.environ.items() if k != "DRILLBOOK_ENV_LABEL"})
open(sys.argv[1], "w").write(str(child.pid))
while True:
    time.sleep(0.1)
"""


def test_down_returns_after_the_last_child_has_exited(tmp_path: Path) -> None:
    child_pid_file, child_ready = tmp_path / "child.pid", tmp_path / "child.ready"
    state, layout = StateFile(tmp_path), Layout(tmp_path)
    proc = processes.spawn(
        "lingering",
        [sys.executable, "-c", SCRIPT, str(child_pid_file), str(child_ready)],
        label="test-label",
        log=tmp_path / "lingering.log",
    )
    state.write(EnvRecord(label="test-label", processes={"lingering": proc}))
    deadline = time.monotonic() + 30
    while not (child_ready.exists() and child_pid_file.exists()):
        assert time.monotonic() < deadline, (tmp_path / "lingering.log").read_text()
        time.sleep(0.05)
    child = int(child_pid_file.read_text())
    assert LABEL_VARIABLE.encode() not in Path(f"/proc/{child}/environ").read_bytes()

    began = time.monotonic()
    report = stop_environment(state, layout, timeout=10.0)
    took = time.monotonic() - began
    assert report.clean, report
    assert not procs.alive(child), "down returned while the child was still exiting"
    assert took >= 1.0, took  # it waited for the child's slow exit
    assert not procs.alive(proc.pid)


def test_a_stale_pid_file_never_makes_down_signal_an_unrelated_process(tmp_path: Path) -> None:
    datadir = tmp_path / "pg" / "data"
    datadir.mkdir(parents=True)
    # A crash left the pid file, and its pid now belongs to another program (this test).
    (datadir / "postmaster.pid").write_text(f"{os.getpid()}\n{datadir}\n")
    state, layout = StateFile(tmp_path), Layout(tmp_path)
    cluster = ClusterRecord("primary", str(datadir), 1, "primary")
    state.write(EnvRecord(label="stale", clusters={"primary": cluster}))
    report = stop_environment(state, layout, timeout=2.0, keep_data=True)
    assert os.getpid() not in report.reaped and procs.alive(os.getpid())


# What a runner SIGKILLed half-way leaves behind: its tool, unlabelled and unrecorded, still
# writing into the environment's data (a ``cp -a`` of a template, a ``pg_basebackup``).
WRITER = """
import os, sys, time
target = sys.argv[1]
open(sys.argv[2], "w").write("ready")
while True:
    os.makedirs(os.path.join(target, "base", "1"), exist_ok=True)
    with open(os.path.join(target, "base", "1", str(time.monotonic_ns())), "w") as out:
        out.write("x" * 100)
    time.sleep(0.001)
"""


def test_down_stops_an_orphaned_tool_writing_into_the_data_and_deletes_it(tmp_path: Path) -> None:
    target, ready = tmp_path / "pg" / "dr-replica" / "data", tmp_path / "writer.ready"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(target), str(ready)],
                              env={k: v for k, v in os.environ.items() if k != LABEL_VARIABLE})
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert time.monotonic() < deadline and writer.poll() is None
            time.sleep(0.05)
        state, layout = StateFile(tmp_path), Layout(tmp_path)
        state.write(EnvRecord(label="orphaned-tool"))
        report = stop_environment(state, layout, timeout=5.0)
        assert report.clean, report
        assert writer.wait(10) is not None, "the tool writing into the data should be stopped"
        assert writer.pid in report.reaped
        assert not (tmp_path / "pg").exists()
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
