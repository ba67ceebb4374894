"""A project of a user's own: its own ``harness/``, ``reports/`` and ``drills/`` packages never
collide with drillbook, and ``drillbook run`` there runs that project's drills."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

DRILL = '''
import pytest

from drillbook import Fault, InMemoryLedgerStore, Probe
from harness import HELPER          # the project's own harness package
from reports import summary         # the project's own reports package


class Flag(Fault):
    """A flag set by the fault and cleared by its revert."""

    name = "project_flag"
    state = {"up": True}

    def inject(self) -> None:
        self.state["up"] = False

    def revert(self) -> None:
        self.state["up"] = True

    def describe(self) -> dict:
        return {}


@pytest.mark.drill(scenario="own project drill", tier="monthly", rto="30s", rpo="0", severity=3)
def test_own_project_drill(drill):
    assert HELPER == "the project's own" and summary() == "own reports"
    up = Probe("flag up", lambda: (Flag.state["up"], str(Flag.state)))
    drill.steady_state(up)
    drill.ledger(InMemoryLedgerStore())
    fault = drill.inject(Flag())
    drill.await_detection(timeout=5)
    drill.heal(fault)
    drill.await_recovery()
    drill.verify("flag up", up)
'''


def make_project(root: Path) -> Path:
    (root / "harness").mkdir(parents=True)
    (root / "harness" / "__init__.py").write_text('HELPER = "the project\'s own"\n')
    (root / "reports").mkdir()
    (root / "reports" / "__init__.py").write_text('def summary():\n    return "own reports"\n')
    (root / "drills").mkdir()
    (root / "drills" / "__init__.py").write_text("")
    (root / "drills" / "test_own.py").write_text(DRILL)
    (root / "conftest.py").write_text("")  # rootdir on sys.path: the project's packages import
    return root


def run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DRILLBOOK_"))}
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "project")


def test_the_projects_drill_passes_under_plain_pytest(project: Path) -> None:
    done = run([sys.executable, "-m", "pytest", "drills", "-q", "-p", "no:cacheprovider"], project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_drillbook_run_runs_the_projects_own_drills_not_the_reference_suite(project: Path) -> None:
    done = run([sys.executable, "-m", "drillbook", "run"], project)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "drills/test_own.py::test_own_project_drill PASSED" in out
    assert "own project drill" in out and "PASS" in out
    assert "reference suite" not in out
    assert "test_backup_verification" not in out


def test_a_configured_suite_wins_over_drills(project: Path) -> None:
    (project / "dr").mkdir()
    (project / "dr" / "test_other.py").write_text(DRILL.replace("test_own_project_drill", "test_configured"))
    (project / "drillbook.toml").write_text('suite = "dr"\n')
    done = run([sys.executable, "-m", "drillbook", "run"], project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "dr/test_other.py::test_configured PASSED" in done.stdout
    assert "test_own_project_drill" not in done.stdout


def test_a_configured_suite_that_does_not_exist_is_named(project: Path) -> None:
    (project / "drillbook.toml").write_text('suite = "nowhere"\n')
    done = run([sys.executable, "-m", "drillbook", "run"], project)
    assert done.returncode == 2
    assert "suite = 'nowhere'" in done.stderr and "does not exist" in done.stderr
    assert "Traceback" not in done.stderr


def test_without_a_suite_the_reference_suite_is_named_as_such(tmp_path: Path) -> None:
    # --collect-only: the point is which suite is chosen and that it says so.
    done = run([sys.executable, "-m", "drillbook", "run", "--", "--collect-only", "-q"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if "reference suite" in line]
    assert len(lines) == 1 and "--suite PATH" in lines[0] and "drillbook init" in lines[0]
    assert "test_backup_verification.py" in done.stdout


def test_suite_reference_runs_the_reference_suite_even_with_drills_here(project: Path) -> None:
    done = run(
        [sys.executable, "-m", "drillbook", "run", "--suite", "reference", "--", "--collect-only", "-q"],
        project,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "test_backup_verification" in done.stdout and "test_own" not in done.stdout


def test_the_reference_suite_runs_with_the_projects_own_profiles(tmp_path: Path) -> None:
    """The reference suite's checkout has a drillbook.toml of its own; a run from the project
    uses the project's (its environment profiles), not that one."""
    (tmp_path / "drillbook.toml").write_text(
        'suite = "reference"\n[environments.ours]\ndriver = "staging"\n'
        '[environments.ours.database]\nurl = "postgresql://drills@127.0.0.1:1/app"\n'
    )
    done = run([sys.executable, "-m", "drillbook", "run", "--env", "ours", "--", "--collect-only", "-q"],
               tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "unknown environment" not in done.stdout + done.stderr
    assert "test_backup_verification" in done.stdout


def test_nothing_but_drillbook_is_importable_at_top_level(tmp_path: Path) -> None:
    code = (
        "import importlib.util as u\n"
        "print(sorted(n for n in ('harness', 'reports', 'drills', 'fault_injectors', 'drillbook') "
        "if u.find_spec(n)))"
    )
    # The installed distribution as a user has it: no PYTHONPATH pointing into a checkout.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.strip() == "['drillbook']", done.stdout + done.stderr


def test_a_plain_drillbook_run_prints_no_config_warnings(project: Path) -> None:
    done = run([sys.executable, "-m", "drillbook", "run"], project)
    assert done.returncode == 0
    assert "PytestConfigWarning" not in done.stdout + done.stderr
    assert "Unknown config option" not in done.stdout + done.stderr
