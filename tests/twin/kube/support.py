"""An app plane with its Kubernetes API for one test, and the real ``kubectl`` pointed at it."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from drillbook.twin.app_plane import AppPlane
from drillbook.twin.kube import write_kubeconfig
from tests.twin.app_plane_support import Platform, shared_platform, start_plane, stop_and_check

KUBECTL = shutil.which("kubectl")


@dataclass
class Twin:
    plane: AppPlane
    kubeconfig: Path
    cache: Path

    def kubectl(self, *args: str, timeout: float = 90.0) -> subprocess.CompletedProcess[str]:
        """The real kubectl (every call bounded: a hang fails the test instead of stalling it)."""
        assert KUBECTL is not None
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig), "KUBECACHEDIR": str(self.cache)}
        return subprocess.run([KUBECTL, *args], capture_output=True, text=True, timeout=timeout, env=env)

    def ok(self, *args: str, timeout: float = 90.0) -> str:
        done = self.kubectl(*args, timeout=timeout)
        assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stdout}{done.stderr}"
        return done.stdout

    def pods(self) -> list[dict[str, Any]]:
        """The supervisor's own view of the pods (not the Kubernetes API's)."""
        return [p for d in self.plane.supervisor.status()["deployments"] for p in d["pods"]]

    def snapshot(self) -> dict[str, Any]:
        """What a refused request must leave as it was: pods, revisions, replicas, zones."""
        overview = self.plane.supervisor.status()
        return {
            "zones": overview["zones"],
            "deployments": [
                (d["name"], d["revision"], d["replicas"], d["version"], d["env"])
                for d in overview["deployments"]
            ],
            "pods": sorted(
                (p["name"], p["pid"], p["zone"]) for d in overview["deployments"] for p in d["pods"]
            ),
        }


def needs_kubectl() -> None:
    if KUBECTL is None:
        pytest.skip("kubectl is not on PATH (CI installs Debian's kubernetes-client through .ci/run)")


def start_twin(platform: Platform, base: Path, **options: Any) -> Twin:
    plane = start_plane(platform, base / "app", **options)
    kubeconfig = write_kubeconfig(base / "kubeconfig", plane.kube_url, plane.namespace, dr=plane.dr_enabled)
    return Twin(plane, kubeconfig, base / "kube-cache")


@pytest.fixture
def twin(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Twin]:
    """Three API replicas and a worker over az-a and az-b, with a DR region (api-dr at 0)."""
    platform = shared_platform(request)
    started = start_twin(platform, tmp_path, workers=1, dr_database_url=platform.database_url)
    try:
        yield started
    finally:
        stop_and_check(started.plane)
