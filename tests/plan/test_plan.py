"""``drillbook plan``: the plan is built from the suite's markers, code and runbooks."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from drillbook.harness.plan import build_plan, collect, render
from drillbook.harness.plan.model import DrillPlan
from drillbook.harness.suite import reference_path

DB_DRILL = '''
import pytest
from drillbook.faults.base import Fault
from drillbook.faults.noop import NoopFault
from drillbook.faults import process_kill
from drillbook.harness.runbook import Runbook, Step


class LocalFault(Fault):
    """A fault the suite defines without registering it."""

    name = "local_fault"
    blast_radius = "the <test> table"
    rollback = "recreate the table"

    def inject(self): pass
    def revert(self): pass
    def describe(self): return {}


RESTORE = Runbook(
    name="Restore from snapshot",
    overview="Restore the latest snapshot into a new instance.",
    prerequisites=("backups readable",),
    steps=[
        Step("assess", "assessment & decision", action=lambda c: None, estimated="5m", role="Database Admin"),
        Step("restore", "DR activation", action=lambda c: None, estimated="40m", role="Database Admin"),
        Step("switch over", "service restoration", action=lambda c: None, estimated="30m"),
    ],
    rollback="point the app back at the old primary",
    expected_phases={"assessment & decision": "15m", "DR activation": "30m"},
)
PITR = Runbook(
    name="Point-in-time recovery",
    overview="Recover to a time before the corruption.",
    steps=[Step("recover", "DR activation", action=lambda c: None)],
)


def break_it(drill):
    return drill.inject(process_kill.ProcessKill(pid=0))


@pytest.fixture
def corrupted(drill):
    drill.inject(LocalFault())


@pytest.mark.drill(scenario="database-corruption", option="snapshot", tier="monthly", severity=1,
                   component="database", description="restore <b>yesterday</b>")
def test_snapshot(drill):
    break_it(drill)
    RESTORE.run(drill, None)


@pytest.mark.drill(scenario="database-corruption", option="pitr", tier="quarterly", component="database",
                   rpo="1m")
def test_pitr(drill, corrupted):
    PITR.run(drill, None)
'''

APP_DRILL = """
from datetime import timedelta

import pytest
from drillbook.faults.noop import NoopFault


PHASE = "service restoration"


@pytest.mark.drill(scenario="application-crash", tier="annual", rto="10m", component="api")
def test_crash(drill):
    drill.inject(NoopFault())
    with drill.phase("detection & initial response", expected="5m"):
        pass
    with drill.phase(PHASE, "20m"):
        pass
    with drill.phase("verification & testing", expected=timedelta(minutes=2)):
        pass


def test_not_a_drill():
    pass
"""

CONFIG = """
[targets.database]
rto = "45m"

[plan]
owner = "Lead DevOps"

[plan.owners]
"database-corruption/pitr" = "DBA Lead"
"""


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    root = tmp_path / "suite"
    root.mkdir()
    (root / "test_database.py").write_text(DB_DRILL)
    (root / "test_app.py").write_text(APP_DRILL)
    (root / "drillbook.toml").write_text(CONFIG)
    return root


def plan_of(suite: Path, schedule: str | None = None) -> DrillPlan:
    return build_plan(collect(suite, schedule=schedule), schedule=schedule, suite=str(suite))


def test_plan_lists_each_drill_with_targets_faults_runbooks_owner_and_risks(suite: Path) -> None:
    plan = plan_of(suite)
    by_id = {d.nodeid.rsplit("::", 1)[-1]: d for d in plan.drills}
    assert sorted(by_id) == ["test_crash", "test_pitr", "test_snapshot"]  # not the plain test
    snap, pitr, crash = by_id["test_snapshot"], by_id["test_pitr"], by_id["test_crash"]

    # Targets and where each comes from: config table, DR procedures table, marker.
    assert (snap.targets.rto_s, snap.targets.rpo_s) == (45 * 60, 5 * 60)
    assert "[targets.database] rto" in (snap.targets.rto_source or "")
    assert snap.targets.rpo_source == "DR procedures, RTO/RPO tables: Database"
    assert (pitr.targets.rpo_s, pitr.targets.rpo_source) == (60, "drill marker")
    assert (crash.targets.rto_s, crash.targets.rto_source) == (600, "drill marker")

    # Faults found through a helper (attribute access) and through a suite fixture.
    assert [f.name for f in snap.faults] == ["process_kill"]
    assert snap.faults[0].registered and snap.faults[0].blast_radius != "unspecified"
    assert [f.name for f in pitr.faults] == ["local_fault"]
    assert not pitr.faults[0].registered and pitr.faults[0].rollback == "recreate the table"
    assert [f.name for f in crash.faults] == ["noop"]

    # Each drill gets the runbook its code runs, with phases expected vs estimated.
    assert [rb.name for rb in snap.runbooks] == ["Restore from snapshot"]
    assert [rb.name for rb in pitr.runbooks] == ["Point-in-time recovery"]
    assert crash.runbooks == []
    # Phases a drill opens itself, with the expected durations its code states.
    assert [(p.name, p.expected_s) for p in crash.phases] == [
        ("detection & initial response", 300.0),
        ("service restoration", 1200.0),
        ("verification & testing", None),  # computed (timedelta(...)): not known without running it
    ]
    assert snap.phases == []  # its phases come from its runbook
    phases = {p.name: (p.expected_s, p.estimated_s) for p in snap.runbooks[0].phases}
    assert phases == {
        "assessment & decision": (900, 300),
        "DR activation": (1800, 2400),
        "service restoration": (None, 1800),
    }
    assert snap.roles == ("Database Admin",)

    # Owners: the most specific [plan.owners] key, else [plan] owner.
    assert (snap.owner, pitr.owner, crash.owner) == ("Lead DevOps", "DBA Lead", "Lead DevOps")

    # Risks a reviewer must weigh.
    assert any("Severity 1" in r for r in snap.risks)
    assert any("estimated at 1h 15m, over the RTO target 45m" in r for r in snap.risks)
    assert any("local_fault is not registered" in r for r in pitr.risks)
    assert any("step(s) without an estimate" in r for r in pitr.risks)
    assert any("has no rollback" in r for r in pitr.risks)
    assert any("no runbook" in r for r in crash.risks)
    assert [s.name for s in plan.scenarios] == ["application-crash", "database-corruption"]


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ("monthly", ["test_snapshot"]),
        ("quarterly", ["test_pitr"]),
        ("annual", ["test_crash", "test_pitr", "test_snapshot"]),
    ],
)
def test_schedule_selects_the_tier_like_drillbook_run(
    suite: Path, schedule: str, expected: list[str]
) -> None:
    plan = plan_of(suite, schedule)
    assert sorted(d.nodeid.rsplit("::", 1)[-1] for d in plan.drills) == expected


def test_markdown_and_html_carry_the_plan_and_html_is_escaped(suite: Path) -> None:
    plan = plan_of(suite)
    md = render(plan, "md")
    for text in (
        "## Scenario: database-corruption",
        "| database-corruption | pitr | quarterly |",
        "Blast radius: the <test> table",
        "**Runbook: Restore from snapshot** (estimated 1h 15m)",
        "| DR activation | 30m | 40m | restore |",
        "Rollback: point the app back at the old primary",
        "Owner: DBA Lead",
        "| service restoration | 20m |",
    ):
        assert text in md, text
    html = render(plan, "html")
    assert "the &lt;test&gt; table" in html and "<test>" not in html
    assert "restore &lt;b&gt;yesterday&lt;/b&gt;" in html
    assert html.count('<section class="drill">') == 3


def test_invalid_marker_and_import_error_are_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "test_bad.py").write_text(
        textwrap.dedent("""
        import pytest

        @pytest.mark.drill(scenario="x", tier="weekly")
        def test_x(drill):
            pass
    """)
    )
    (tmp_path / "test_broken.py").write_text("import does_not_exist_anywhere\n")
    plan = plan_of(tmp_path)
    (bad,) = plan.drills
    assert bad.error is not None and "invalid tier 'weekly'" in bad.error
    assert len(plan.collection_errors) == 1 and "does_not_exist_anywhere" in plan.collection_errors[0]


def test_collecting_twice_does_not_clash_on_module_names(tmp_path: Path) -> None:
    for name, scenario in (("one", "first"), ("two", "second")):
        d = tmp_path / name
        d.mkdir()
        (d / "test_same.py").write_text(
            f"import pytest\n\n@pytest.mark.drill(scenario={scenario!r}, tier='monthly')\n"
            "def test_it(drill):\n    pass\n"
        )
    assert [d.scenario for d in plan_of(tmp_path / "one").drills] == ["first"]
    assert [d.scenario for d in plan_of(tmp_path / "two").drills] == ["second"]
    assert not any(m == "test_same" for m in sys.modules)


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "drillbook", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_cli_writes_markdown_and_html(suite: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = cli(
        "plan",
        "--suite",
        str(suite),
        "--schedule",
        "monthly",
        "--format",
        "md,html",
        "-o",
        str(out),
        cwd=suite,
    )
    assert done.returncode == 0, done.stderr
    md = (out / "drill-plan-monthly.md").read_text()
    assert "# Drill plan: monthly tier" in md and "test_snapshot" in md and "test_pitr" not in md
    assert (out / "drill-plan-monthly.html").read_text().startswith("<!DOCTYPE html>")


def test_cli_prints_markdown_and_fails_on_an_invalid_marker(tmp_path: Path) -> None:
    (tmp_path / "test_bad.py").write_text(
        "import pytest\n\n@pytest.mark.drill(scenario='x', rto='soon')\ndef test_x(drill):\n    pass\n"
    )
    done = cli("plan", "--suite", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 1
    assert "**Invalid marker:**" in done.stdout and "invalid rto 'soon'" in done.stdout
    assert "Traceback" not in done.stderr


def test_cli_rejects_an_unknown_format(suite: Path) -> None:
    done = cli("plan", "--suite", str(suite), "--format", "pdf", cwd=suite)
    assert done.returncode == 2 and "--format 'pdf'" in done.stderr and "Traceback" not in done.stderr


DRILLS = reference_path()


@pytest.mark.skipif(not list(DRILLS.glob("test_*.py")), reason="the drill suite (#5) has no drill files yet")
def test_the_real_drill_suite_has_a_clean_plan() -> None:
    plan = plan_of(DRILLS)
    assert plan.drills and not plan.collection_errors
    assert not [d.nodeid for d in plan.drills if d.error]
    assert all(d.faults for d in plan.drills), [d.nodeid for d in plan.drills if not d.faults]


def test_the_cli_lists_the_renderers_formats() -> None:
    from drillbook.harness.cli import plan as plan_cli
    from drillbook.harness.plan import FORMATS

    assert plan_cli.FORMATS == FORMATS
