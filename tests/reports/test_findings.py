"""Severity rules of the generated issues."""

from __future__ import annotations

from drillbook.harness.records import (
    DrillInfo,
    DrillResult,
    EnvironmentInfo,
    FaultRecord,
    Measured,
    Status,
    Targets,
)
from drillbook.reports.findings import PhaseFigures, Severity, findings, miss_severity


def result(**kw: object) -> DrillResult:
    base = DrillResult(
        run_id="r",
        drill=DrillInfo("t::x", "s", component="database"),
        environment=EnvironmentInfo("local"),
        targets=Targets(rto_s=100.0, rpo_s=10.0),
        measured=Measured(rto_s=50.0, rpo_s=0.0, detect_s=1.0),
        status=Status.PASS,
        faults=[FaultRecord("noop", {})],
    )
    for key, value in kw.items():
        setattr(base, key, value)
    return base


def test_miss_severity_by_overshoot() -> None:
    assert miss_severity(110, 100) is Severity.MEDIUM
    assert miss_severity(126, 100) is Severity.HIGH
    assert miss_severity(201, 100) is Severity.CRITICAL
    assert miss_severity(0.1, 0) is Severity.CRITICAL


def test_a_clean_pass_has_no_finding() -> None:
    assert findings(result(), []) == []


def test_findings_are_sorted_by_severity_with_numbers() -> None:
    r = result(
        measured=Measured(rto_s=130.0, rpo_s=0.0, detect_s=1.0, unexpected_writes=2, indeterminate_writes=1)
    )
    phases = [PhaseFigures("DR activation", 90.0, 40.0, "drill", True, "")]
    found = findings(r, phases)
    assert [f.kind for f in found] == ["integrity", "rto-missed", "phase-over", "indeterminate"]
    assert [f.severity for f in found] == [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW]
    assert "by 30.00s (+30%)" in found[1].issue and "measured 2m 10s" in found[1].issue
    assert "took 1m 30s, 50.00s (+125%) over its expected 40.00s" in found[2].issue


def test_undetected_fault_and_missing_target() -> None:
    r = result(measured=Measured(rto_s=5.0, detect_s=None), targets=Targets(rto_s=None))
    kinds = {f.kind: f.severity for f in findings(r, [])}
    assert kinds == {"not-detected": Severity.MEDIUM, "no-target": Severity.LOW}


def test_unknown_reasons_are_kept() -> None:
    r = result(status=Status.FAIL, reasons=["ledger reconciliation failed: timeout"])
    (f,) = findings(r, [])
    assert f.kind == "other" and f.issue == "Ledger reconciliation failed: timeout"
