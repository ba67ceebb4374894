"""The plugin seen from pytest: marker, fixture, statuses, JUnit, summary, tiers."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from drillbook.harness import journal

HEADER = """
import time, pytest
from drillbook.faults.noop import NoopFault
from drillbook import InMemoryLedgerStore

state = {"up": True}

class Outage(NoopFault):
    '''Flips a flag off; revert flips it on.'''
    def inject(self):
        state["up"] = False
    def revert(self):
        state["up"] = True
"""


def run(pytester: pytest.Pytester, body: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_drills=HEADER + body)
    return pytester.runpytest("-p", "no:cacheprovider", "--drill-quiet", *args)


def records(pytester: pytest.Pytester) -> list[dict[str, object]]:
    return journal.load_dicts(pytester.path / "drill-results")


def test_marker_is_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.drill(scenario, tier=*rto=*rpo=*"])


def test_pass_records_measured_rto_and_rpo(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
@pytest.mark.drill(scenario="flag", tier="monthly", rto="5s", rpo="1s", component="api")
def test_flag(drill):
    drill.steady_state(lambda: state["up"])
    ledger = drill.ledger(InMemoryLedgerStore())
    assert ledger.wait_for_acks(3)
    fault = drill.inject(Outage())
    with drill.phase("detection & initial response", expected="5s"):
        drill.await_detection(timeout=5)
    time.sleep(0.3)
    with drill.phase("service restoration"):
        drill.heal(fault)
    drill.await_recovery()
    drill.verify("flag up", lambda: state["up"])
""",
    )
    result.assert_outcomes(passed=1)
    (rec,) = records(pytester)
    assert rec["status"] == "PASS"
    measured = rec["measured"]
    assert 0.3 <= measured["rto_s"] < 2.0
    assert measured["rpo_s"] == 0.0 and measured["lost_writes"] == 0 and measured["acked_writes"] >= 3
    assert measured["detect_s"] is not None and measured["detect_s"] < measured["rto_s"]
    assert [p["name"] for p in rec["phases"]] == ["detection & initial response", "service restoration"]
    assert rec["faults"][0]["reverted_at"] is not None
    assert rec["targets"] == {
        "rto_s": 5.0,
        "rpo_s": 1.0,
        "rto_source": "drill marker",
        "rpo_source": "drill marker",
    }
    events = [e["event"] for e in rec["timeline"]]
    for expected in ("test start", "fault injected", "issue detected", "recovery complete", "test end"):
        assert expected in events


def test_missed_rto_is_partial_and_fails_unless_allowed(pytester: pytest.Pytester) -> None:
    body = """
@pytest.mark.drill(scenario="slow", tier="monthly", rto="100ms", rpo="0")
def test_slow(drill):
    drill.steady_state(lambda: state["up"])
    fault = drill.inject(Outage())
    time.sleep(0.4)
    drill.heal(fault)
    drill.await_recovery(timeout="5s")
"""
    result = run(pytester, body)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*DrillFailed: drill PARTIAL: RTO target missed: measured * > target 100ms*"]
    )
    result = run(pytester, body, "--drill-allow-partial")
    result.assert_outcomes(passed=1)
    assert [r["status"] for r in records(pytester)] == ["PARTIAL", "PARTIAL"]


def test_no_recovery_within_the_hard_timeout_is_fail(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
@pytest.mark.drill(scenario="never", tier="monthly", rto="1s")
def test_never(drill):
    drill.steady_state(lambda: state["up"])
    drill.inject(Outage())
    drill.await_recovery(timeout="0.5s")
""",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*RecoveryTimeout*"])
    (rec,) = records(pytester)
    assert rec["status"] == "FAIL" and rec["measured"]["rto_s"] is None
    assert any("not recovered" in r for r in rec["reasons"])
    assert rec["faults"][0]["reverted_at"] is not None  # reverted anyway


def test_steady_state_not_met_injects_nothing(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
@pytest.mark.drill(scenario="broken", tier="monthly")
def test_broken(drill):
    drill.steady_state(lambda: (False, "database down"))
    drill.inject(Outage())
""",
    )
    result.assert_outcomes(failed=1)
    (rec,) = records(pytester)
    assert rec["status"] == "FAIL" and rec["faults"] == []
    assert "database down" in rec["reasons"][0]


def test_failed_verification_is_fail(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
@pytest.mark.drill(scenario="verify", tier="monthly")
def test_verify(drill):
    drill.steady_state(lambda: True)
    drill.inject(NoopFault())
    drill.await_recovery(timeout="2s")
    drill.verify("rows match", lambda: (False, "41 != 42"))
""",
    )
    result.assert_outcomes(failed=1)
    (rec,) = records(pytester)
    assert rec["status"] == "FAIL"
    assert rec["reasons"] == ["verification failed: rows match (41 != 42)"]


def test_an_exception_fails_the_drill_and_still_reverts(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
@pytest.mark.drill(scenario="boom", tier="monthly")
def test_boom(drill):
    drill.steady_state(lambda: state["up"])
    drill.inject(Outage())
    raise RuntimeError("runbook step exploded")

def test_after():
    assert state["up"], "the fault must have been reverted"
""",
    )
    result.assert_outcomes(failed=1, passed=1)
    (rec,) = records(pytester)
    assert rec["status"] == "FAIL" and "runbook step exploded" in rec["reasons"][0]


def test_a_skip_before_acting_is_no_drill_and_a_skip_after_is_reverted_on_the_record(
    pytester: pytest.Pytester,
) -> None:
    """``pytest.skip`` in a drill's body: before any fault, as a fixture's skip (no record);
    after one, the fault is reverted and the record says the drill did not finish."""
    result = run(
        pytester,
        """
@pytest.mark.drill(scenario="not here", tier="monthly")
def test_early(drill):
    drill.steady_state(lambda: state["up"])
    pytest.skip("this platform has no standby")

@pytest.mark.drill(scenario="half-way", tier="monthly")
def test_late(drill):
    drill.steady_state(lambda: state["up"])
    drill.inject(Outage())
    pytest.skip("the runbook's next step needs a standby")

def test_after():
    assert state["up"], "the fault must have been reverted"
""",
    )
    result.assert_outcomes(skipped=2, passed=1)
    (rec,) = records(pytester)
    assert rec["drill"]["scenario"] == "half-way" and rec["status"] == "FAIL", rec
    assert "needs a standby" in rec["reasons"][0]


def test_a_failed_revert_fails_loudly_and_stays_in_the_undo_log(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
class Sticky(NoopFault):
    '''Cannot be reverted.'''
    name = "sticky"
    def revert(self):
        raise OSError("device busy")

@pytest.mark.drill(scenario="sticky", tier="monthly")
def test_sticky(drill):
    drill.steady_state(lambda: True)
    drill.inject(Sticky())
    drill.await_recovery(timeout="2s")
""",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*revert failed: sticky: OSError: device busy*"])
    (log,) = (pytester.path / ".drillbook" / "undo").glob("*.jsonl")
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert lines[-1]["op"] == "failed" and lines[1]["name"] == "sticky" and lines[1]["registered"] is False


def test_junit_properties_and_summary_table(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
@pytest.mark.drill(scenario="junit", tier="quarterly", rto="10s", rpo="1m")
def test_junit(drill):
    drill.steady_state(lambda: state["up"])
    fault = drill.inject(Outage())
    drill.heal(fault)
    drill.await_recovery()
""",
        "--junitxml=out.xml",
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*drillbook summary*",
            "scenario*option*tier*RTO target*RTO measured*RPO target*RPO measured*status*",
            "junit*quarterly*10.00s*1m*PASS*",
        ]
    )
    case = ET.parse(pytester.path / "out.xml").getroot().find(".//testcase")
    assert case is not None
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["status"] == "PASS" and float(props["rto_s"]) >= 0 and props["rpo_s"] == ""


def test_tier_selection(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_tiers="""
import pytest
@pytest.mark.drill(scenario="a", tier="monthly")
def test_monthly(): pass
@pytest.mark.drill(scenario="b", tier="quarterly")
def test_quarterly(): pass
@pytest.mark.drill(scenario="c", tier="annual")
def test_annual(): pass
"""
    )
    pytester.runpytest("--drill-tier", "monthly").assert_outcomes(passed=1, deselected=2)
    pytester.runpytest("--drill-tier", "quarterly").assert_outcomes(passed=1, deselected=2)
    pytester.runpytest("--drill-tier", "annual").assert_outcomes(passed=3)
    assert pytester.runpytest("--drill-tier", "weekly").ret == pytest.ExitCode.USAGE_ERROR


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ('scenario="x", rto="soon"', "invalid rto 'soon': use one of*2h30m*"),
        ('scenario="x", tier="daily"', "invalid tier 'daily': use one of monthly, quarterly, annual"),
        ('scenario="x", owner="bob"', "unknown drill marker argument(s) owner; accepted: scenario*"),
        ('scenario="x", severity=5', "invalid severity 5: use 1, 2 or 3"),
        ('tier="monthly"', "drill marker needs scenario=*"),
    ],
)
def test_bad_marker_input_is_a_clear_error(pytester: pytest.Pytester, marker: str, message: str) -> None:
    result = run(
        pytester,
        f"""
@pytest.mark.drill({marker})
def test_bad(drill):
    pass
""",
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*InvalidDrillConfig: *{message}"])
    result.stdout.no_fnmatch_line("*harness/marker.py*")  # no traceback from our internals


def test_targets_default_from_config_then_dr_procedures(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", drillbook='[targets.cache]\nrto = "10m"\n')
    result = run(
        pytester,
        """
@pytest.mark.drill(scenario="db", tier="monthly", component="database")
def test_db(drill):
    drill.steady_state(lambda: True)

@pytest.mark.drill(scenario="cache", tier="monthly", component="cache")
def test_cache(drill):
    drill.steady_state(lambda: True)
""",
    )
    result.assert_outcomes(passed=2)
    db, cache = records(pytester)
    assert db["targets"]["rto_s"] == 3600 and db["targets"]["rpo_s"] == 300
    assert db["targets"]["rto_source"] == "DR procedures, RTO/RPO tables: Database"
    assert (
        cache["targets"]["rto_s"] == 600
        and "drillbook.toml [targets.cache] rto" in cache["targets"]["rto_source"]
    )
    assert cache["targets"]["rpo_s"] is None  # "acceptable loss" is no objective


def test_secrets_never_reach_the_journal(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
@pytest.mark.drill(scenario="secret", tier="monthly")
def test_secret(drill):
    drill.steady_state(lambda: True)
    drill.note("connected", "postgresql://app:hunter22@db:5432/x")
    drill.verify("login", lambda: (False, "token=abcdef123456 rejected"))
""",
    )
    result.assert_outcomes(failed=1)
    text = next((pytester.path / "drill-results").glob("*.json")).read_text()
    assert "hunter22" not in text and "abcdef123456" not in text


def test_journal_chain_across_runs(pytester: pytest.Pytester) -> None:
    body = """
@pytest.mark.drill(scenario="chain", tier="monthly")
def test_chain(drill):
    drill.steady_state(lambda: True)
"""
    run(pytester, body)
    run(pytester, body)
    recs = records(pytester)
    assert len(recs) == 2 and recs[1]["prev_hash"] == recs[0]["hash"] and recs[0]["prev_hash"] is None
    assert journal.verify_chain(Path(pytester.path / "drill-results")).ok


def test_faults_revert_newest_first(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
order = []

class Named(NoopFault):
    '''Records when it is reverted.'''
    def revert(self):
        order.append(self.label)

@pytest.mark.drill(scenario="order", tier="monthly")
def test_order(drill):
    drill.steady_state(lambda: True)
    for label in ("first", "second", "third"):
        drill.inject(Named(label))
    drill.await_recovery(timeout="2s")

def test_then():
    assert order == ["third", "second", "first"]
""")
    result.assert_outcomes(passed=2)


def test_slow_reverts_settle_before_the_after_revert_check(pytester: pytest.Pytester) -> None:
    # A revert that starts a rollout returns at once; the old replicas still answer, so a
    # steady-state check right after the reverts would pass before the rollout began.
    result = run(pytester, """
import threading
calls = []
rollout = {"done": True}

class Rollback(NoopFault):
    '''Its revert starts a rollout that ends 0.3 s later; settle waits for it.'''
    def revert(self):
        calls.append("revert")
        rollout["done"] = False
        threading.Timer(0.3, rollout.update, kwargs={"done": True}).start()
    def settle(self, timeout):
        calls.append("settle")
        deadline = time.monotonic() + timeout
        while not rollout["done"] and time.monotonic() < deadline:
            time.sleep(0.02)

def steady():
    calls.append("check")
    return True

@pytest.mark.drill(scenario="settle", tier="monthly")
def test_rollback(drill):
    drill.steady_state(steady)
    drill.inject(Rollback("a"))
    drill.inject(Rollback("b"))
    drill.await_recovery(timeout="2s")
    calls.clear()

def test_then():
    assert calls[:4] == ["revert", "revert", "settle", "settle"], calls
    assert calls[4] == "check" and rollout["done"]
""")
    result.assert_outcomes(passed=2)
    events = [e["event"] for e in records(pytester)[0]["timeline"]]  # type: ignore[union-attr]
    assert events.index("steady state holds after revert") > max(
        i for i, e in enumerate(events) if e == "fault reverted"
    )


def test_a_revert_that_does_not_settle_fails_the_drill(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
class Stuck(NoopFault):
    '''Its rollout never completes.'''
    name = "stuck"
    def settle(self, timeout):
        raise TimeoutError("rollout 2/3 ready after 60s")

@pytest.mark.drill(scenario="stuck", tier="monthly")
def test_stuck(drill):
    drill.steady_state(lambda: True)
    drill.inject(Stuck())
    drill.await_recovery(timeout="2s")
""")
    result.assert_outcomes(failed=1)
    (rec,) = records(pytester)
    assert rec["status"] == "FAIL"
    assert "revert did not settle: stuck: TimeoutError: rollout 2/3 ready after 60s" in rec["reasons"]
