"""Mutations break a recovery from the test side: a test plugin registers them, ``--drill-mutate``
swaps one into the runbook, and the record says so."""

from __future__ import annotations

import pytest

from drillbook.harness import journal

PLUGIN = """
from drillbook.harness.mutation import Mutation, register

def pytest_configure(config):
    register(config, Mutation("skip-fix", ("fix",), lambda ctx, original: "MUTATION: not fixed"),
             Mutation("half-fix", ("fix",), lambda ctx, original: (original(ctx), ctx.update(half=True))))
"""

DRILL = """
import pytest
from drillbook.harness.runbook import Runbook, Step

state = {"up": True}

def fix(ctx):
    state["up"] = True
    return "fixed"

RUNBOOK = Runbook(name="fix it", overview="fix it", steps=[
    Step("fix", "service restoration", fix),
    Step("check", "verification & testing", lambda ctx: ctx["drill"].verify("up", state["up"])),
])

@pytest.mark.drill(scenario="flag", tier="monthly", rto="5s", rpo="1s")
def test_flag(drill):
    drill.steady_state(lambda: True)
    state["up"] = False
    ctx = {"drill": drill}
    RUNBOOK.run(drill, ctx)
    drill.extra["half"] = ctx.get("half", False)
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    pytester.makepyfile(mutations_plugin=PLUGIN, test_flag=DRILL)
    pytester.syspathinsert()
    return pytester.runpytest("-p", "no:cacheprovider", "--drill-quiet", "-p", "mutations_plugin", *args)


def test_without_the_option_the_runbook_runs_as_written(pytester: pytest.Pytester) -> None:
    run(pytester).assert_outcomes(passed=1)
    (record,) = journal.load_dicts(pytester.path / "drill-results")
    assert record["status"] == "PASS" and "mutation" not in record["extra"]


def test_a_swapped_step_breaks_the_recovery_and_the_record_says_so(pytester: pytest.Pytester) -> None:
    run(pytester, "--drill-mutate", "skip-fix").assert_outcomes(failed=1)
    (record,) = journal.load_dicts(pytester.path / "drill-results")
    assert record["status"] == "FAIL"
    assert record["extra"]["mutation"] == {"name": "skip-fix", "steps": ["fix"], "applied": True}
    assert any(e["event"] == "runbook step mutated" and "skip-fix" in e["detail"] for e in record["timeline"])


def test_a_mutation_may_run_the_original_step(pytester: pytest.Pytester) -> None:
    run(pytester, "--drill-mutate", "half-fix").assert_outcomes(passed=1)
    (record,) = journal.load_dicts(pytester.path / "drill-results")
    assert record["extra"]["half"] is True and record["extra"]["mutation"]["applied"]


def test_an_unknown_mutation_is_a_usage_error_listing_the_known(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--drill-mutate", "skip-everything")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--drill-mutate 'skip-everything' is not a registered mutation; "
                                 "known: half-fix, skip-fix*"])
