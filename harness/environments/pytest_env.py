"""The ``env`` fixture: the drills' environment, up once per session, down at its end.

Registered as its own ``pytest11`` entry point (``drillbook-env``). The
environment is the one the drillbook plugin's settings name (``--drill-env``,
``--drill-state-dir``); it is built with
:func:`drillbook.harness.environments.factory.build_environment`. An environment
drillbook runs itself (local) is started here and always stopped at the end of
the session, also after a failure or Ctrl-C/SIGTERM; one that was already up
(``drillbook env up`` beforehand) is used as it is and left running.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from drillbook.harness.config import Config, config_for_run
from drillbook.harness.environments.base import Environment
from drillbook.harness.environments.factory import build_environment
from drillbook.harness.environments.lifecycle import Lifecycle, Progress
from drillbook.harness.fingerprint import add_component_version
from drillbook.harness.plugin import RUN_KEY


def _settings(config: pytest.Config) -> tuple[str, Path, Config]:
    """Environment name, state directory and config from the drillbook plugin's run state."""
    state = config.stash.get(RUN_KEY, None)
    if state is not None:
        return state.settings.env_name, state.settings.state_dir, state.config
    # The drillbook plugin is disabled (-p no:drillbook): its defaults.
    cfg = config_for_run(Path(str(config.rootpath)))
    return "local", cfg.root / str(cfg.get("state_dir", ".drillbook")), cfg


def _say(config: pytest.Config) -> Progress:
    reporter = config.pluginmanager.getplugin("terminalreporter")
    capture = config.pluginmanager.getplugin("capturemanager")

    def say(message: str) -> None:
        if reporter is None:
            return
        if capture is not None:
            with capture.global_and_fixture_disabled():
                reporter.write_line(f"    env: {message}", cyan=True)
        else:
            reporter.write_line(f"    env: {message}", cyan=True)

    return say


@pytest.fixture(scope="session")
def env(request: pytest.FixtureRequest) -> Iterator[Environment]:
    """The environment the drills run against (``--drill-env``, default local), up."""
    name, state_dir, config = _settings(request.config)
    environment = build_environment(name, config, state_dir)
    say = _say(request.config)
    started = False
    if isinstance(environment, Lifecycle):
        started = environment.up(progress=say)
        for component, version in environment.versions().items():
            add_component_version(component, version)
    environment.settle(progress=say)
    try:
        yield environment
    finally:
        if started and isinstance(environment, Lifecycle):
            report = environment.down(progress=say)
            if not report.clean:
                warnings.warn(pytest.PytestWarning(
                    f"the {name} environment left processes {report.still_running} and listening "
                    f"ports {report.still_listening} behind; run `drillbook env down`"), stacklevel=1)
