"""The deployment controller's decisions (``rollout.plan``), on pods as data."""

from __future__ import annotations

from drillbook.twin.supervisor.model import RECREATE, ROLLING, Deployment, Pod, Release
from drillbook.twin.supervisor.rollout import plan

OLD = Release(1, "1.0.0", {"A": "1"})
NEW = Release(2, "1.1.0", {"A": "1"})


def deployment(replicas: int, *releases: Release) -> Deployment:
    return Deployment("api", replicas, ["az-a", "az-b"], {}, list(releases))


def pod(release: Release, n: int, *, ready: bool = True, terminating: bool = False) -> Pod:
    return Pod(f"api-{release.template_hash[:8]}-{n}", "api", release.template_hash, release.revision, "az-a",
               f"2024-01-01T00:00:0{n}Z", ready=ready, terminating=terminating)


def test_a_new_deployment_creates_every_replica() -> None:
    assert plan(deployment(3, OLD), []).create == 3


def test_rolling_update_surges_one_and_keeps_the_old_until_the_new_is_ready() -> None:
    d = deployment(3, OLD, Release(2, "1.1.0", {"A": "1"}, strategy=ROLLING))
    olds = [pod(OLD, i) for i in range(3)]
    first = plan(d, olds)
    assert (first.create, first.terminate) == (1, [])
    waiting = plan(d, [*olds, pod(d.current, 5, ready=False)])
    assert (waiting.create, waiting.terminate) == (0, [])  # a release never ready stalls here
    ready = plan(d, [*olds, pod(d.current, 5)])
    assert ready.create == 0 and len(ready.terminate) == 1


def test_recreate_stops_every_old_pod_before_starting_new_ones() -> None:
    d = deployment(3, OLD, Release(2, "1.1.0", {"A": "1"}, strategy=RECREATE))
    olds = [pod(OLD, i) for i in range(3)]
    assert {p.name for p in plan(d, olds).terminate} == {p.name for p in olds}
    dying = [pod(OLD, i, terminating=True) for i in range(3)]
    assert plan(d, dying).create == 0
    assert plan(d, []).create == 3


def test_scale_down_removes_unready_pods_first() -> None:
    d = deployment(2, OLD)
    pods = [pod(OLD, 1), pod(OLD, 2, ready=False), pod(OLD, 3)]
    assert [p.name for p in plan(d, pods).terminate] == [pods[1].name]


def test_rolling_back_to_a_template_whose_pods_run_replaces_nothing() -> None:
    back = Release(3, "1.0.0", {"A": "1"})  # rollout undo: the old template again
    d = deployment(3, NEW, back)
    olds = [pod(OLD, i) for i in range(3)]
    looping = pod(NEW, 7, ready=False)
    decision = plan(d, [*olds, looping])
    assert decision.create == 0 and decision.terminate == [looping]


def test_unready_old_pods_go_at_once_and_the_rollout_proceeds() -> None:
    d = deployment(3, OLD, NEW)
    broken_olds = [pod(OLD, i, ready=False) for i in range(3)]
    decision = plan(d, broken_olds)
    assert {p.name for p in decision.terminate} == {p.name for p in broken_olds}
    assert decision.create == 1
