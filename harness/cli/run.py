"""``drillbook run``: run the drill suite through pytest with the drillbook plugin."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from harness.errors import DrillbookError
from harness.marker import TIERS


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
        type=Path,
        help="a drill suite (file or directory) instead of drillbook's own drills/",
    )
    p.add_argument("--drill-results", default=None, help="journal directory (default drill-results/)")
    p.add_argument("pytest_args", nargs=argparse.REMAINDER, help="-- then arguments for pytest")
    p.set_defaults(handler=run)


def suite_path() -> Path:
    import drills

    return Path(drills.__file__).parent


def command(args: argparse.Namespace) -> list[str]:
    suite = args.suite if args.suite is not None else suite_path()
    if not suite.exists():
        raise DrillbookError(f"drill suite {suite} does not exist; pass --suite PATH")
    extra = list(args.pytest_args)
    if extra and extra[0] == "--":
        extra = extra[1:]
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        str(suite),
        "-v",
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
    return cmd + extra


def run(args: argparse.Namespace) -> int:
    cmd = command(args)
    print("drillbook run:", " ".join(cmd[2:]), flush=True)
    return subprocess.call(cmd)
