"""Synthetic journals: many chained, schema-1 records for benchmarks, demos and tests.

The records have the shape the harness writes (timeline, phases, faults,
verification, ledger figures) and statuses judged by the harness's rules, so
history, freshness and reports treat them as real. They are marked
``extra["synthetic"] = True``: never mix them into a team's evidence.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from drillbook.harness import journal
from drillbook.harness.events import Event
from drillbook.harness.phases import PHASES
from drillbook.harness.timing import iso

#: (scenario, option, tier, component, rto target s, rpo target s, typical rto s)
SCENARIOS: tuple[tuple[str, str | None, str, str, float, float | None, float], ...] = (
    ("application-crash", "rollback", "monthly", "api", 1800.0, None, 240.0),
    ("database-corruption", "snapshot-restore", "monthly", "database", 3600.0, 300.0, 1500.0),
    ("database-corruption", "pitr", "quarterly", "database", 3600.0, 300.0, 2100.0),
    ("data-center-failure", None, "quarterly", "api", 3600.0, 300.0, 900.0),
    ("complete-infrastructure-failure", None, "quarterly", "database", 7200.0, 900.0, 4200.0),
    ("security-breach", None, "annual", "audit_logs", 14400.0, 0.0, 6000.0),
)
#: The scenario whose RTO drifts upwards run after run (a regression to find).
DRIFTING = "database-corruption"
SHARE = (0.06, 0.12, 0.3, 0.4, 0.12)  # how a recovery splits over the five phases
EXPECTED = (300.0, 600.0, 1800.0, 2700.0, 1200.0)  # the DR procedures' expected timeline


@dataclass(frozen=True)
class SyntheticSpec:
    records: int = 10_000
    end: datetime = datetime(2026, 11, 1, tzinfo=UTC)
    days: int = 730
    seed: int = 7


def records(spec: SyntheticSpec) -> Iterator[dict[str, Any]]:
    """Journal records (without hashes), oldest first, grouped in suite runs.

    Runs follow the DR testing schedule: monthly runs hold the monthly drills,
    every third run is quarterly (the quarterly drills), every twelfth annual
    (every drill), as ``pytest --drill-tier`` selects them.
    """
    rng = random.Random(spec.seed)
    runs = _run_schedules(spec.records)
    start = spec.end - timedelta(days=spec.days)
    step = timedelta(days=spec.days) / len(runs)
    made = 0
    for number, schedule in enumerate(runs):
        at = start + step * number + timedelta(minutes=rng.randint(0, 120))
        run_id = at.strftime("%Y%m%dT%H%M%SZ") + f"-s{number:05d}"
        drills = [s for s in SCENARIOS if schedule == "annual" or s[2] == schedule]
        for index, scenario in enumerate(drills):
            if made == spec.records:
                return
            progress = number / len(runs)
            yield _record(rng, scenario, run_id, f"{run_id}-{index + 1:03d}", at, schedule, progress)
            at += timedelta(hours=2)
            made += 1


def _run_schedules(total: int) -> list[str]:
    runs: list[str] = []
    made = 0
    while made < total:
        number = len(runs)
        schedule = "annual" if number % 12 == 11 else "quarterly" if number % 3 == 2 else "monthly"
        runs.append(schedule)
        made += sum(1 for s in SCENARIOS if schedule == "annual" or s[2] == schedule)
    return runs


def _record(
    rng: random.Random,
    scenario: tuple[str, str | None, str, str, float, float | None, float],
    run_id: str,
    record_id: str,
    start: datetime,
    schedule: str,
    progress: float,
) -> dict[str, Any]:
    name, option, tier, component, rto_t, rpo_t, typical = scenario
    drift = 1.0 + (1.6 * progress if name == DRIFTING else 0.0)
    rto = max(5.0, rng.lognormvariate(0, 0.25) * typical * drift)
    recovered = rng.random() > 0.03
    rpo = 0.0 if rpo_t is None or rng.random() < 0.6 else rng.uniform(0, (rpo_t or 60.0) * 1.3)
    verified = rng.random() > 0.02
    fault_at = start + timedelta(seconds=30)
    timeline = [
        _event(start, Event.TEST_START, name),
        _event(start + timedelta(seconds=12), Event.STEADY_STATE_HOLDS, "api health"),
        _event(fault_at, Event.FAULT_INJECTED, "process_kill"),
    ]
    detect = rng.uniform(5, 120)
    detected = _event(fault_at + timedelta(seconds=detect), Event.ISSUE_DETECTED, "api health: HTTP 503")
    timeline.append(detected)
    phases = []
    at = fault_at
    for phase, share, expected in zip(PHASES, SHARE, EXPECTED, strict=True):
        duration = rto * share * rng.uniform(0.8, 1.2)
        phases.append(
            {
                "name": phase,
                "started_at": iso(at),
                "duration_s": duration,
                "expected_s": expected,
                "passed": True,
                "detail": "",
            }
        )
        timeline.append(_event(at, Event.PHASE_START, phase))
        at += timedelta(seconds=duration)
        timeline.append(_event(at, Event.PHASE_END, phase))
    end = at + timedelta(seconds=60)
    if recovered:
        timeline.append(
            _event(fault_at + timedelta(seconds=rto), Event.RECOVERY_COMPLETE, "steady state held 3 times")
        )
    timeline.append(_event(end, Event.TEST_END, ""))
    timeline.sort(key=lambda e: e["at"])
    reasons: list[str] = []
    if not recovered:
        reasons.append(f"not recovered within {2 * rto_t:.0f}s of the fault")
    if not verified:
        reasons.append("verification failed: row counts match")
    status = "FAIL" if reasons else "PASS"
    if status == "PASS":
        if rto > rto_t:
            reasons.append(f"RTO target missed: measured {rto:.0f}s > target {rto_t:.0f}s")
        if rpo_t is not None and rpo > rpo_t:
            reasons.append(f"RPO target missed: measured {rpo:.0f}s > target {rpo_t:.0f}s")
        status = "PARTIAL" if reasons else "PASS"
    acked = rng.randint(2000, 60000)
    lost = 0 if rpo == 0 else rng.randint(1, 400)
    return {
        "schema_version": 1,
        "run_id": run_id,
        "record_id": record_id,
        "drill": {
            "nodeid": f"drills/test_{name.replace('-', '_')}.py::test_{option or 'default'}",
            "scenario": name,
            "tier": tier,
            "severity": 1,
            "component": component,
            "option": option,
            "description": None,
        },
        "environment": {
            "name": "staging",
            "fingerprint": {
                "python": "3.11.7",
                "drillbook": "0.1.0",
                "git_sha": f"{rng.getrandbits(160):040x}",
            },
        },
        "targets": {
            "rto_s": rto_t,
            "rpo_s": rpo_t,
            "rto_source": "DR procedures, RTO/RPO tables",
            "rpo_source": "DR procedures, RTO/RPO tables" if rpo_t is not None else None,
        },
        "measured": {
            "rto_s": rto if recovered else None,
            "rpo_s": rpo,
            "detect_s": detect,
            "acked_writes": acked,
            "lost_writes": lost,
            "indeterminate_writes": rng.randint(0, 3),
            "unexpected_writes": 0,
            "acked_after_fault": rng.randint(0, 50),
            "lost_after_fault": 0,
        },
        "status": status,
        "reasons": reasons,
        "timeline": timeline,
        "phases": phases,
        "faults": [
            {
                "name": "process_kill",
                "params": {"pid": rng.randint(100, 60000)},
                "injected_at": iso(fault_at),
                "reverted_at": iso(end),
                "revert_error": None,
            }
        ],
        "verification": [{"name": "row counts match", "passed": verified, "detail": ""}],
        "started_at": iso(start),
        "finished_at": iso(end),
        "extra": {"schedule": schedule, "synthetic": True, "consecutive": 3, "probe_interval_s": 5.0},
    }


def _event(at: datetime, event: str, detail: str) -> dict[str, Any]:
    return {"at": iso(at), "event": event, "detail": detail, "t_s": None}


def write(directory: Path, spec: SyntheticSpec | None = None) -> int:
    """Write ``spec.records`` chained records into the empty ``directory``; returns the count.

    Hashes are chained the way :func:`drillbook.harness.journal.append` chains them, without
    re-listing the directory for each record.
    """
    directory.mkdir(parents=True, exist_ok=True)
    if journal.record_files(directory):
        raise FileExistsError(f"{directory} already holds journal records; use an empty directory")
    prev: str | None = None
    count = 0
    for count, data in enumerate(records(spec or SyntheticSpec()), start=1):
        data["prev_hash"] = prev
        data["hash"] = prev = journal.record_hash(data)
        path = directory / f"{count:06d}-{data['record_id']}.json"
        path.write_text(journal.file_text(data), encoding="utf-8")
    return count


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Write a synthetic, chained journal.")
    parser.add_argument("directory", type=Path)
    parser.add_argument("-n", "--records", type=int, default=10_000)
    args = parser.parse_args()
    print(json.dumps({"records": write(args.directory, SyntheticSpec(records=args.records))}))


if __name__ == "__main__":
    main()
