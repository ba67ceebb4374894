"""``drillbook run``: run the drill suite through pytest with the drillbook plugin."""

from __future__ import annotations

import argparse
import subprocess
import sys

from drillbook.harness.marker import TIERS
from drillbook.harness.suite import Suite, resolve_suite


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "run",
        help="run the drill suite (default: the monthly tier on the local environment)",
        description="Run drills through pytest. Arguments after `--` go to pytest unchanged.",
    )
    p.add_argument(
        "--schedule",
        choices=TIERS,
        default="monthly",
        help="the tier to run (default monthly; annual runs every drill)",
    )
    p.add_argument("--env", default=None, help="environment profile (default local)")
    p.add_argument(
        "--suite",
        default=None,
        help="a drill file or directory, or `reference` for drillbook's reference suite (default: "
        "`suite` in drillbook.toml, else ./drills, else the reference suite)",
    )
    p.add_argument("--drill-results", default=None, help="journal directory (default drill-results/)")
    p.add_argument(
        "--led-by",
        metavar="NAME",
        default=None,
        help="who leads this run, written into every journal record (default: [report] led_by)",
    )
    p.add_argument(
        "--participant",
        metavar="NAME:ROLE",
        action="append",
        default=None,
        help="a participant and their role (or 'Name (Role)'), repeatable, written into every journal "
        "record (default: [report] participants)",
    )
    p.add_argument("pytest_args", nargs=argparse.REMAINDER, help="-- then arguments for pytest")
    p.set_defaults(handler=run)


def command(args: argparse.Namespace, suite: Suite | None = None) -> list[str]:
    suite = suite or resolve_suite(args.suite)
    extra = list(args.pytest_args)
    if extra and extra[0] == "--":
        extra = extra[1:]
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        str(suite.path),
        "-v",
        "-rfEs",  # failures, errors and why a drill was skipped, at the end
        "-p",
        "no:cacheprovider",
        "--drill-tier",
        args.schedule,
        "-o",
        "console_output_style=progress",
    ]
    if args.env:
        cmd += ["--drill-env", args.env]
    if args.drill_results:
        cmd += ["--drill-results", args.drill_results]
    if getattr(args, "led_by", None):
        cmd += ["--drill-led-by", args.led_by]
    for person in getattr(args, "participant", None) or []:
        cmd += ["--drill-participant", person]
    return cmd + extra


def run(args: argparse.Namespace) -> int:
    from drillbook.harness.people import parse_name, parse_person

    # Checked here too, so a bad name is this command's error, not pytest's usage message.
    if args.led_by is not None:
        parse_name(args.led_by, "--led-by")
    for person in args.participant or []:
        parse_person(person, "--participant")
    suite = resolve_suite(args.suite)
    if suite.note:
        print(f"drillbook run: {suite.note}", flush=True)
    cmd = command(args, suite)
    print("drillbook run:", " ".join(cmd[2:]), flush=True)
    return subprocess.call(cmd)
