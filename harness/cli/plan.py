"""``drillbook plan``: the drill plan for review before a run."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from drillbook.harness.errors import InvalidDrillConfig
from drillbook.harness.marker import TIERS

FORMATS = ("md", "html")  # drillbook.harness.plan.FORMATS, without importing pytest for every command


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "plan",
        help="the drill plan for review: scenarios, faults, blast radius, targets, phases, risks",
        description="Collect the drill suite (without running it) and render its plan: scenarios, "
        "faults and blast radius, RTO/RPO targets with their source, expected phases, rollback, "
        "risks and owners. Without -o the Markdown plan goes to stdout.",
    )
    p.add_argument("--schedule", choices=TIERS, default=None, help="only this tier (annual: every drill)")
    p.add_argument(
        "--format",
        default="md",
        help=f"comma-separated formats to write: {','.join(FORMATS)} (default md)",
    )
    p.add_argument("-o", "--output", type=Path, default=None, help="write the plan files into DIR")
    p.add_argument("--suite", default=None, help=SUITE_HELP)
    p.add_argument("--env", default=None, help="environment profile the plan is for (default local)")
    p.set_defaults(handler=run)


def formats(value: str) -> list[str]:
    chosen = [f.strip() for f in value.split(",") if f.strip()]
    bad = [f for f in chosen if f not in FORMATS]
    if bad or not chosen:
        raise InvalidDrillConfig(f"--format {value!r}: use a comma-separated list of {', '.join(FORMATS)}")
    return chosen


SUITE_HELP = (
    "a drill file or directory, or `reference` (default: `suite` in drillbook.toml, else ./drills, "
    "else the reference suite)"
)


def chosen_suite(arg: str | None, command: str) -> Path:
    """The suite a command reads, saying so on stderr when it falls back to the reference suite."""
    from drillbook.harness.suite import resolve_suite

    suite = resolve_suite(arg)
    if suite.note:
        print(f"drillbook {command}: {suite.note}", file=sys.stderr)
    return suite.path


def run(args: argparse.Namespace) -> int:
    from drillbook.harness.plan import build_plan, collect, render, write

    chosen = formats(args.format)
    suite = chosen_suite(args.suite, "plan")
    collection = collect(suite, schedule=args.schedule)
    env = args.env or os.environ.get("DRILLBOOK_ENV") or "local"
    plan = build_plan(collection, schedule=args.schedule, suite=str(suite), environment=env)
    if args.output is None:
        if len(chosen) > 1:
            raise InvalidDrillConfig("several formats need a directory: pass -o DIR")
        sys.stdout.write(render(plan, chosen[0]))
    else:
        for path in write(plan, args.output, chosen):
            print(f"drillbook plan: wrote {path}")
    if not plan.drills:
        print(
            f"drillbook plan: no drills in {suite}"
            + (f" for the {args.schedule} tier" if args.schedule else ""),
            file=sys.stderr,
        )
    return 1 if plan.collection_errors or any(d.error for d in plan.drills) else 0
