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
        "--bundle",
        action="store_true",
        help="write one archive instead (DIR/<run id>.evidence.zip): the report and its drafts, the "
        "journal with its chain, the JUnit XML and logs of the results directory, a sha256 manifest",
    )
    p.add_argument(
        "--log",
        metavar="FILE",
        type=Path,
        action="append",
        default=None,
        help="a log file to add to the bundle (repeatable; *.log of the results directory are added anyway)",
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
    from drillbook.harness.errors import InvalidDrillConfig
    from drillbook.reports import bundle, cliopts, journals, model, render

    cfg = cliopts.config(args)
    formats = cliopts.formats(args.format, render.FORMATS)
    options = cliopts.report_options(args, cfg)
    logs = list(args.log or [])
    missing = [str(p) for p in logs if not p.is_file()]
    if missing:
        raise InvalidDrillConfig(f"--log: no such file: {', '.join(missing)}")
    if logs and not args.bundle:
        raise InvalidDrillConfig("--log adds a file to the bundle: use it with --bundle")
    records = journals.run_records(cliopts.results_dir(args, cfg), args.run, verify=not args.no_verify)
    now = datetime.now(UTC)
    report = model.build_run(records, options, generated_at=now, generator=render.generator())
    if args.bundle:
        path = bundle.write_bundle(
            report, records, options, args.output, formats=formats, today=now, logs=logs
        )
        print(f"drillbook report: wrote {path}")
    else:
        for path in render.write_run(report, args.output, formats, options=options, today=now):
            print(f"drillbook report: wrote {path}")
    print(f"  environment: {report.environment_kind}")
    for d in report.drills:
        print(
            f"  {d.status:7} {d.identity.scenario}{' / ' + d.identity.option if d.identity.option else ''}: "
            f"{d.rto.name} {d.rto.measured} (target {d.rto.target}), RPO {d.rpo.measured} "
            f"(target {d.rpo.target}), writes: {d.ledger.summary}, {len(d.issues)} issue(s)"
        )
    print(f"  not exercised: {len(report.scope.not_exercised)} item(s) of the DR procedures")
    print(f"  sign-off: {report.sign_off.status} (report hash {report.sign_off.report_hash})")
    print(f"  journal chain: {report.chain}")
    return 0
