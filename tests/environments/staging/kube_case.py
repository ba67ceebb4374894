"""What the Kubernetes faults' contract cases share: an emulated cluster for one test."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from drillbook.harness.environments.staging.k8s.client import Kube
from drillbook.harness.environments.staging.k8s.deployments import Deployments
from drillbook.harness.environments.staging.k8s.nodes import Nodes
from drillbook.harness.environments.staging.k8s.pods import Pods
from drillbook.harness.environments.staging.settings import KubeSettings
from tests.environments.staging.kube_emulator import KubeEmulator, seed_deployment, seed_nodes, started
from tests.environments.staging.kube_target import DEPLOYMENT, ENV, NAMESPACE, REQUIRED_ENV


@dataclass
class Cluster:
    emulator: KubeEmulator
    kube: Kube

    @property
    def params(self) -> dict[str, object]:
        return {
            "namespace": NAMESPACE,
            "api_url": self.emulator.url,
            "request_timeout": 5.0,
            "poll_interval": 0.05,
        }

    def available(self) -> bool:
        return Deployments(self.kube).status(DEPLOYMENT).done and all(p.ready for p in self.pods())

    def pods(self) -> list:  # type: ignore[type-arg]
        return Pods(self.kube).list(f"app={DEPLOYMENT}")

    def nodes(self) -> Nodes:
        return Nodes(self.kube)


def cluster(request: pytest.FixtureRequest) -> Cluster:
    emulator = started(request, required_env=REQUIRED_ENV)
    api = emulator.api_client()
    seed_nodes(api, {"az-a": 2, "az-b": 1})
    seed_deployment(api, NAMESPACE, DEPLOYMENT, replicas=4, env=ENV)
    kube = Kube(
        KubeSettings(api_url=emulator.url, namespace=NAMESPACE, request_timeout=5.0), poll_interval=0.05
    )
    Deployments(kube).wait_available(DEPLOYMENT, timeout=20)
    return Cluster(emulator, kube)
