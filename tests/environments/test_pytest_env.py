"""The session-scoped ``env`` fixture: up once for the session, down at its end."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from drillbook.harness import procs
from drillbook.twin import processes
from drillbook.twin.state import StateFile
from tests.twin.dataplane_support import server_tmp

INNER = """
import json, os
from pathlib import Path
from drillbook.twin import processes

def record(env, name):
    rec = env.twin.state.read()  # the environment named local: the drivers on the twin
    pids = [processes.current(p)[0] for p in rec.processes.values()]
    pids += [int((Path(c.datadir) / "postmaster.pid").read_text().split()[0]) for c in rec.clusters.values()]
    ports = [p.port for p in rec.processes.values() if p.port] + [c.port for c in rec.clusters.values()]
    labels = [rec.label, rec.facts["app_label"]]
    pids += [pid for label in labels for pid in processes.labelled(label)]
    Path(name).write_text(json.dumps({"id": id(env), "pids": sorted(pids), "ports": ports, "labels": labels}))

def test_one(env):
    assert env.is_up() and env.database.running()
    record(env, "first.json")

def test_two(env):
    assert env.cache.ping()
    record(env, "second.json")
"""


@pytest.fixture
def state_root() -> Iterator[Path]:
    """Outside pytest's temporary directories, which each inner session makes 0700 again."""
    with server_tmp("pytest-env") as root:
        yield root


def test_the_env_fixture_is_up_for_the_whole_session_and_down_after(pytester: pytest.Pytester,
                                                                      state_root: Path) -> None:
    pytester.makepyfile(test_inner=INNER)
    state_dir = state_root / "state"
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--drill-state-dir", str(state_dir),
                                           timeout=300)
    result.assert_outcomes(passed=2)
    first = json.loads((pytester.path / "first.json").read_text())
    second = json.loads((pytester.path / "second.json").read_text())
    assert first == second  # one environment for the session
    assert [pid for pid in first["pids"] if procs.alive(pid)] == []
    assert processes.listening(first["ports"]) == []
    assert all(processes.labelled(label) == [] for label in first["labels"])
    record = StateFile(state_dir / "local").read()
    assert record is not None and record.phase == "down"
    result.stdout.fnmatch_lines(["*env: *primary: initdb with data checksums*"])


def test_an_environment_already_up_is_used_and_left_running(pytester: pytest.Pytester,
                                                             state_root: Path) -> None:
    from drillbook.twin.environment import LocalEnvironment

    state_dir = state_root / "state"
    outer = LocalEnvironment(state_dir / "local")
    outer.up()
    try:
        pytester.makepyfile(
            test_inner="def test_up(env):\n    assert env.is_up() and not env.twin.started_here\n")
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--drill-state-dir", str(state_dir),
                                               timeout=300)
        result.assert_outcomes(passed=1)
        assert outer.is_up()
    finally:
        assert outer.down().clean
