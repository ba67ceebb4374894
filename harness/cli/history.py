"""``drillbook history``: trends, pass rates, freshness and regression warnings over every journal."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from drillbook.reports import cliopts

    p = subparsers.add_parser(
        "history",
        help="drill history: pass rates, p50/p95 RTO/RPO, trends, freshness, regressions",
        description="Summarise every journal record: per scenario the runs, pass rate, p50/p95 RTO and RPO, "
        "the last PASS, a freshness matrix (scenario x tier against the monthly/quarterly/annual "
        "cadence) and regression warnings when a scenario's RTO or RPO trends towards its target.",
    )
    p.add_argument("--format", default="table", help="comma-separated: table, html, csv (default table)")
    p.add_argument(
        "-o",
        "--output",
        metavar="DIR",
        type=Path,
        default=Path("drill-reports"),
        help="where html and csv go (default drill-reports/): history.html, history.csv",
    )
    p.add_argument("--as-of", metavar="DATE", default=None, help="judge freshness at this date (default now)")
    p.add_argument(
        "--regression-threshold",
        metavar="FRACTION",
        type=float,
        default=None,
        help="warn when the RTO/RPO p50 is above this fraction of the target (default 0.8)",
    )
    p.add_argument(
        "--regression-window",
        metavar="RUNS",
        type=int,
        default=None,
        help="runs the p50 is taken over (default 5)",
    )
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="read every record again instead of using the row cache (~/.cache/drillbook)",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="exit 1 when a drill is overdue or a regression warning is raised",
    )
    cliopts.add_common(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace
    from datetime import UTC, datetime

    from drillbook.harness.atomic import write_atomic
    from drillbook.reports import cliopts, history, options, render, timefmt

    cfg = cliopts.config(args)
    formats = cliopts.formats(args.format, history.FORMATS)
    opts = cliopts.report_options(args, cfg)
    if args.regression_threshold is not None or args.regression_window is not None:
        base = opts.regression
        opts = replace(
            opts,
            regression=options.regression(
                threshold=base.threshold if args.regression_threshold is None else args.regression_threshold,
                window=base.window if args.regression_window is None else args.regression_window,
                slope_window=base.slope_window,
                horizon=base.horizon,
                min_runs=base.min_runs,
            ),
        )
    built = history.build(
        cliopts.results_dir(args, cfg), opts, cliopts.as_of(args.as_of), cache=not args.no_cache
    )
    if "table" in formats:
        print(history.table(built), end="")
    if "html" in formats or "csv" in formats:
        args.output.mkdir(parents=True, exist_ok=True)
    if "html" in formats:
        path = args.output / "history.html"
        write_atomic(path, history.html(built, generated_at=timefmt.stamp(datetime.now(UTC)),
                                        generator=render.generator()))
        print(f"drillbook history: wrote {path}")
    if "csv" in formats:
        path = args.output / "history.csv"
        write_atomic(path, history.csv_text(built))
        print(f"drillbook history: wrote {path}")
    return 1 if args.check and built.attention else 0
