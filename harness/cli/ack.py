"""``drillbook ack RUN_ID``: acknowledge a drill's page (stops the escalation)."""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path

from drillbook.harness.config import find_config
from drillbook.harness.paging.ack import acknowledge


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "ack",
        help="acknowledge the page of a running drill",
        description="Tell the drill's engagement that you are on it: the time to engage is measured until "
        "this acknowledgement, and escalation stops. Works on the machine running the drill; elsewhere "
        "open the ack URL the page carries.",
    )
    p.add_argument("run_id", metavar="RUN_ID", help="the run id from the page")
    p.add_argument("--by", default=None, help="who acknowledges (default: the current user)")
    p.add_argument("--state-dir", type=Path, default=None, help="state directory (default .drillbook/)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    state = (
        args.state_dir if args.state_dir is not None else Path(find_config().get("state_dir", ".drillbook"))
    )
    by = args.by or getpass.getuser()
    first = acknowledge(state, args.run_id, by)
    if first:
        print(f"drillbook ack: run {args.run_id} acknowledged by {by}")
    else:
        print(f"drillbook ack: run {args.run_id} was already acknowledged; yours is recorded as late")
    return 0
