"""Unannounced drills and paging (issue #8): figures printed, nothing asserted.

1. Time-to-engage measurement error against ground truth: a real HTTP receiver acknowledges
   each page D seconds after it arrived (D in {0.2, 1, 2}); error = measured time_to_engage_s - D
   (webhook delivery plus the acknowledgement's HTTP round trip).
2. Escalation timing: level 1 (respond within R) never answers, level 2 answers at once;
   lateness = time from the first page to the level-2 page - R.
3. Sealing and planning cost for a generated suite of N drills: the in-process pytest
   collection (`drillbook plan`, `unannounced seal`), and the draw itself.

    python bench/bench_unannounced.py [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drillbook.harness.paging import Level, PagingPolicy, Webhook, engage
from drillbook.harness.plan import build_plan, collect
from drillbook.harness.unannounced import draw
from drillbook.harness.unannounced.window import Window
from tests.paging.receiver import Receiver, running


def figures(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"median {statistics.median(values) * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms  "
        f"max {max(values) * 1000:7.1f} ms"
    )


def policy(url: str, *levels: float) -> PagingPolicy:
    return PagingPolicy(
        webhook=Webhook(url=url, timeout_s=2.0, retries=0),
        levels=tuple(Level(i, f"level {i}", f"person {i}", s) for i, s in enumerate(levels, 1)),
    )


def engage_error(runs: int, tmp: Path) -> None:
    print("1. time to engage: measured - ground truth (acknowledged D s after the page arrived)")
    for delay in (0.2, 1.0, 2.0):
        errors = []
        for n in range(runs):
            with running(Receiver(ack_after={1: delay})) as receiver:
                result = engage(
                    policy(receiver.url, 10.0),
                    f"bench-{n}",
                    state_dir=tmp,
                    summary="bench",
                    say=lambda _: None,
                )
            assert result.time_to_engage_s is not None
            errors.append(result.time_to_engage_s - delay)
        print(f"   D = {delay:3.1f} s: {figures(errors)}  ({runs} runs)")


def escalation_lateness(runs: int, tmp: Path) -> None:
    respond = 0.5
    print(f"2. escalation: level 2 paged after level 1's response time R = {respond} s")
    late = []
    for n in range(runs):
        with running(Receiver(ack_after={2: 0.0})) as receiver:
            engage(
                policy(receiver.url, respond, 5.0),
                f"bench-esc-{n}",
                state_dir=tmp,
                summary="bench",
                say=lambda _: None,
            )
            first, second = receiver.pages
        late.append(second.at - first.at - respond)
    print(f"   lateness (page 2 - page 1 - R): {figures(late)}  ({runs} runs)")


def collection_cost(tmp: Path) -> None:
    print("3. collecting the suite (plan / seal) and drawing")
    for count in (10, 100, 500):
        suite = tmp / f"suite{count}"
        suite.mkdir()
        body = ["import pytest", "from drillbook.faults.noop import NoopFault", ""]
        for i in range(count):
            body += [
                f"@pytest.mark.drill(scenario='s{i % 25}', option='o{i}', tier='monthly', component='api')",
                f"def test_{i}(drill):",
                "    drill.inject(NoopFault())",
                "",
            ]
        (suite / "test_many.py").write_text("\n".join(body))
        began = time.perf_counter()
        plan = build_plan(collect(suite), schedule=None, suite=str(suite))
        took = time.perf_counter() - began
        cold = " (first: imports the plugins)" if count == 10 else ""
        print(f"   {count:4d} drills: collect + build plan {took:6.2f} s ({len(plan.drills)} drills){cold}")
    window = Window(datetime.now(UTC), datetime.now(UTC) + timedelta(days=120))
    candidates = [f"scenario-{i}" for i in range(25)]
    began = time.perf_counter()
    for _ in range(1000):
        draw(os.urandom(32), candidates, 3, window)
    each_ms = (time.perf_counter() - began) / 1000 * 1000
    print(f"   draw of 3 of 25 scenarios and a second in 120 days: {each_ms:.3f} ms each")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engage_error(args.runs, Path(tmp))
        escalation_lateness(args.runs, Path(tmp))
        collection_cost(Path(tmp))


if __name__ == "__main__":
    main()
