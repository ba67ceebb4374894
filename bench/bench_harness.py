"""Harness benchmarks (issue #2): figures printed, nothing asserted.

1. Harness overhead per drill with a no-op fault (median of 20 runs): the whole
   drill (steady state, inject, await recovery, finish, revert, journal write),
   and the same minus the intrinsic wait of K consecutive probes.
2. RTO measurement error against ground truth: a real HTTP server frozen with
   SIGSTOP for D in {0.5, 1, 2} s; error = measured rto_s - D.

    python bench/bench_harness.py [--runs 20] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drillbook.faults.noop import NoopFault
from drillbook.faults.process_pause import ProcessPause
from drillbook.harness.probes import http_probe
from drillbook.harness.settings import DrillSettings
from drillbook.harness.standalone import standalone_drill
from tests.servers import http_server


def overhead(runs: int, tmp: Path) -> None:
    settings = DrillSettings(state_dir=tmp / "state", probe_interval=0.1, consecutive=3, progress=False)
    totals, waits = [], []
    for _ in range(runs):
        start = time.perf_counter()
        with standalone_drill("noop", results_dir=tmp / "results", settings=settings, rto="1m") as drill:
            drill.steady_state(lambda: True)
            drill.inject(NoopFault())
            t0 = time.perf_counter()
            drill.await_recovery()
            waits.append(time.perf_counter() - t0)
        totals.append(time.perf_counter() - start)
    total, wait = statistics.median(totals), statistics.median(waits)
    print(f"harness overhead, no-op fault, median of {runs} runs:")
    print(f"  whole drill (incl. journal write):       {total * 1000:8.1f} ms")
    print(f"  await_recovery (K=3 x 100 ms, intrinsic): {wait * 1000:8.1f} ms")
    print(f"  overhead beyond the K-probe wait:         {(total - wait) * 1000:8.1f} ms")


def rto_error(repeats: int, tmp: Path) -> None:
    server = http_server(tmp)
    settings = DrillSettings(state_dir=tmp / "state", probe_interval=0.1, consecutive=3, progress=False)
    print(f"RTO measurement error vs ground truth (SIGSTOP'd HTTP server, {repeats} runs each):")
    print(f"  {'D (s)':>6} {'median rto_s':>13} {'median error':>13} {'max error':>10} {'error/D':>8}")
    try:
        for outage in (0.5, 1.0, 2.0):
            errors = []
            for _ in range(repeats):
                with standalone_drill("frozen", results_dir=None, settings=settings, rto="1m") as drill:
                    drill.steady_state(http_probe(server.url, timeout=0.2))
                    fault = drill.inject(ProcessPause(server.pid))
                    timer = threading.Timer(outage, fault.revert)
                    timer.start()
                    rto = drill.await_recovery(timeout="30s")
                    timer.join()
                errors.append(rto - outage)
            med = statistics.median(errors)
            print(
                f"  {outage:>6.1f} {outage + med:>13.3f} {med * 1000:>10.1f} ms {max(errors) * 1000:>7.1f} ms"
                f" {med / outage:>8.3f}"
            )
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        overhead(args.runs, Path(tmp))
        rto_error(args.repeats, Path(tmp))


if __name__ == "__main__":
    main()
