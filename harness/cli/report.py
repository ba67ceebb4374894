"""``drillbook report``: the DR Test Report of one suite run, from the journal."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from drillbook.reports import cliopts

    p = subparsers.add_parser(
        "report",
        help="render the DR Test Report of a suite run (HTML, Markdown, JSON)",
        description="Render the DR procedures' DR Test Report for one suite run and each drill in it, "
        "from the journal: measured vs target RTO/RPO, timeline, phases, ledger, "
        "issues found, action items, sign-off and evidence.",
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument("--run", metavar="RUN_ID", default=None, help="the suite run to report on")
    which.add_argument("--latest", action="store_true", help="the latest run (the default)")
    p.add_argument("--format", default="html,md,json", help="comma-separated: html, md, json (default all)")
    p.add_argument(
        "-o",
        "--output",
        metavar="DIR",
        type=Path,
        default=Path("drill-reports"),
        help="output directory (default drill-reports/); files go to DIR/<run id>/",
    )
    p.add_argument(
        "--no-verify",
        action="store_true",
        help="do not verify the journal's hash chain (the evidence then says so)",
    )
    cliopts.add_common(p)
    cliopts.add_people(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from drillbook.reports import cliopts, journals, model, render

    cfg = cliopts.config(args)
    formats = cliopts.formats(args.format, render.FORMATS)
    options = cliopts.report_options(args, cfg)
    records = journals.run_records(cliopts.results_dir(args, cfg), args.run, verify=not args.no_verify)
    report = model.build_run(records, options, generated_at=datetime.now(UTC), generator=render.generator())
    for path in render.write_run(report, args.output, formats):
        print(f"drillbook report: wrote {path}")
    for d in report.drills:
        print(
            f"  {d.status:7} {d.identity.scenario}{' / ' + d.identity.option if d.identity.option else ''}: "
            f"RTO {d.rto.measured} (target {d.rto.target}), RPO {d.rpo.measured} (target {d.rpo.target}), "
            f"{len(d.issues)} issue(s)"
        )
    print(f"  journal chain: {report.chain}")
    return 0
