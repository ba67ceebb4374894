"""The search on the toy platform: the planted weakness found and shrunk; nothing on the healthy one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from drillbook.faults.network_latency import NetworkLatency
from drillbook.faults.network_partition import NetworkPartition
from drillbook.harness import journal
from drillbook.harness.explore import Explorer, FaultChoice, FaultSpace, NotRecoveredInTime, Target
from drillbook.harness.explore.report import render
from drillbook.harness.explore.run import ExploreRun, Finding
from drillbook.harness.explore.schedule import Schedule, Scheduled
from drillbook.harness.probes import http_probe
from tests.explore.toy import ToyPlatform, toy_target


def _explorer(platform: ToyPlatform, tmp_path: Path, budget_s: float, lines: list[str]) -> Explorer:
    return Explorer(toy_target(platform), state_dir=tmp_path / "state", results_dir=tmp_path / "results",
                    budget_s=budget_s, shrink_s=90.0, seed=1, say=lines.append)


@dataclass
class WeakSearch:
    """One search of the weak toy platform (seed 1), which writes its finding as a drill file."""

    explorer: Explorer
    run: ExploreRun
    lines: list[str]


@pytest.fixture(scope="module")
def weak_search(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WeakSearch]:
    """Shared by the tests that read what the search found: it takes a worker 100 s, and
    they only read its outcome (the files it wrote are copied by whoever changes them)."""
    tmp_path = tmp_path_factory.mktemp("weak-search")
    platform = ToyPlatform(weak=True).start()
    try:
        lines: list[str] = []
        explorer = _explorer(platform, tmp_path, 120.0, lines)
        explorer.found_dir = tmp_path / "project" / "drills" / "found"
        yield WeakSearch(explorer, explorer.run(), lines)
    finally:
        platform.stop()


def test_the_weakness_is_found_and_shrunk_to_its_two_faults(weak_search: WeakSearch) -> None:
    run, lines = weak_search.run, weak_search.lines
    assert run.findings, "\n".join(lines)
    found = run.findings[0]
    assert found.invariant == NotRecoveredInTime.invariant
    faults = sorted(f.fault for f in found.schedule.faults)
    assert faults == ["network_latency toy-cache", "network_partition toy-store"], found.schedule.text()
    # every example is a drill of its own, with its own journal record
    assert weak_search.explorer.results_dir is not None
    records = journal.record_files(weak_search.explorer.results_dir)
    assert len(records) == len(run.examples) >= 2
    assert len({p.name for p in records}) == len(records)
    assert any("shrink" in line for line in lines)
    report = render(run)
    for part in ("# DR Test Report: exploration of toy", "Schedules tried: ", "Distinct failures: 1",
                 "### Failure 1: recovery within the RTO", "network_partition toy-store", "| RTO"):
        assert part in report


def test_the_healthy_platform_keeps_every_invariant(healthy_toy: ToyPlatform, tmp_path: Path) -> None:
    lines: list[str] = []
    run = _explorer(healthy_toy, tmp_path, 25.0, lines).run()
    assert not run.findings, "\n".join(lines)
    assert len(run.examples) >= 3



def test_each_distinct_schedule_is_played_once(healthy_toy: ToyPlatform, tmp_path: Path) -> None:
    """A space of three schedules: Hypothesis draws them again (distinct draws that build the
    same schedule), and every draw after the first gets the verdict without a drill."""
    assert healthy_toy.toxiproxy is not None
    api = healthy_toy.toxiproxy.url
    space = FaultSpace(
        (FaultChoice("network_partition toy-store", lambda p: NetworkPartition(api, "toy-store")),
         FaultChoice("network_latency toy-cache", lambda p: NetworkLatency(api, "toy-cache", 100))),
        max_faults=2, max_concurrent=2, horizon_s=0, min_duration_s=0.3, max_duration_s=0.3,
    )
    target = Target("three", space, lambda: [http_probe(healthy_toy.url + "/health", timeout=2.0)], rto_s=1.5)
    lines: list[str] = []
    run = Explorer(target, state_dir=tmp_path / "state", results_dir=None, budget_s=30.0, seed=1,
                   say=lines.append).run()
    keys = [example.schedule.key() for example in run.examples]
    assert len(keys) == len(set(keys)) == 3, "\n".join(lines)
    assert run.reused >= 1 and any("not played again" in line for line in lines), "\n".join(lines)
    assert not run.findings


CONFTEST = """
import pytest
from tests.explore.toy import ToyPlatform

@pytest.fixture
def toy_platform():
    platform = ToyPlatform(weak={weak}).start()
    yield platform
    platform.stop()
"""


def test_the_minimal_schedule_is_a_drill_file_that_fails_on_the_weak_platform_only(
    weak_search: WeakSearch, tmp_path: Path
) -> None:
    run, found_dir = weak_search.run, weak_search.explorer.found_dir
    assert run.findings and run.findings[0].drill_file is not None, "\n".join(weak_search.lines)
    written = run.findings[0].drill_file
    assert found_dir is not None and written.parent == found_dir and written.name.startswith("test_")
    # a copy of the project, so that the conftest written below is this test's alone
    project = tmp_path / "found"
    shutil.copytree(found_dir, project)
    root = Path(__file__).resolve().parents[2]
    for weak, code in ((True, 1), (False, 0)):
        (project / "conftest.py").write_text(CONFTEST.format(weak=weak))
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", written.name],
            cwd=project, env={**os.environ, "PYTHONPATH": str(root)}, capture_output=True,
            text=True, timeout=120,
        )
        assert done.returncode == code, done.stdout[-3000:] + done.stderr[-2000:]


def test_the_reduce_pass_drops_a_fault_that_adds_nothing(weak_toy: ToyPlatform, tmp_path: Path) -> None:
    """What Hypothesis's shrinking leaves when its time runs out: a fault the failure does not need.
    The pass after it replays the schedule without each fault and keeps the smaller that fails."""
    explorer = _explorer(weak_toy, tmp_path, 60.0, [])
    three = Schedule((
        Scheduled("network_latency toy-cache", {"latency_ms": 600}, 0.0, 0.8),
        Scheduled("network_latency toy-store", {"latency_ms": 100}, 0.0, 0.3),
        Scheduled("network_partition toy-store", {}, 0.2, 0.6),
    ))
    run = ExploreRun("toy", 1, 60.0, "now")
    failure = explorer._try(run, three, "search")
    assert failure is not None, "the three-fault schedule must fail on the weak platform"
    found = explorer._reduced(run, Finding(failure.invariant, failure.detail, three, failure.result), {})
    assert sorted(f.fault for f in found.schedule.faults) == ["network_latency toy-cache",
                                                              "network_partition toy-store"]
    assert found.invariant == NotRecoveredInTime.invariant
    assert "reduce" in {e.stage for e in run.examples}
