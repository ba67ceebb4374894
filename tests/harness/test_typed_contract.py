"""The typed contract between the engine and the reports, seen from a real drill run by the plugin:
reasons typed by kind, events from one enum and in time order, recovery changes apart from
faults, the run's people and the environment's kind in every record."""

from __future__ import annotations

import pytest

from drillbook.harness import journal, verdict
from drillbook.harness.events import Event, engine_event
from drillbook.harness.records import (
    DrillInfo,
    DrillResult,
    EnvironmentInfo,
    Measured,
    ReasonKind,
    Status,
    Targets,
)
from tests.harness.test_plugin import HEADER, records, run

CHANGE = """
from drillbook.faults.base import Change

class Standby(Change):
    '''Switches the service to a standby; undone at the end.'''
    name = "standby"
    def inject(self):
        state["standby"] = True
    def revert(self):
        state["standby"] = False
    def describe(self):
        return {}
"""


def test_a_drills_record_is_typed(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        CHANGE
        + """
@pytest.mark.drill(scenario="application-crash", tier="monthly", rto="100ms", rpo="1s", severity=3)
def test_flag(drill):
    drill.steady_state(lambda: state["up"])
    fault = drill.inject(Outage())
    with drill.phase("detection & initial response"):
        drill.await_detection(timeout=5)
    with drill.phase("service restoration"):
        drill.apply(Standby())
        time.sleep(0.3)
        drill.heal(fault)
        drill.await_recovery(timeout="5s")
    drill.verify("flag up", lambda: state["up"])
""",
        "--drill-allow-partial",
        "--drill-led-by",
        "Dana Reyes",
        "--drill-participant",
        "Sam Okafor:Database Admin",
        "--drill-participant",
        "Kim Lee (Security Lead)",
    )
    result.assert_outcomes(passed=1)
    (raw,) = records(pytester)
    assert raw["status"] == "PARTIAL"
    (cause,) = raw["causes"]
    assert cause["kind"] == "rto-missed" and cause["target_s"] == 0.1 and cause["measured_s"] > 0.3
    assert raw["reasons"] == [cause["text"]] and cause["text"].startswith("RTO target missed: measured")
    assert [c["name"] for c in raw["changes"]] == ["standby"] and [f["name"] for f in raw["faults"]] == [
        "noop"
    ]
    assert raw["people"] == {
        "led_by": "Dana Reyes",
        "participants": [
            {"name": "Sam Okafor", "role": "Database Admin"},
            {"name": "Kim Lee", "role": "Security Lead"},
        ],
    }
    assert (raw["environment"]["kind"], raw["environment"]["production"]) == ("local", False)
    assert raw["drill"]["recovery_figure"] == "RTO"
    times = [e["t_s"] for e in raw["timeline"]]
    assert times == sorted(times)  # "recovery complete" is dated back, and listed in its place
    events = [e["event"] for e in raw["timeline"]]
    assert all(Event(e) for e in events)  # every event of this drill is the engine's
    assert events.index("recovery complete") < events.index("phase end", events.index("change applied"))
    assert "change reverted" in events
    result = DrillResult.from_dict(raw)
    assert result.causes[0].kind is ReasonKind.RTO_MISSED and result.changes[0].name == "standby"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('drill.note("recovery complete", "")', "that event is written by the engine"),
        ("drill.apply(Outage())", "Outage is not a Change"),
        ("drill.inject(Standby())", "Standby is not a Fault"),
    ],
)
def test_the_contract_is_enforced(pytester: pytest.Pytester, body: str, message: str) -> None:
    result = run(
        pytester,
        CHANGE
        + f"""
@pytest.mark.drill(scenario="flag", tier="monthly", rto="5s")
def test_flag(drill):
    drill.steady_state(lambda: state["up"])
    {body}
""",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*InvalidDrillConfig*{message}*"])


def test_bad_people_are_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_drills=HEADER)
    result = pytester.runpytest("-p", "no:cacheprovider", "--drill-participant", " ")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(['*--participant: a person is "Name (Role)"*'])


def test_engine_events_are_known_by_name() -> None:
    assert engine_event("recovery complete") is Event.RECOVERY_COMPLETE
    assert engine_event("runbook step") is None  # runbooks note their steps
    assert engine_event("restore test declared") is None


def result(**kw: object) -> DrillResult:
    base = DrillResult(
        run_id="r",
        drill=DrillInfo("t::x", "s"),
        environment=EnvironmentInfo("local"),
        targets=Targets(rto_s=10.0, rpo_s=1.0),
        measured=Measured(rto_s=20.0, rpo_s=0.5),
    )
    for key, value in kw.items():
        setattr(base, key, value)
    return base


def test_one_verdict_for_the_drill_and_the_report() -> None:
    missed = verdict.objectives(Measured(rto_s=20.0, rpo_s=2.0), Targets(rto_s=10.0, rpo_s=1.0))
    assert [r.kind for r in missed] == [ReasonKind.RTO_MISSED, ReasonKind.RPO_MISSED]
    assert missed[0].text == "RTO target missed: measured 20.00s > target 10.00s (by 10.00s)"
    assert verdict.judge(missed) is Status.PARTIAL
    assert verdict.judge([*missed, verdict.integrity(2)]) is Status.FAIL
    assert verdict.judge([]) is Status.PASS


def test_older_records_reasons_are_typed_once() -> None:
    texts = [
        "not recovered within 1.50s of the fault",
        "steady state does not hold after revert: api health: HTTP 503",
        "restore did not complete within 30.000s (waited 30.1s); raise the timeout ...",
        "ledger reconciliation failed: timeout",
        "something new",
    ]
    kinds = [c.kind for c in verdict.causes_of(result(reasons=texts))]
    assert kinds == [
        ReasonKind.NOT_RECOVERED,
        ReasonKind.BROKEN_AFTER_REVERT,
        ReasonKind.NOT_RECOVERED,
        ReasonKind.RECONCILIATION_FAILED,
        ReasonKind.OTHER,
    ]
    # a pre-1 record carries no reasons: its figures imply them, worded as the drill words them
    (implied,) = verdict.causes_of(result(schema_version=0))
    assert implied.kind is ReasonKind.RTO_MISSED and implied.measured_s == 20.0


def test_an_older_records_changes_and_lost_ranges_load_typed() -> None:
    data = result().to_dict()
    del data["changes"]
    data["extra"] = {"changes": [{"name": "dns_record", "params": {}}], "lost_seqs": [[3, 5]]}
    loaded = DrillResult.from_dict(data)
    assert [c.name for c in loaded.changes] == ["dns_record"] and loaded.lost_ranges == [(3, 5)]
    with pytest.raises(ValueError, match="not a drill's"):
        DrillResult.from_dict({**data, "kind": "signoff"})


def test_sign_offs_are_left_out_of_the_drill_records(tmp_path: object) -> None:
    from pathlib import Path

    from drillbook.harness.signoff import report_hash, sign

    directory = Path(str(tmp_path))
    journal.append(directory, result(record_id="r-001"))
    pairs = [("r-001", journal.load(directory)[0].hash or "")]
    signoff, _ = sign(directory, run_id="r", role="DR Manager", name="Lee", records=pairs)
    assert signoff.report_hash == report_hash(pairs) and signoff.records == ["r-001"]
    assert [r.record_id for r in journal.load(directory)] == ["r-001"]
    assert journal.verify_chain(directory).ok and len(journal.load_dicts(directory)) == 2
