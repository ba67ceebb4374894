"""``status.observedGeneration`` follows the supervisor's control loop, not the API call: a change
is observed once a pass has acted on it, so a reader such as ``kubectl rollout status`` never
takes the status from before a change for the status after it. Pods here are data (no process
is started); the loop's passes are called one at a time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drillbook.twin.kube import workloads
from drillbook.twin.supervisor.controller import Controller
from drillbook.twin.supervisor.model import ClusterState, Deployment, Pod, Release, Zone
from drillbook.twin.supervisor.store import StateFiles

RELEASE = Release(1, "1.0.0", {"A": "1"})


@pytest.fixture
def ctl(tmp_path: Path) -> Iterator[Controller]:
    deployment = Deployment("api", 2, ["az-a", "az-b"], {}, [RELEASE])
    pods = {
        name: Pod(name, "api", RELEASE.template_hash, 1, zone, "2026-01-01T00:00:00Z",
                  phase="Running", ready=True)
        for name, zone in (("api-a", "az-a"), ("api-b", "az-b"))
    }
    state = ClusterState({"api": deployment}, {z: Zone(z) for z in ("az-a", "az-b")}, pods,
                         created_at="2026-01-01T00:00:00Z")
    controller = Controller(state, StateFiles(tmp_path))
    try:
        yield controller
    finally:
        controller.prober.shutdown()


def shown(ctl: Controller) -> dict[str, Any]:
    with ctl.lock:
        return workloads.deployment(ctl, ctl.state.deployments["api"], {}).obj


def test_a_change_is_observed_once_the_control_loop_has_acted_on_it(ctl: Controller) -> None:
    ctl.tick()
    first = shown(ctl)
    assert first["metadata"]["generation"] == first["status"]["observedGeneration"] == 1
    assert first["status"]["replicas"] == 2
    ctl.scale("api", 1)
    pending = shown(ctl)
    # Kubernetes' "Waiting for deployment spec update to be observed": the pods have not been
    # asked to stop yet, so the counts are still those of the old spec.
    assert (pending["metadata"]["generation"], pending["status"]["observedGeneration"]) == (2, 1)
    assert pending["status"]["replicas"] == 2
    ctl.tick()
    after = shown(ctl)
    assert after["status"]["observedGeneration"] == 2 and after["status"]["replicas"] == 1
    ctl.tick()
    assert shown(ctl)["status"]["observedGeneration"] == 2  # nothing changed: nothing to observe


def test_the_observed_generation_survives_a_restart_of_the_supervisor(ctl: Controller) -> None:
    ctl.scale("api", 1)
    ctl.tick()
    ctl.save()
    again = ClusterState.from_json(ctl.files.read_json(ctl.files.state) or {})
    assert again.deployments["api"].observed_generation == again.deployments["api"].generation == 2
