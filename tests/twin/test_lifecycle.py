"""``env up`` / ``env down``: nothing left running or listening, also after the runner was
SIGKILLed half-way or once up, and after a start-up that failed half-way."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from drillbook.harness import procs
from drillbook.harness.errors import DrillbookError
from drillbook.twin import processes
from drillbook.twin.environment import LocalEnvironment
from drillbook.twin.settings import LocalSettings
from drillbook.twin.startup import StartFailed, Startup
from drillbook.twin.state import EnvRecord, StateFile
from tests.twin.dataplane_support import server_tmp
from tests.twin.test_environment import labels, recorded_pids_and_ports

ROOT = Path(__file__).resolve().parents[3]
RUNNER = """
import sys, time
from pathlib import Path
from drillbook.twin.environment import LocalEnvironment
LocalEnvironment(Path(sys.argv[1])).up()
print("UP", flush=True)
time.sleep(3600)
"""


@pytest.fixture
def tmp_path() -> Iterator[Path]:
    """Outside pytest's temporary directories (see ``server_tmp``)."""
    with server_tmp("lifecycle") as root:
        yield root


def wait_state(state: StateFile, ready: object, timeout: float = 120.0) -> EnvRecord:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = state.read()
        if record is not None and callable(ready) and ready(record):
            return record
        time.sleep(0.05)
    raise AssertionError(f"state never reached the expected point: {state.read()}")


def assert_nothing_left(record: EnvRecord, pids: list[int], ports: list[int]) -> None:
    assert [pid for pid in pids if procs.alive(pid)] == []
    assert processes.listening(ports) == []
    assert all(processes.labelled(label) == [] for label in labels(record))


@pytest.mark.parametrize("moment", ["half-way", "once-up"])
def test_env_down_cleans_up_after_a_sigkilled_runner(tmp_path: Path, moment: str) -> None:
    state_dir = tmp_path / "local"
    state = StateFile(state_dir)
    runner = subprocess.Popen([sys.executable, "-c", RUNNER, str(state_dir)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        if moment == "half-way":
            # The primary runs and the DR replica is being cloned: pg_basebackup is a child of the runner.
            wait_state(state, lambda r: "dr-replica" in r.clusters)
        else:
            wait_state(state, lambda r: r.phase == "up")
    finally:
        os.kill(runner.pid, signal.SIGKILL)
        runner.wait(10)
    record = state.read()
    assert record is not None
    pids, ports = recorded_pids_and_ports(record)
    assert [pid for pid in pids if procs.alive(pid)], "the environment should outlive its runner"
    pids += [pid for label in labels(record) for pid in processes.labelled(label)]
    report = LocalEnvironment(state_dir).down()
    assert report.clean, report
    assert_nothing_left(record, pids, ports)
    after = state.read()
    assert after is not None and after.phase == "down"
    assert not (state_dir / "pg").exists() and (state_dir / "logs").is_dir()


def test_a_start_up_that_fails_half_way_stops_what_it_started(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_scheduler(self: Startup) -> None:
        raise DrillbookError("the scheduler could not start (simulated)")

    monkeypatch.setattr(Startup, "_start_scheduler", broken_scheduler)
    env = LocalEnvironment(tmp_path / "local", settings=LocalSettings(snapshot_interval_s=60))
    progress: list[str] = []
    with pytest.raises(StartFailed, match="starting the snapshot schedule failed: the scheduler could not "
                                          "start") as info:
        env.up(progress=progress.append)
    assert "everything it had started was stopped" in str(info.value)
    record = env.state.read()
    assert record is not None and record.phase == "down"
    assert record.error is not None and "starting the snapshot schedule" in record.error
    pids, ports = recorded_pids_and_ports(record)
    assert {"primary", "dr-replica"} <= set(record.clusters) and {"moto", "redis"} <= set(record.processes)
    assert_nothing_left(record, pids, ports)
    assert any("FAILED while starting the snapshot schedule" in line for line in progress)


def test_the_cli_brings_it_up_shows_status_and_takes_it_down(tmp_path: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "drillbook", "env", *args, "--state-dir", str(tmp_path)]
        return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)

    up = cli("up")
    assert up.returncode == 0, up.stdout + up.stderr
    assert "primary: initdb with data checksums" in up.stdout and "drillbook env up: healthy in" in up.stdout
    status = cli("status", "--json")
    assert status.returncode == 0, status.stdout + status.stderr
    shown = json.loads(status.stdout)
    rows = {row["name"]: row for row in shown["components"]}
    assert rows["primary"]["health"] == "healthy" and rows["dr-replica"]["detail"].startswith("lag ")
    assert rows["kube-api"]["health"] == "healthy"
    # kubectl reaches the twin's Kubernetes API with the kubeconfig `env up` wrote.
    assert shown["kubeconfig"] == str(tmp_path / "local" / "kubeconfig")
    if shutil.which("kubectl"):
        pods = subprocess.run(["kubectl", "get", "pods", "-l", "app=api", "-o", "name"], capture_output=True,
                              text=True, timeout=60, env={**os.environ, "KUBECONFIG": shown["kubeconfig"],
                                                          "KUBECACHEDIR": str(tmp_path / "kube-cache")})
        assert pods.returncode == 0 and len(pods.stdout.split()) == 3, pods.stdout + pods.stderr
    assert cli("up").stdout.strip().endswith("already up")
    record = StateFile(tmp_path / "local").read()
    assert record is not None
    pids, ports = recorded_pids_and_ports(record)
    down = cli("down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert "nothing left running or listening" in down.stdout
    assert_nothing_left(record, pids, ports)
    gone = cli("status")
    assert gone.returncode == 1 and "is not up" in gone.stdout
    down_status = json.loads(cli("status", "--json").stdout)
    assert [row["kind"] for row in down_status["components"]] == ["lease"]
    assert set(down_status) == {"components"}
