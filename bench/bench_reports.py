"""Report and history benchmarks (issue #6): figures printed, nothing asserted.

Over a journal of 10,000 synthetic, hash-chained records (``drillbook.reports.synthetic``):

1. ``drillbook history`` (table, html and csv): in-process (load, pandas, render)
   and end to end as a command (interpreter start and imports included), each
   cold (every record parsed) and warm (the row cache of ``drillbook.reports.rowcache``).
2. ``drillbook report --latest`` (html, md, json) of the last run in that journal:
   in-process without and with the hash chain verification
   (``drillbook.harness.journal.verify_chain``, which reads all 10,000 records), and end to end.
3. Rendering alone: one drill's report in each format.

Goal: under 2 s. Figures: the median and best wall time of ``--repeats`` runs,
and the median CPU time (user + system, worker processes included), which
other work on a shared machine disturbs less than the wall time.

    python bench/bench_reports.py [--records 10000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drillbook.harness import journal
from drillbook.reports import history, journals, model, render, synthetic
from drillbook.reports.options import ReportOptions

AS_OF = datetime(2026, 11, 5, tzinfo=UTC)


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, float, float]:
    """Median and best wall time, and the median CPU time (this process and its children)."""
    walls, cpus = [], []
    for _ in range(repeats):
        cpu, start = _cpu(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(_cpu() - cpu)
    return statistics.median(walls), min(walls), statistics.median(cpus)


def line(label: str, figures: tuple[float, float, float], goal: float | None = 2.0) -> None:
    median, best, cpu = figures
    verdict = "" if goal is None else ("  under 2 s" if median < goal else "  OVER 2 s")
    print(f"  {label:54} median {median:6.3f} s  best {best:6.3f} s  cpu {cpu:6.3f} s{verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    print(f"bench_reports: {args.records} records, {cores} cores, load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="drillbook-bench-") as tmp:
        directory = Path(tmp) / "journal"
        out = Path(tmp) / "out"
        start = time.perf_counter()
        synthetic.write(directory, synthetic.SyntheticSpec(records=args.records))
        size = sum(p.stat().st_size for p in journal.record_files(directory))
        print(f"  wrote the journal in {time.perf_counter() - start:.2f} s ({size / 1e6:.0f} MB)")
        options = ReportOptions()

        def hist(cache: bool) -> Callable[[], object]:
            def go() -> None:
                built = history.build(directory, options, AS_OF, cache=cache)
                history.table(built)
                history.html(built, generated_at="now", generator="bench")
                history.csv_text(built)

            return go

        def report(verify: bool) -> Callable[[], object]:
            def go() -> None:
                run = journals.run_records(directory, None, verify=verify)
                built = model.build_run(run, options, generated_at=AS_OF, generator="bench")
                render.write_run(built, out, render.FORMATS)

            return go

        def command(*argv: str) -> Callable[[], object]:
            cmd = [sys.executable, "-m", "drillbook", *argv, "--results", str(directory), "-o", str(out)]
            return lambda: subprocess.run(cmd, check=True, capture_output=True, timeout=300)

        os.environ["DRILLBOOK_CACHE_DIR"] = str(Path(tmp) / "cache")
        hist_cmd = ("history", "--format", "table,html,csv", "--as-of", "2026-11-05")
        print("history:")
        line("history, every record parsed (in-process)", timed(hist(False), args.repeats))
        hist(True)()  # fills the row cache
        line("history, row cache warm (in-process)", timed(hist(True), args.repeats))
        line(
            "`drillbook history --no-cache` (command)", timed(command(*hist_cmd, "--no-cache"), args.repeats)
        )
        line("`drillbook history` (command, row cache warm)", timed(command(*hist_cmd), args.repeats))
        print("report of the latest run:")
        line("load run + build + html/md/json, chain not verified", timed(report(False), args.repeats))
        line(
            "drillbook.harness.journal.verify_chain over every record",
            timed(lambda: journal.verify_chain(directory), args.repeats),
            goal=None,
        )
        line("load run + verify chain + build + html/md/json", timed(report(True), args.repeats))
        line(
            "`drillbook report --latest --no-verify` (command)",
            timed(command("report", "--latest", "--no-verify"), args.repeats),
        )
        line(
            "`drillbook report --latest` (command, chain verified)",
            timed(command("report", "--latest"), args.repeats),
        )
        run = model.build_run(
            journals.run_records(directory, None, verify=False),
            options,
            generated_at=AS_OF,
            generator="bench",
        )
        one = model.RunReport(**{**run.__dict__, "drills": run.drills[:1]})
        print("rendering one drill's report:")
        for fmt, fn in (("html", render.run_html), ("md", render.run_markdown), ("json", render.run_json)):
            median, best, _ = timed(lambda fn=fn: fn(one), args.repeats * 4)  # type: ignore[misc]
            print(f"  {fmt:5} median {median * 1000:7.1f} ms  best {best * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
