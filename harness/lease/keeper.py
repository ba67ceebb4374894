"""The run's lease inside pytest: registered by the drillbook plugin for each session.

The lease is taken once the session knows it has drills to run (after collection, before
the first test, so before the environment is started or any fault injected) and released
when pytest ends. Under ``drillbook run`` the parent holds it and this session runs under
it (checked: the lease names the parent and, locally, the inherited descriptor is the
locked file). A session that cannot have the lease exits with code 3 naming its holder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from drillbook.harness.config import Config
from drillbook.harness.errors import DrillbookError
from drillbook.harness.lease.acquire import Lease, acquire
from drillbook.harness.lease.holder import LEASE_VARIABLE, LeaseHolder
from drillbook.harness.lease.select import lease_for
from drillbook.harness.undolog import UndoLog


class LeaseKeeper:
    def __init__(
        self, *, env: str, config: Config, state_dir: Path, run_id: str, undo_log: UndoLog, wait: float
    ) -> None:
        self.env = env
        self.config = config
        self.state_dir = state_dir
        self.run_id = run_id
        self.undo_log = undo_log
        self.wait = wait
        self.lease: Lease | None = None

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if session.config.option.collectonly or not any(
            item.get_closest_marker("drill") is not None for item in session.items
        ):
            return
        try:
            self.lease = self._take(session.config)
        except DrillbookError as exc:
            pytest.exit(f"drillbook: {exc}", returncode=exc.exit_code)
        self.undo_log.observer = self.lease.mirror

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.lease is not None:
            self.undo_log.observer = None
            self.lease.release()
            self.lease = None

    def _take(self, config: pytest.Config) -> Lease:
        backend = lease_for(self.env, self.config, self.state_dir)
        identity = os.environ.get(LEASE_VARIABLE)
        if identity:
            holder = backend.inherited(identity, dict(os.environ))
            if holder is not None and holder.run_id == self.run_id:
                return Lease(backend, holder, owned=False)
        me = LeaseHolder.me(self.run_id)
        return acquire(backend, me, state_dir=self.state_dir, wait=self.wait, say=_say(config))


def _say(config: pytest.Config) -> Any:
    reporter = config.pluginmanager.getplugin("terminalreporter")

    def say(message: str) -> None:
        if reporter is not None:
            reporter.write_line(f"drillbook: {message}", yellow=True)

    return say
