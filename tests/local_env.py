"""One whole local environment shared by the tests that need the reference platform
(change contract cases, drill mutation tests, tier runs). Started on first use, stopped
when the test session ends."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from drillbook.twin.environment import LocalEnvironment


@dataclass
class SharedEnv:
    env: LocalEnvironment
    #: The drillbook state directory (``--drill-state-dir``); the environment lives in ``local/``.
    state_dir: Path

    def where(self) -> dict[str, str]:
        return {"env_name": "local", "state_dir": str(self.state_dir)}


_KEY = pytest.StashKey[SharedEnv]()


def shared_local_env(config: pytest.Config) -> SharedEnv:
    if _KEY not in config.stash:
        # Outside pytest's temp root: the database user must traverse every ancestor.
        base = Path(tempfile.mkdtemp(prefix="drillbook-env-", dir="/tmp"))
        base.chmod(0o755)
        state_dir = base / ".drillbook"
        env = LocalEnvironment(state_dir / "local")
        config.add_cleanup(lambda: shutil.rmtree(base, ignore_errors=True))
        config.add_cleanup(lambda: _down(env))
        env.up()
        config.stash[_KEY] = SharedEnv(env, state_dir)
    return config.stash[_KEY]


def _down(env: LocalEnvironment) -> None:
    env.down()
