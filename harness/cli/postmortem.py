"""``drillbook postmortem``: the post-mortem and communication drafts of a drill, from the journal."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from drillbook.reports import cliopts

    p = subparsers.add_parser(
        "postmortem",
        help="draft the post-mortem and the communications of a drill",
        description="Fill the DR procedures' post-mortem template (Appendix B) and the communication drafts "
        "(status page updates at each stage, internal messages, the customer email) from a "
        "drill's timeline and figures. One pair of files per drill of the run.",
    )
    p.add_argument("run_id", metavar="RUN_ID", help="the suite run (or 'latest', or a record id)")
    p.add_argument("--record", metavar="RECORD_ID", default=None, help="only this drill of the run")
    p.add_argument(
        "-o",
        "--output",
        metavar="DIR",
        type=Path,
        default=Path("drill-reports"),
        help="output directory (default drill-reports/); files go to DIR/<run id>/",
    )
    p.add_argument("--stdout", action="store_true", help="print the drafts instead of writing files")
    cliopts.add_common(p)
    cliopts.add_people(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from drillbook.harness.atomic import write_atomic
    from drillbook.harness.errors import DrillbookError
    from drillbook.reports import cliopts, journals, model, postmortem, render

    cfg = cliopts.config(args)
    options = cliopts.report_options(args, cfg)
    directory = cliopts.results_dir(args, cfg)
    run_id, record = (None, args.record) if args.run_id == "latest" else (args.run_id, args.record)
    try:
        records = journals.run_records(directory, run_id)
    except journals.NoJournal:
        # A record id names its run: "<run id>-NNN".
        if record is not None or run_id is None or "-" not in run_id:
            raise
        record = run_id
        records = journals.run_records(directory, run_id.rsplit("-", 1)[0])
    report = model.build_run(records, options, generated_at=datetime.now(UTC), generator=render.generator())
    drills = [d for d in report.drills if record is None or d.identity.record_id == record]
    if not drills:
        known = ", ".join(d.identity.record_id for d in report.drills)
        raise DrillbookError(f"no record {record!r} in run {report.run_id}; its records are: {known}")
    target = args.output / render.safe_name(report.run_id)
    for d in drills:
        pm = postmortem.postmortem_markdown(postmortem.build_postmortem(d, options, today=datetime.now(UTC)))
        comms = postmortem.comms_markdown(postmortem.build_comms(d, options))
        if args.stdout:
            print(pm)
            print(comms)
            continue
        target.mkdir(parents=True, exist_ok=True)
        for kind, text in (("postmortem", pm), ("comms", comms)):
            path = target / f"{kind}-{render.safe_name(d.identity.record_id)}.md"
            write_atomic(path, text)
            print(f"drillbook postmortem: wrote {path}")
    return 0
