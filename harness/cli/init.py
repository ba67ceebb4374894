"""``drillbook init [DIR]``: start a drill suite in a project of your own."""

from __future__ import annotations

import argparse
from pathlib import Path

from drillbook.harness.scaffold import CI_CHOICES, Options, database_variable, service_url, write


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "init",
        help="start a drill suite in your project: drillbook.toml, drills/test_example.py, CI workflows",
        description=(
            "Write drillbook.toml (the local environment and a staging profile in comments), "
            "drills/test_example.py (a drill against --service-url, or a self-contained example that "
            "passes anywhere) and the CI workflows of the DR testing schedule. Existing files are "
            "never overwritten without --force."
        ),
    )
    p.add_argument("directory", nargs="?", type=Path, default=Path(), help="the project (default: here)")
    p.add_argument("--service-url", default=None, help="your service's URL: the example drill probes it")
    p.add_argument(
        "--database-url",
        default=None,
        metavar="$VARIABLE",
        help="the environment variable holding your database's URL (never the URL itself): the "
        "example drill's ledger writes there",
    )
    p.add_argument(
        "--ci", choices=CI_CHOICES, default="github", help="CI workflows to write (default github)"
    )
    p.add_argument("--force", action="store_true", help="overwrite files that exist")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    options = Options(
        service_url=service_url(args.service_url) if args.service_url else None,
        database_env=database_variable(args.database_url) if args.database_url else None,
        ci=args.ci,
    )
    if options.database_env and not options.service_url:
        print(
            "drillbook init: --database-url goes with --service-url; "
            "the self-contained example has no database"
        )
    written = write(args.directory, options, force=args.force)
    for path in written:
        print(f"wrote {path}")
    print(f"next: cd {args.directory} && drillbook run")
    return 0
