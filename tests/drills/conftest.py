"""Fixtures of the drill suite's tests: run one drill in a subprocess against the shared
local environment (``local_env``), optionally with its recovery broken on purpose
(``--drill-mutate``, a mutation of tests/drills/mutations.py), and read its journal record."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from drillbook.harness.journal import load_dicts
from tests.local_env import SharedEnv

ROOT = Path(__file__).resolve().parents[2]
#: A broken recovery must fail in seconds, not after twice the RTO.
HARD_TIMEOUT = "25s"

RunDrill = Callable[..., dict[str, Any]]


@pytest.fixture
def run_drill(local_env: SharedEnv, tmp_path: Path) -> RunDrill:
    """``run_drill("drillbook/drills/test_x.py::test_y", mutation="...")``: the drill's journal record.
    ``hard_timeout=None`` leaves the drill its own (a control run that must pass).

    The subprocess attaches to the shared environment (same ``--drill-state-dir``), so
    it neither starts nor stops one; its pytest output is in the assertion message.
    """

    def run(
        nodeid: str,
        *,
        mutation: str | None = None,
        hard_timeout: str | None = HARD_TIMEOUT,
        timeout: float = 300.0,
        **env: str,
    ) -> dict[str, Any]:
        results = tmp_path / f"results-{len(list(tmp_path.iterdir()))}"
        argv = [sys.executable, "-m", "pytest", nodeid, "-p", "no:cacheprovider", "-q",
                "--drill-state-dir", str(local_env.state_dir), "--drill-results", str(results),
                "-p", "tests.drills.mutations",
                # A drill stuck past this prints every thread's stack (seen in the failure).
                "-o", f"faulthandler_timeout={int(timeout * 0.8)}"]
        if hard_timeout is not None:
            argv += ["--drill-hard-timeout", hard_timeout]
        if mutation:
            argv += ["--drill-mutate", mutation]
        environ = {**os.environ, **env}
        try:
            done = subprocess.run(argv, cwd=ROOT, env=environ, capture_output=True, text=True,
                                  timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
            err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr or ""
            pytest.fail(f"drill {nodeid} still running after {timeout:.0f}s\n--- stdout\n{out[-4000:]}"
                        f"\n--- stderr (thread stacks)\n{err[-12000:]}")
        records = load_dicts(results) if results.exists() else []
        assert len(records) == 1, f"expected one journal record, got {len(records)}:\n{done.stdout[-3000:]}"
        record = records[0]
        if mutation:  # a mutation that swapped no step would prove nothing
            assert record["extra"]["mutation"]["applied"], record["extra"]["mutation"]
        record["pytest_exit"] = done.returncode
        record["pytest_output"] = done.stdout[-3000:] + done.stderr[-2000:]
        return record

    return run
