"""The journal record's ``calls``: typed, round-trips, absent in older records, checked on load."""

from __future__ import annotations

import pytest

from drillbook.harness.records import ControlCall, DrillInfo, DrillResult, EnvironmentInfo


def _record() -> DrillResult:
    return DrillResult(
        run_id="r", drill=DrillInfo(nodeid="t.py::t", scenario="s"), environment=EnvironmentInfo("staging"),
        calls=[ControlCall("rds", "StopDBInstance", "rds:StopDBInstance", {"DBInstanceIdentifier": "db-1"},
                           request_id="abc", duration_s=0.2, at="2026-12-02T12:00:00.000Z",
                           caller="rds_stop", caller_kind="fault")],
    )


def test_calls_round_trip() -> None:
    data = _record().to_dict()
    assert data["calls"][0]["params"] == {"DBInstanceIdentifier": "db-1"}
    assert DrillResult.from_dict(data).calls == _record().calls


def test_a_record_written_before_the_key_loads_with_no_calls() -> None:
    data = _record().to_dict()
    del data["calls"]
    assert DrillResult.from_dict(data).calls == []


def test_a_damaged_call_names_the_key() -> None:
    data = _record().to_dict()
    data["calls"][0]["duration_s"] = "slow"
    with pytest.raises(ValueError, match=r"calls\[0\]\.duration_s is a string"):
        DrillResult.from_dict(data)
