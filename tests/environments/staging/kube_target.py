"""Where the Kubernetes driver tests run: the emulator and the twin (always), or a real cluster.

- ``emulator``: kmock's API server with the controllers of ``kube_emulator.py``.
- ``twin``: the local environment's Kubernetes API over its supervisor (an app plane of
  its own per test, on the session's PostgreSQL, Redis and moto): the pods are real
  processes of the Compliant API, which exits when ``DATABASE_URL`` is missing.
- ``real``: set ``KUBECONFIG`` and ``DRILLBOOK_REAL_K8S=1`` to run the same tests against a
  real cluster instead: each test gets its own namespace (deleted afterwards) with a
  small deployment that, like the Compliant API, exits when ``DATABASE_URL`` is missing.
  Tests that cordon and drain nodes also need ``DRILLBOOK_REAL_K8S_NODES=1`` (they
  disturb the whole cluster) and a zone label on its nodes (``DRILLBOOK_REAL_K8S_ZONE``).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from drillbook.harness.environments.staging.k8s.client import Kube
from drillbook.harness.environments.staging.k8s.deployments import Deployments
from drillbook.harness.environments.staging.settings import KubeSettings
from tests.environments.staging.kube_emulator import KubeEmulator, seed_deployment, seed_nodes

NAMESPACE = "compliant"
DEPLOYMENT = "api"
REQUIRED_ENV = ("DATABASE_URL",)
REPLICAS = 4
ENV = {"DATABASE_URL": "postgresql://app@db.compliant.svc/compliant"}
#: A container that runs only while DATABASE_URL is set (it crash-loops without it).
REAL_IMAGE = "busybox:1.36"
REAL_COMMAND = ["sh", "-c", 'test -n "$DATABASE_URL" && exec sleep 86400']


def real_cluster() -> bool:
    return os.environ.get("DRILLBOOK_REAL_K8S") == "1" and bool(os.environ.get("KUBECONFIG"))


@dataclass
class KubeTarget:
    settings: KubeSettings
    kube: Kube
    deployment: str
    selector: str
    emulator: KubeEmulator | None
    zone: str  # a zone whose nodes may be drained
    other_zone: str | None
    kind: str = "emulator"  # emulator, twin or real

    @property
    def namespace(self) -> str:
        return self.settings.namespace

    def require_nodes(self) -> None:
        if self.kind == "real" and os.environ.get("DRILLBOOK_REAL_K8S_NODES") != "1":
            pytest.skip(
                "cordons and drains real nodes: set DRILLBOOK_REAL_K8S_NODES=1 (and "
                "DRILLBOOK_REAL_K8S_ZONE) to allow it"
            )


def emulated(**options: Any) -> Iterator[KubeTarget]:
    emulator = KubeEmulator(required_env=REQUIRED_ENV, **options).start()
    try:
        api = emulator.api_client()
        seed_nodes(api, {"az-a": 2, "az-b": 1})
        seed_deployment(api, NAMESPACE, DEPLOYMENT, replicas=REPLICAS, env=ENV)
        settings = KubeSettings(api_url=emulator.url, namespace=NAMESPACE, request_timeout=5.0)
        kube = Kube(settings, where="[environments.staging.app]", poll_interval=0.05)
        Deployments(kube).wait_available(DEPLOYMENT, timeout=20)
        yield KubeTarget(settings, kube, DEPLOYMENT, f"app={DEPLOYMENT}", emulator, "az-a", "az-b")
        kube.close()
    finally:
        emulator.stop()


def twin(request: pytest.FixtureRequest, base: Path) -> Iterator[KubeTarget]:
    from tests.twin.app_plane_support import shared_platform, start_plane, stop_and_check

    plane = start_plane(shared_platform(request), base / "app", replicas=REPLICAS, workers=0)
    try:
        settings = KubeSettings(api_url=plane.kube_url, namespace=plane.namespace, request_timeout=5.0)
        kube = Kube(settings, where="[environments.staging.app]", poll_interval=0.05)
        yield KubeTarget(settings, kube, DEPLOYMENT, f"app={DEPLOYMENT}", None, "az-a", "az-b", "twin")
        kube.close()
    finally:
        stop_and_check(plane)


def real() -> Iterator[KubeTarget]:
    from kubernetes import client

    namespace = f"drillbook-test-{secrets.token_hex(3)}"
    settings = KubeSettings(
        kubeconfig=os.environ["KUBECONFIG"],
        context=os.environ.get("DRILLBOOK_REAL_K8S_CONTEXT"),
        namespace=namespace,
        request_timeout=15.0,
    )
    kube = Kube(settings, where="[environments.staging.app]", poll_interval=1.0)
    kube.core.create_namespace(
        client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace, labels={"drillbook.io/test": "1"}))
    )
    try:
        labels = {"app": DEPLOYMENT}
        container = client.V1Container(
            name="app",
            image=REAL_IMAGE,
            command=REAL_COMMAND,
            env=[client.V1EnvVar(name=k, value=v) for k, v in ENV.items()],
        )
        kube.apps.create_namespaced_deployment(
            namespace,
            client.V1Deployment(
                metadata=client.V1ObjectMeta(name=DEPLOYMENT, labels=labels),
                spec=client.V1DeploymentSpec(
                    replicas=4,
                    selector=client.V1LabelSelector(match_labels=labels),
                    template=client.V1PodTemplateSpec(
                        metadata=client.V1ObjectMeta(labels=labels),
                        spec=client.V1PodSpec(containers=[container], termination_grace_period_seconds=1),
                    ),
                ),
            ),
        )
        Deployments(kube).wait_available(DEPLOYMENT, timeout=300)
        yield KubeTarget(
            settings,
            kube,
            DEPLOYMENT,
            f"app={DEPLOYMENT}",
            None,
            os.environ.get("DRILLBOOK_REAL_K8S_ZONE", ""),
            None,
            "real",
        )
    finally:
        kube.core.delete_namespace(namespace)
        kube.close()


def kinds() -> list[str]:
    """The targets the driver tests run against."""
    return ["real"] if real_cluster() else ["emulator", "twin"]


def target(kind: str, request: pytest.FixtureRequest, base: Path) -> Iterator[KubeTarget]:
    if kind == "real":
        return real()
    return twin(request, base) if kind == "twin" else emulated()
