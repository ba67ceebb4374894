"""The staging lease: a coordination.k8s.io/v1 ``Lease`` through the official client against the
Kubernetes API emulator (real HTTP, compare-and-swap on resourceVersion)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drillbook.harness import procs
from drillbook.harness.environments.staging.settings import KubeSettings, LeaseSettings
from drillbook.harness.lease import LeaseError, LeaseHeld, LeaseHolder, LeaseLost, acquire
from drillbook.harness.lease.kube import HOLDER, UNDO, KubeLease
from drillbook.harness.undolog import UndoLog, read
from tests.environments.staging.kube_emulator import KubeEmulator, kube_emulator

NAMESPACE = "compliant"


@pytest.fixture
def emulator() -> Iterator[KubeEmulator]:
    with kube_emulator() as running:
        yield running


def settings(emulator: KubeEmulator, duration: float = 3.0) -> LeaseSettings:
    kube = KubeSettings(api_url=emulator.url, namespace=NAMESPACE, request_timeout=5.0)
    return LeaseSettings(kind="kubernetes", kube=kube, name="drillbook-staging", duration=duration)


@pytest.fixture
def victim() -> Iterator[int]:
    proc = subprocess.Popen(["sleep", "600"])
    try:
        yield proc.pid
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        proc.kill()
        proc.wait()


def lease_object(emulator: KubeEmulator) -> dict[str, object]:
    from kubernetes import client

    api = client.CoordinationV1Api(emulator.api_client())
    return dict(api.read_namespaced_lease("drillbook-staging", NAMESPACE).to_dict())


def test_one_run_at_a_time_and_renewed_while_it_lives(emulator: KubeEmulator, tmp_path: Path) -> None:
    first = acquire(
        KubeLease(settings(emulator, 2.0), "staging"), LeaseHolder.me("run-1"), state_dir=tmp_path
    )
    other = KubeLease(settings(emulator, 2.0), "staging")
    with pytest.raises(LeaseHeld) as refused:
        acquire(other, LeaseHolder.me("run-2"), state_dir=tmp_path)
    assert refused.value.exit_code == 3
    assert "leased to run run-1 (host " in str(refused.value) and "Lease compliant/drillbook-staging" in str(
        refused.value
    )
    renewed_before = lease_object(emulator)["spec"]["renew_time"]  # type: ignore[index]
    time.sleep(3.0)  # longer than the duration: only renewals keep it
    spec = lease_object(emulator)["spec"]
    assert spec["holder_identity"] == first.holder.identity and spec["renew_time"] > renewed_before  # type: ignore[index]
    assert other.status().holder == first.holder
    with pytest.raises(LeaseHeld):
        acquire(other, LeaseHolder.me("run-2"), state_dir=tmp_path)
    first.release()
    assert other.status().free
    second = acquire(other, LeaseHolder.me("run-2"), state_dir=tmp_path)
    assert lease_object(emulator)["spec"]["lease_transitions"] == 1  # type: ignore[index]
    second.release()


def test_a_waiting_run_takes_it_when_released(emulator: KubeEmulator, tmp_path: Path) -> None:
    first = acquire(KubeLease(settings(emulator), "staging"), LeaseHolder.me("run-1"), state_dir=tmp_path)
    said: list[str] = []
    threading.Timer(1.5, first.release).start()
    second = acquire(
        KubeLease(settings(emulator), "staging"),
        LeaseHolder.me("run-2"),
        state_dir=tmp_path,
        wait=30,
        say=said.append,
    )
    assert said and said[0].startswith("waiting up to 30s for the lease of 'staging', held by run run-1")
    assert lease_object(emulator)["spec"]["holder_identity"] == second.holder.identity  # type: ignore[index]
    second.release()


def test_an_expired_lease_of_another_host_is_taken_over_after_its_mirrored_faults_are_reverted(
    emulator: KubeEmulator, tmp_path: Path, victim: int
) -> None:
    from kubernetes import client

    # A run on a CI runner that is gone: it paused the victim, mirrored the fault, and stopped renewing.
    os.kill(victim, signal.SIGSTOP)
    now = datetime.now(UTC)
    gone = LeaseHolder("run-gone", "ci-runner-7", 4242, None, now.isoformat(), "drillbook run --env staging")
    undo = [
        {
            "seq": 1,
            "name": "process_pause",
            "params": {"pid": victim, "start_ticks": procs.start_ticks(victim)},
            "registered": True,
            "nodeid": "drills/test_x.py::test_x",
        }
    ]
    client.CoordinationV1Api(emulator.api_client()).create_namespaced_lease(
        NAMESPACE,
        client.V1Lease(
            metadata=client.V1ObjectMeta(
                name="drillbook-staging",
                annotations={HOLDER: json.dumps(gone.to_json()), UNDO: json.dumps(undo)},
            ),
            spec=client.V1LeaseSpec(
                holder_identity=gone.identity,
                lease_duration_seconds=2,
                acquire_time=now,
                renew_time=now,
                lease_transitions=0,
            ),
        ),
    )
    backend = KubeLease(settings(emulator), "staging")
    with pytest.raises(LeaseHeld, match="leased to run run-gone \\(host ci-runner-7, pid 4242"):
        acquire(
            backend, LeaseHolder.me("run-new"), state_dir=tmp_path
        )  # not expired yet: alive for all we know
    assert procs.state(victim) == "T"
    time.sleep(2.5)
    stale = backend.status()
    assert stale.free and stale.stale == gone and stale.undo[0]["name"] == "process_pause"
    said: list[str] = []
    lease = acquire(backend, LeaseHolder.me("run-new"), state_dir=tmp_path, say=said.append)
    assert procs.state(victim) != "T", "taken over without reverting the dead run's fault"
    assert any("reverting what it left behind" in line for line in said)
    taken = lease_object(emulator)
    assert taken["spec"]["holder_identity"] == lease.holder.identity  # type: ignore[index]
    assert json.loads(taken["metadata"]["annotations"][UNDO]) == []  # type: ignore[index]
    lease.release()


def test_a_killed_holder_on_this_host_is_dead_at_once(
    emulator: KubeEmulator, tmp_path: Path, victim: int
) -> None:
    # A real run process: takes the lease (60 s), records and injects a fault through its undo log
    # (mirrored into the lease before the pause), then is SIGKILLed. Its state directory is its own:
    # the takeover must find the fault in the lease, not on disk.
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from drillbook.faults.process_pause import ProcessPause
        from drillbook.harness.environments.staging.settings import KubeSettings, LeaseSettings
        from drillbook.harness.lease import LeaseHolder, acquire
        from drillbook.harness.lease.kube import KubeLease
        from drillbook.harness.undolog import UndoLog
        kube = KubeSettings(api_url={emulator.url!r}, namespace={NAMESPACE!r}, request_timeout=5.0)
        chosen = LeaseSettings(kind="kubernetes", kube=kube, name="drillbook-staging", duration=60)
        backend = KubeLease(chosen, "staging")
        state = Path({str(tmp_path / "elsewhere")!r})
        lease = acquire(backend, LeaseHolder.me("run-killed"), state_dir=state)
        log = UndoLog(state, "run-killed")
        log.observer = lease.mirror
        fault = ProcessPause({victim})
        log.before_inject(fault.name, fault.describe(), True, "test")
        fault.inject()
        print("injected", flush=True)
        time.sleep(600)
    """)
    runner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert runner.stdout is not None and runner.stdout.readline().strip() == "injected"
    runner.send_signal(signal.SIGKILL)
    runner.wait(10)
    assert procs.state(victim) == "T"
    lease = acquire(
        KubeLease(settings(emulator), "staging"), LeaseHolder.me("run-next"), state_dir=tmp_path / "here"
    )
    assert procs.state(victim) != "T"
    lease.release()


def test_a_takeover_that_cannot_revert_keeps_the_dead_holder(emulator: KubeEmulator, tmp_path: Path) -> None:
    from kubernetes import client

    now = datetime.now(UTC)
    gone = LeaseHolder("run-gone", "ci-runner-7", 4242, None, now.isoformat(), "drillbook run")
    undo = [{"seq": 1, "name": "homegrown", "params": {}, "registered": False}]
    client.CoordinationV1Api(emulator.api_client()).create_namespaced_lease(
        NAMESPACE,
        client.V1Lease(
            metadata=client.V1ObjectMeta(
                name="drillbook-staging",
                annotations={HOLDER: json.dumps(gone.to_json()), UNDO: json.dumps(undo)},
            ),
            spec=client.V1LeaseSpec(
                holder_identity=gone.identity,
                lease_duration_seconds=1,
                renew_time=datetime(2020, 1, 1, tzinfo=UTC),
            ),
        ),
    )
    with pytest.raises(LeaseError, match=r"taken over only after its faults are reverted.*homegrown"):
        acquire(KubeLease(settings(emulator), "staging"), LeaseHolder.me("run-new"), state_dir=tmp_path)
    assert lease_object(emulator)["spec"]["holder_identity"] == gone.identity  # type: ignore[index]


def test_a_run_that_lost_its_lease_injects_nothing_more(emulator: KubeEmulator, tmp_path: Path) -> None:
    from kubernetes import client

    mine = acquire(KubeLease(settings(emulator, 1.0), "staging"), LeaseHolder.me("run-1"), state_dir=tmp_path)
    log = UndoLog(tmp_path, "run-1")
    log.observer = mine.mirror
    log.before_inject("noop", {"label": "first"}, True, "t")  # allowed, and mirrored into the lease
    mirrored = json.loads(lease_object(emulator)["metadata"]["annotations"][UNDO])  # type: ignore[index]
    assert [e["params"] for e in mirrored] == [{"label": "first"}]
    mine.release()  # stands for a runner whose renewals lapsed ...
    api = client.CoordinationV1Api(emulator.api_client())
    lease = api.read_namespaced_lease("drillbook-staging", NAMESPACE)
    lease.spec.holder_identity = "run-2@ci-runner-9/1"  # ... and a run elsewhere that took the lease over
    api.replace_namespaced_lease("drillbook-staging", NAMESPACE, lease)
    with pytest.raises(LeaseLost, match="no longer held by this run \\(held by run-2@ci-runner-9/1\\)"):
        log.before_inject("noop", {"label": "second"}, True, "t")
    states = {e.params["label"]: e.state for e in read(log.path).entries}
    assert states == {"first": "pending", "second": "reverted"}  # refused before it took effect


def test_a_live_holder_on_this_host_keeps_its_lapsed_lease(emulator: KubeEmulator, tmp_path: Path) -> None:
    mine = acquire(KubeLease(settings(emulator, 1.0), "staging"), LeaseHolder.me("run-1"), state_dir=tmp_path)
    mine.backend._stop.set()  # type: ignore[attr-defined]  # renewals stop, the process lives on
    time.sleep(1.5)
    with pytest.raises(LeaseHeld, match="leased to run run-1"):
        acquire(KubeLease(settings(emulator), "staging"), LeaseHolder.me("run-2"), state_dir=tmp_path)


DRILL = """
import json, pytest
from kubernetes import client

@pytest.mark.drill(scenario="lease held", tier="monthly", rto="1h")
def test_lease_is_held_during_the_run(drill):
    api = client.CoordinationV1Api(client.ApiClient(client.Configuration(host={url!r})))
    lease = api.read_namespaced_lease("drillbook-staging", "compliant")
    with open("seen.json", "w") as out:
        json.dump({{"holder": lease.spec.holder_identity}}, out)
    drill.steady_state(lambda: True)
"""

PROFILE = """
[environments.staging.kubernetes]
api_url = "{url}"
namespace = "compliant"
request_timeout = "5s"

[environments.staging.app]
deployment = "api"
selector = "app=api"
"""


def test_a_pytest_drill_run_on_staging_holds_the_lease(
    pytester: pytest.Pytester, emulator: KubeEmulator
) -> None:
    (pytester.path / "drillbook.toml").write_text(PROFILE.format(url=emulator.url))
    pytester.makepyfile(test_lease_drill=DRILL.format(url=emulator.url))
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--drill-env", "staging", "--drill-run-id", "run-on-staging"
    )
    result.assert_outcomes(passed=1)
    seen = json.loads((pytester.path / "seen.json").read_text())
    assert seen["holder"].startswith("run-on-staging@")
    assert not lease_object(emulator)["spec"]["holder_identity"]  # type: ignore[index]


def test_env_status_names_the_staging_lease_holder(emulator: KubeEmulator, tmp_path: Path) -> None:
    (tmp_path / "drillbook.toml").write_text(PROFILE.format(url=emulator.url))

    def status() -> dict[str, object]:
        done = subprocess.run(
            [sys.executable, "-m", "drillbook", "env", "status", "--env", "staging", "--json"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        (row,) = json.loads(done.stdout)["components"]
        return dict(row)

    assert status()["health"] == "free"
    held = acquire(KubeLease(settings(emulator), "staging"), LeaseHolder.me("run-held"), state_dir=tmp_path)
    try:
        row = status()
        assert row["health"] == "held" and "held by run run-held" in str(row["detail"])
        assert "Lease compliant/drillbook-staging" in str(row["detail"])
    finally:
        held.release()
