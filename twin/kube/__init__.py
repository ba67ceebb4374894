"""The twin's Kubernetes API: the supervisor's deployments, releases, pods and zones served as
``apps/v1`` Deployments and ReplicaSets, ``v1`` Pods and Nodes, so that ``kubectl`` and the
official client work against the local environment unchanged (docs/local-environment.md).

The supervisor serves it (``server.py``) on a port of its own; ``cluster.py`` renders the
supervisor's state and carries requests out through the supervisor's operations.
"""

from drillbook.twin.kube.kubeconfig import write_kubeconfig

__all__ = ["write_kubeconfig"]
