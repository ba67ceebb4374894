"""The configuration a drill run reads, checked once before anything runs.

``drillbook run`` and the pytest plugin call :func:`check_run_config` before collecting:
a bad value is one message naming the file, the key and the fix (exit code 2, or
pytest's usage error), never one error per drill.
"""

from __future__ import annotations

from drillbook.harness.config import Config
from drillbook.harness.environments.factory import check_profile
from drillbook.harness.marker import check_targets


def check_run_config(config: Config, env: str) -> None:
    """The targets and the profile of environment ``env`` (the run's own settings are read by
    :func:`drillbook.harness.settings.from_config`)."""
    check_targets(config)
    check_profile(env, config)
