"""The supervisor with real replicas: back-off, CrashLoopBackOff, rollouts, zones, adoption."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import pytest

from drillbook.harness import procs
from drillbook.harness.environments.base import DeploymentRole, ReplicaStatus
from drillbook.twin.app_plane import (
    BAD_VERSION,
    GOOD_VERSION,
    NEW_REQUIRED_VARIABLE,
    AppPlane,
)
from drillbook.twin.supervisor import Deployment, DeploymentUnavailable
from drillbook.twin.supervisor.errors import Conflict, Invalid, NotFound
from tests.twin.app_plane_support import http, plane, platform, pods, wait_for

__all__ = ["plane", "platform"]


def as_role(deployment: Deployment) -> DeploymentRole:
    return deployment  # mypy checks the protocol here, statically


def by_name(deployment: Deployment) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in pods(deployment)}


def events(plane: AppPlane, pod: str, reason: str) -> list[str]:
    return [e["message"] for e in plane.supervisor.events(1000)
            if e["object"] == pod and e["reason"] == reason]


def test_the_deployments_are_spread_over_zones_and_ready(plane: AppPlane) -> None:
    api = plane.api
    assert isinstance(api, DeploymentRole)
    replicas = api.replicas()
    assert len(replicas) == 3 and all(isinstance(r, ReplicaStatus) for r in replicas)
    assert all(r.ready and r.phase == "Running" and r.pid for r in replicas)
    assert sorted(r.zone or "" for r in replicas) == ["az-a", "az-a", "az-b"]
    assert [r.ready for r in plane.workers.replicas()] == [True]
    for replica in replicas:
        assert procs.alive(replica.pid or 0)


def test_a_replica_killed_with_sigkill_comes_back_with_exponential_back_off(plane: AppPlane) -> None:
    api = plane.api
    first = api.kill(count=1)
    assert len(first) == 1
    name = first[0]
    old_pid = by_name(api)[name]["pid"]
    assert wait_for(lambda: not procs.alive(old_pid), 5, "the process gone")
    pod = wait_for(lambda: (p := by_name(api)[name])["restarts"] == 1 and p["ready"] and p, 30,
                   "the replica ready again")
    assert pod["restarts"] == 1 and pod["pid"] != old_pid and pod["last_exit"] == "killed by SIGKILL"
    # Killed again before the back-off reset: the delay doubles (0.3s, then 0.6s).
    api.kill(count=1)
    wait_for(lambda: by_name(api)[name]["restarts"] == 2 and by_name(api)[name]["ready"], 30,
             "second restart")
    backoffs = events(plane, name, "BackOff")
    assert "back-off 0.3s" in backoffs[0] and "back-off 0.6s" in backoffs[1], backoffs
    assert by_name(api)[name]["zone"] in ("az-a", "az-b")  # restarted in place: same pod, same zone


def test_a_crash_looping_release_shows_crashloopbackoff_and_rollout_undo_restores_the_previous(
    plane: AppPlane
) -> None:
    api = plane.api
    before = api.status()
    api.set_image(BAD_VERSION, strategy="Recreate")
    looping = wait_for(lambda: [p for p in pods(api) if p["phase"] == "CrashLoopBackOff"], 60,
                       "CrashLoopBackOff")
    assert all(p["version"] == BAD_VERSION for p in looping)
    assert NEW_REQUIRED_VARIABLE in plane.supervisor.logs(looping[0]["name"])
    down = http("GET", f"{plane.front_door_url}/api/health")
    assert (down.status, down.body["error"]) == (503, "no_ready_replicas")
    with pytest.raises(DeploymentUnavailable, match="0/3 ready"):
        api.wait_available(timeout=1.0)

    api.rollout_undo()
    api.wait_available(timeout=60)
    after = api.status()
    assert after["version"] == GOOD_VERSION and after["revision"] == before["revision"] + 2
    assert {p["version"] for p in after["pods"]} == {GOOD_VERSION}
    assert http("GET", f"{plane.front_door_url}/api/health").status == 200
    history = api.history()
    assert [r["version"] for r in history][-2:] == [BAD_VERSION, GOOD_VERSION]
    assert "rollout undo" in history[-1]["cause"]


def test_a_bad_rolling_update_stalls_while_the_old_replicas_keep_serving(plane: AppPlane) -> None:
    api = plane.api
    old = {p["name"] for p in pods(api)}
    api.set_image(BAD_VERSION)
    wait_for(lambda: any(p["phase"] == "CrashLoopBackOff" for p in pods(api)), 60, "the surge pod looping")
    current = by_name(api)
    assert old <= set(current) and len(current) == 4  # max surge 1, max unavailable 0
    assert all(current[n]["ready"] for n in old)
    assert http("GET", f"{plane.front_door_url}/api/health").status == 200
    assert api.status()["rollout"] == "progressing"
    # Scenario 5 option B: set the missing variable; the release then starts.
    api.set_env(**{NEW_REQUIRED_VARIABLE: "http://flags.internal"})
    api.wait_available(timeout=90)
    status = api.status()
    assert status["version"] == BAD_VERSION and status["env"][NEW_REQUIRED_VARIABLE]
    assert not old & {p["name"] for p in status["pods"]}


def test_a_release_without_a_required_variable_crash_loops(plane: AppPlane) -> None:
    workers = plane.workers
    workers.set_env(DATABASE_URL=None)
    wait_for(lambda: any(p["phase"] == "CrashLoopBackOff" for p in pods(workers)), 60, "CrashLoopBackOff")
    assert "DATABASE_URL" not in workers.env()
    workers.rollout_undo()
    workers.wait_available(timeout=60)
    assert "DATABASE_URL" in workers.env()


def test_rollout_restart_replaces_every_replica_without_downtime(plane: AppPlane) -> None:
    api = plane.api
    old = {p["name"] for p in pods(api)}
    failures: list[int] = []
    api.rollout_restart()
    deadline = time.monotonic() + 90
    while api.status()["rollout"] != "complete":
        answer = http("GET", f"{plane.front_door_url}/api/health", timeout=5)
        if answer.status != 200:
            failures.append(answer.status)
        assert time.monotonic() < deadline, "rollout restart did not complete"
    assert not old & set(by_name(api))
    assert failures == [], failures


def test_scale_up_and_down(plane: AppPlane) -> None:
    api = plane.api
    api.scale(5)
    api.wait_available(timeout=60)
    assert sorted(p["zone"] for p in pods(api)) == ["az-a", "az-a", "az-a", "az-b", "az-b"]
    api.scale(2)
    wait_for(lambda: len(pods(api)) == 2, 30, "scaled down")
    api.wait_available(timeout=30)
    with pytest.raises(Invalid):
        api.scale(-1)


def test_cordoning_a_zone_reschedules_its_replicas_into_the_other(plane: AppPlane) -> None:
    evicted = plane.supervisor.cordon("az-a")
    assert len(evicted) == 3  # two api replicas and the worker
    plane.api.wait_available(timeout=60)
    plane.workers.wait_available(timeout=60)
    assert {r.zone for r in plane.api.replicas()} == {"az-b"}
    assert {r.zone for r in plane.workers.replicas()} == {"az-b"}
    assert not set(evicted) & {r.name for r in plane.api.replicas()}
    assert plane.supervisor.zones()["az-a"] is True
    plane.supervisor.uncordon("az-a")
    plane.api.scale(4)
    plane.api.wait_available(timeout=60)
    assert "az-a" in {r.zone for r in plane.api.replicas()}


def test_with_every_zone_cordoned_replicas_are_unschedulable(plane: AppPlane) -> None:
    plane.supervisor.cordon("az-a", signal="SIGKILL")
    plane.supervisor.cordon("az-b", signal="SIGKILL")
    pending = wait_for(lambda: [p for p in pods(plane.api) if p["phase"] == "Pending"], 30, "Pending pods")
    assert "Unschedulable" in pending[0]["reason"]
    plane.supervisor.uncordon("az-b")
    plane.api.wait_available(timeout=60)


def test_kill_by_zone_and_errors_name_the_problem(plane: AppPlane) -> None:
    killed = plane.api.kill(zone="az-b")
    assert len(killed) == 1
    assert wait_for(lambda: by_name(plane.api)[killed[0]]["restarts"] == 1, 30)
    with pytest.raises(Invalid, match="az-c"):
        plane.api.kill(zone="az-c")
    with pytest.raises(NotFound, match="deployments: api"):
        plane.supervisor.deployment("backend").status()
    with pytest.raises(NotFound, match="no revision 99"):
        plane.api.rollout_undo(to_revision=99)
    with pytest.raises(Conflict, match="no previous revision"):
        plane.workers.rollout_undo()


def test_a_restarted_supervisor_adopts_running_replicas_and_restarts_dead_ones(plane: AppPlane) -> None:
    before = by_name(plane.api)
    supervisor = next(p for p in plane.processes if p.name == "supervisor")
    os.kill(supervisor.pid, signal.SIGKILL)
    assert wait_for(lambda: not procs.alive(supervisor.pid, supervisor.ticks), 10)
    victim = sorted(before)[0]
    os.killpg(before[victim]["pid"], signal.SIGKILL)  # dies while nobody supervises
    assert procs.wait_gone(before[victim]["pid"], 5)
    assert http("GET", f"{plane.front_door_url}/api/health").status == 200  # pods outlive their supervisor
    plane.restart_supervisor()
    after = wait_for(lambda: by_name(plane.api)[victim]["ready"] and by_name(plane.api), 30, "victim back")
    for name, pod in before.items():
        if name != victim:
            assert after[name]["pid"] == pod["pid"] and after[name]["ready"]
    assert after[victim]["restarts"] == 1 and after[victim]["pid"] != before[victim]["pid"]
    assert "exited while the supervisor was away" in after[victim]["last_exit"] + after[victim]["reason"] or \
        events(plane, victim, "BackOff")


def test_a_hung_replica_is_restarted_by_its_liveness_probe(plane: AppPlane) -> None:
    victim = pods(plane.api)[0]
    os.kill(victim["pid"], signal.SIGSTOP)  # hangs: answers nothing, exits never
    try:
        pod = wait_for(lambda: by_name(plane.api)[victim["name"]]["restarts"] == 1
                       and by_name(plane.api)[victim["name"]], 60, "liveness restart")
    finally:
        if procs.alive(victim["pid"]):
            os.kill(victim["pid"], signal.SIGCONT)
    assert pod["pid"] != victim["pid"]
    assert events(plane, victim["name"], "Unhealthy")


def test_old_releases_beyond_the_history_limit_are_dropped(plane: AppPlane) -> None:
    workers = plane.workers
    workers.scale(0)
    wait_for(lambda: not pods(workers), 30, "no worker left")
    for i in range(12):
        workers.set_env(ROUND=str(i))
    history = workers.history()
    assert len(history) == 11 and history[-1]["env"]["ROUND"] == "11"
    workers.rollout_undo(to_revision=history[-2]["revision"])
    assert workers.env()["ROUND"] == "10"
