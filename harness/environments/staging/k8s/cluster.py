"""How a fault names its cluster in its parameters (no secret: a kubeconfig path and context,
or an API URL), so that ``drillbook revert`` can reach the same cluster from another process."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from drillbook.harness.environments.staging.k8s.client import Kube
from drillbook.harness.environments.staging.settings import KubeSettings


@dataclass(frozen=True)
class Cluster:
    namespace: str = "default"
    context: str | None = None
    kubeconfig: str | None = None
    api_url: str | None = None
    in_cluster: bool = False
    request_timeout: float = 15.0

    @classmethod
    def of(cls, settings: KubeSettings) -> Cluster:
        return cls(
            settings.namespace,
            settings.context,
            settings.kubeconfig,
            settings.api_url,
            settings.in_cluster,
            settings.request_timeout,
        )

    def settings(self) -> KubeSettings:
        return KubeSettings(
            context=self.context,
            kubeconfig=self.kubeconfig,
            api_url=self.api_url,
            in_cluster=self.in_cluster,
            namespace=self.namespace,
            request_timeout=self.request_timeout,
        )

    def connect(self, *, where: str, poll_interval: float) -> Kube:
        return Kube(self.settings(), where=where, poll_interval=poll_interval)

    def params(self) -> dict[str, Any]:
        return asdict(self)
