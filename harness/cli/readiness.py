"""``drillbook readiness``: the Pre-Disaster Preparation checklist, automated where it can be.

Exit codes: 0 every automated item passes; 1 an automated item fails; 2 an error.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from drillbook.harness.cli.plan import SUITE_HELP
from drillbook.harness.config import Config, find_config
from drillbook.harness.errors import InvalidDrillConfig
from drillbook.harness.marker import TIERS

FORMATS = ("table", "md", "json")  # drillbook.harness.readiness.render.FORMATS, without importing it here


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "readiness",
        help="the DR checklist's Pre-Disaster Preparation, automated where it can be",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--env", default=None, help="environment profile (default local)")
    p.add_argument("--results", type=Path, default=None, help="journal directory (default drill-results/)")
    p.add_argument(
        "--schedule",
        choices=TIERS,
        default=None,
        help="judge freshness for this tier's drills only (annual: every drill; default every drill)",
    )
    p.add_argument("--suite", default=None, help=SUITE_HELP)
    p.add_argument("--state-dir", type=Path, default=None, help="state directory (default .drillbook/)")
    p.add_argument("--format", choices=FORMATS, default="table", help="output format (default table)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    # Imported here: every drillbook command builds this parser, few need pandas and pytest.
    from drillbook.harness import journal
    from drillbook.harness.cli.plan import chosen_suite
    from drillbook.harness.environments.factory import build_environment
    from drillbook.harness.plan import collect
    from drillbook.harness.readiness import Inputs, SuiteDrill, check, render

    config = find_config()
    results = args.results or Path(config.get("results_dir", "drill-results"))
    if args.results is not None and not results.is_dir():
        raise InvalidDrillConfig(f"journal directory {results} does not exist; pass --results DIR")
    state_dir = args.state_dir or Path(config.get("state_dir", ".drillbook"))
    name = args.env or os.environ.get("DRILLBOOK_ENV") or "local"
    suite = chosen_suite(args.suite, "readiness")
    collection = collect(suite, schedule=args.schedule)
    drills = [
        SuiteDrill(d.spec.scenario, d.spec.option, d.spec.tier, d.spec.component)
        for d in collection.drills
        if d.spec is not None
    ]
    readiness = check(
        Inputs(
            config=config,
            environment=build_environment(name, config, state_dir.absolute()),
            records=journal.load(results),
            drills=drills,
            results=results,
            cadence_days=_cadence_days(config),
            schedule=args.schedule,
        )
    )
    sys.stdout.write(render(readiness, args.format))
    return 0 if readiness.ok else 1


def _cadence_days(config: Config) -> dict[str, int]:
    # The reports' cadences (``[report] cadence_days``), so freshness means the same everywhere.
    from drillbook.reports.options import from_config

    return dict(from_config(config).cadence_days)
