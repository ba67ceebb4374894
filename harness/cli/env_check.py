"""``drillbook env check --env NAME``: the preflight of an environment (every role's endpoint,
resources and permissions), as a table; exit 0 when nothing is NOT READY."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from drillbook.harness.config import find_config, load_config
from drillbook.harness.durations import parse_duration
from drillbook.harness.environments.factory import build_environment
from drillbook.harness.environments.staging.environment import StagingEnvironment
from drillbook.harness.errors import DrillbookError, InvalidDrillConfig

if TYPE_CHECKING:
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


def add_check(actions: Subparsers) -> None:
    p = actions.add_parser(
        "check",
        help="preflight: is every endpoint reachable, every permission granted?",
        description="Check an environment profile before drills: each role's endpoint "
        "answers within the timeout, its resources exist, and the credentials may do "
        "what drills do (probed without changing anything).",
    )
    p.add_argument("--env", required=True, metavar="NAME", help="environment profile ([environments.NAME])")
    p.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="FILE",
        help="drillbook.toml or pyproject.toml (default: the nearest one)",
    )
    p.add_argument("--timeout", default="10s", metavar="DURATION", help="per-call timeout (default 10s)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run_check)


def run_check(args: argparse.Namespace) -> int:
    from drillbook.harness.environments.preflight import preflight, ready, table

    try:
        timeout = parse_duration(args.timeout, what="--timeout")
    except (InvalidDrillConfig, ValueError) as exc:
        raise InvalidDrillConfig(f"--timeout {args.timeout!r}: {exc}") from None
    config = load_config(args.config) if args.config is not None else find_config()
    env = build_environment(args.env, config, Path(config.get("state_dir", ".drillbook")))
    if not isinstance(env, StagingEnvironment):
        raise DrillbookError(
            f"`env check` checks profiles drillbook connects to (staging); for {args.env!r} "
            f"use `drillbook env status --env {args.env}`"
        )
    results = preflight(env, timeout=timeout)
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2))
    else:
        print(table(results))
        bad = sum(1 for r in results if r.status == "NOT READY")
        print(f"\n{args.env}: " + ("ready" if ready(results) else f"NOT READY ({bad} check(s) failed)"))
    return 0 if ready(results) else 1
