"""``drillbook verify``: check the journal's hash chain."""

from __future__ import annotations

import argparse
from pathlib import Path

from drillbook.harness.errors import DrillbookError
from drillbook.harness.journal import read_record, verify_chain


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "verify",
        help="verify the journal's hash chain",
        description="Check every record's hash and its link to the one before. Exit codes: 0 the chain "
        "is intact; 1 a record was changed, removed or reordered; 2 a file is not a readable record.",
    )
    p.add_argument(
        "directory",
        nargs="?",
        type=Path,
        default=Path("drill-results"),
        help="journal directory (default drill-results/)",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if not args.directory.is_dir():
        raise DrillbookError(
            f"journal directory {args.directory} does not exist; pass the --drill-results DIR"
        )
    report = verify_chain(args.directory)
    if report.ok:
        print(f"drillbook verify: {report.records} record(s) in {args.directory}: chain OK")
        return 0
    if report.broken_at is not None:
        read_record(report.broken_at)  # a file that is no record at all is an error (exit 2) naming it
    print(f"drillbook verify: BROKEN at record {report.records + 1}: {report.broken_at}: {report.problem}")
    return 1
