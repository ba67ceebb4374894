"""``drillbook env profile``: print a staging profile whose endpoints are the running twin's.

Paste it into drillbook.toml (or write it with ``>>``) and run the drills through the staging
drivers against the twin: ``drillbook run --env twin``.
"""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING

from drillbook.harness.cli.env import common, environment
from drillbook.harness.environments import capabilities as caps
from drillbook.harness.environments.twin_profile import check_grants, render_profile
from drillbook.harness.errors import DrillbookError, InvalidDrillConfig

if TYPE_CHECKING:
    from drillbook.harness.cli.env import Subparsers

NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def add_profile(actions: Subparsers) -> None:
    p = actions.add_parser(
        "profile", help="print a staging profile (TOML) whose endpoints are the running local twin's",
        description="Print [environments.NAME] for drillbook.toml: the staging drivers (rds, kubernetes, "
        "route53, secretsmanager, s3, toxiproxy, redis, postgres) pointed at the running twin.",
    )
    common(p)
    p.add_argument("--name", default="twin", help="the profile's name (default: twin)")
    p.add_argument("--grant", action="append", default=[], metavar="CAPABILITY",
                   help=f"grant a capability the twin has (repeatable): {', '.join(caps.KNOWN)}")
    p.set_defaults(handler=run_profile)


def run_profile(args: argparse.Namespace) -> int:
    if not NAME.match(args.name) or args.name == "local":
        raise InvalidDrillConfig(
            f"--name {args.name!r}: a profile name is letters, digits, - and _, and not 'local'"
        )
    check_grants(args.grant)
    env = environment(args)
    endpoints = env.access().get("endpoints")
    if not endpoints:
        raise DrillbookError(f"the {args.env} environment is not up (or is not the twin): run "
                             "`drillbook env up` first")
    print(render_profile(args.name, endpoints, grant=args.grant), end="")
    return 0
