"""A local supervisor with Kubernetes semantics for the reference platform's services.

Deployments (``api``, ``workers``, and in the DR region ``api-dr``, ``workers-dr``)
have N replicas ("pods"), real processes spread over zones. A pod whose process
exits is restarted in place with exponential back-off (phase ``Error``, then
``CrashLoopBackOff``); releases are revisions of (version, environment) rolled
out RollingUpdate (new pods ready before old ones stop) or Recreate, with
rollout undo, set-env, set-image, rollout restart and scale; readiness probes
gate traffic (the front door routes to ready pods only); cordoning a zone
evicts its pods into the other zones.

The supervisor is a long-lived process of its own (``python -m
drillbook.twin.supervisor --state-dir DIR``), controlled over a
loopback JSON API (``api.py``) by :class:`SupervisorClient`;
:class:`Deployment` is a deployment as a ``DeploymentRole``. Its state (pids
with start times included) lives in ``DIR`` (``store.py``).
"""

from drillbook.twin.supervisor.client import Deployment, SupervisorClient
from drillbook.twin.supervisor.errors import (
    DeploymentUnavailable,
    SupervisorError,
    SupervisorUnavailable,
)
from drillbook.twin.supervisor.model import BackoffPolicy, ProbePolicy

__all__ = [
    "BackoffPolicy",
    "Deployment",
    "DeploymentUnavailable",
    "ProbePolicy",
    "SupervisorClient",
    "SupervisorError",
    "SupervisorUnavailable",
]
