"""Running reference drills on the twin through the staging profile ``drillbook env profile``
prints (issue 14: a local run and a staging run make the same calls)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from drillbook.harness import journal
from drillbook.harness.suite import reference_path
from tests.local_env import SharedEnv

ROOT = Path(__file__).resolve().parents[2]
DRILLS = reference_path()


def run_on_profile(local_env: SharedEnv, tmp_path: Path, *drill_files: str, timeout: float = 400.0,
                   grant: Sequence[str] = (), args: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Write the twin's profile as ``twin`` (with the capabilities ``grant``) and run
    ``drill_files`` (every drill when none) with ``--drill-env twin`` and ``args``; the
    journal's records, each asserted PASS on the staging environment ``twin``."""
    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "drillbook", "env", "profile", "--state-dir", str(local_env.state_dir),
         "--name", "twin", *(a for g in grant for a in ("--grant", g))], cwd=tmp_path, env=environ, text=True,
        capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    (tmp_path / "drillbook.toml").write_text(done.stdout)
    ini = tmp_path / "pytest.ini"
    ini.write_text("[pytest]\n")
    targets = [str(DRILLS / f) for f in drill_files] or [str(DRILLS)]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", *targets, "-c", str(ini), "--rootdir", str(tmp_path),
         "-p", "no:cacheprovider", "-q", "-rs", "--drill-env", "twin", "--drill-state-dir",
         str(tmp_path / "state"), "-W", "ignore::UserWarning", *args],
        cwd=tmp_path, env=environ, text=True, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    (tmp_path / "pytest-output.txt").write_text(run.stdout)
    records = journal.load_dicts(tmp_path / "drill-results")
    assert records
    for record in records:
        assert record["status"] == "PASS", record
        assert record["environment"]["kind"] == "staging" and record["environment"]["name"] == "twin"
    return records
