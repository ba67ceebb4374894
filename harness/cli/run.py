"""``drillbook run``: run the drill suite through pytest with the drillbook plugin.

The configuration is checked first (one message for a bad value, exit code 2), then the
environment's lease is taken for the whole run (exit code 3 naming the holder when another
run has it, unless ``--wait-for-lease``), then pytest runs under it.
"""

from __future__ import annotations

import argparse
import os
import sys

from drillbook.harness import journal
from drillbook.harness.childproc import run_child
from drillbook.harness.config import config_env, find_config
from drillbook.harness.configcheck import check_run_config
from drillbook.harness.durations import parse_duration
from drillbook.harness.lease import holding
from drillbook.harness.marker import TIERS
from drillbook.harness.settings import from_config
from drillbook.harness.suite import Suite, resolve_suite
from drillbook.harness.timing import new_run_id

WAIT_HELP = ("when another run holds the environment's lease, wait up to this long for it (e.g. 30m) "
             "instead of stopping at once with exit code 3")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "run",
        help="run the drill suite (default: the monthly tier on the local environment)",
        description="Run drills through pytest. Arguments after `--` go to pytest unchanged. One run per "
        "environment: a second run is refused (exit code 3) naming the run that holds the environment.",
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
    p.add_argument("--wait-for-lease", metavar="DURATION", default=None, help=WAIT_HELP)
    p.add_argument("pytest_args", nargs=argparse.REMAINDER, help="-- then arguments for pytest")
    p.set_defaults(handler=run)


def command(args: argparse.Namespace, suite: Suite | None = None) -> list[str]:
    suite = suite or resolve_suite(args.suite)
    extra = pytest_args(args)
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


def pytest_args(args: argparse.Namespace) -> list[str]:
    extra = list(args.pytest_args)
    return extra[1:] if extra and extra[0] == "--" else extra


def given_run_id(extra: list[str]) -> str | None:
    """A ``--drill-run-id`` among the pytest arguments."""
    for index, arg in enumerate(extra):
        if arg == "--drill-run-id" and index + 1 < len(extra):
            return extra[index + 1]
        if arg.startswith("--drill-run-id="):
            return arg.split("=", 1)[1]
    return None


def run(args: argparse.Namespace) -> int:
    from drillbook.harness.people import parse_name, parse_person

    # Checked here too, so a bad name is this command's error, not pytest's usage message.
    if args.led_by is not None:
        parse_name(args.led_by, "--led-by")
    for person in args.participant or []:
        parse_person(person, "--participant")
    config = find_config()
    env = args.env or os.environ.get("DRILLBOOK_ENV") or "local"
    settings = from_config(config, {"drill_env": env, "drill_results": args.drill_results})
    check_run_config(config, env)
    journal.check_appendable(settings.results_dir)
    wait = parse_duration(args.wait_for_lease or 0, what="--wait-for-lease")
    suite = resolve_suite(args.suite, config)
    if suite.note:
        print(f"drillbook run: {suite.note}", flush=True)
    run_id = given_run_id(pytest_args(args))
    if run_id is None:
        run_id = new_run_id()
        args.pytest_args = [*pytest_args(args), "--drill-run-id", run_id]
    with holding(env, config, settings.state_dir, run_id, wait=wait, say=_say) as lease:
        cmd = command(args, suite)
        print("drillbook run:", " ".join(cmd[2:]), flush=True)
        child_env, fds = lease.child_env()
        return run_child(cmd, env={**os.environ, **config_env(config), **child_env}, pass_fds=fds)


def _say(message: str) -> None:
    print(f"drillbook run: {message}", flush=True)
