"""A real drill run by the plugin, then reported: every figure is the journal's."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from drillbook.harness import journal
from drillbook.reports import journals, model, render
from drillbook.reports.options import ReportOptions

DRILL = """
import time, pytest
from drillbook.faults.noop import NoopFault
from drillbook import InMemoryLedgerStore
from drillbook.harness.drill import DETECTION, RESTORATION

state = {"up": True}

class Outage(NoopFault):
    '''Flips a flag off; revert flips it on.'''
    def inject(self):
        state["up"] = False
    def revert(self):
        state["up"] = True

@pytest.mark.drill(scenario="application-crash", tier="monthly", rto="150ms", rpo="1s", component="api")
def test_outage(drill):
    drill.steady_state(lambda: state["up"])
    ledger = drill.ledger(InMemoryLedgerStore())
    assert ledger.wait_for_acks(3)
    fault = drill.inject(Outage())
    with drill.phase(DETECTION, expected="1s"):
        drill.await_detection(timeout=5)
    with drill.phase(RESTORATION, expected="100ms"):
        time.sleep(0.3)
        drill.heal(fault)
        drill.await_recovery(timeout="5s")
    drill.verify("flag up", lambda: state["up"])
"""


def test_a_real_drill_reported(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_drill=DRILL)
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--drill-quiet", "--drill-allow-partial", "--drill-run-id", "e2e-run"
    )
    result.assert_outcomes(passed=1)
    results = pytester.path / "drill-results"
    (raw,) = journal.load_dicts(results)
    report = model.build_run(
        journals.run_records(results), ReportOptions(), generated_at=datetime.now(UTC), generator="test"
    )
    (d,) = report.drills
    assert report.run_id == "e2e-run" and d.status == raw["status"] == "PARTIAL"
    assert (
        d.rto.measured_s == raw["measured"]["rto_s"]
        and d.rto.measured_s is not None
        and d.rto.measured_s > 0.3
    )
    assert d.rpo.measured_s == raw["measured"]["rpo_s"] == 0.0
    assert d.ledger.acked == raw["measured"]["acked_writes"] >= 3
    assert d.evidence.record_hash == raw["hash"] and d.evidence.chain_verified
    assert [i.kind for i in d.issues][:1] == ["rto-missed"]
    assert any(i.kind == "phase-over" for i in d.issues)
    body = json.loads(render.run_json(report))
    assert body["drills"][0]["rto"]["measured_s"] == raw["measured"]["rto_s"]
