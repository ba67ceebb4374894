"""Which lease an environment has: a Kubernetes ``Lease`` for a staging profile that talks
to Kubernetes (``[environments.<name>.lease]``), a lock in the state directory otherwise."""

from __future__ import annotations

from pathlib import Path

from drillbook.harness.config import Config
from drillbook.harness.environments.profile import load_profile
from drillbook.harness.lease.backend import Backend
from drillbook.harness.lease.local import LocalLease


def lease_for(env: str, config: Config, state_dir: Path) -> Backend:
    """The lease of environment ``env`` (not taken). A bad profile raises its ConfigError."""
    if env == "local" or load_profile(config, env).kind != "staging":
        return LocalLease(state_dir, env)
    from drillbook.harness.environments.staging.settings import load_staging

    settings = load_staging(config, env).lease
    if settings.kind != "kubernetes":
        return LocalLease(state_dir, env)
    from drillbook.harness.lease.kube import KubeLease

    return KubeLease(settings, env)
