"""``drillbook revert``: undo the faults a dead runner left behind."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from drillbook.harness.config import find_config
from drillbook.harness.revert import revert_leftovers


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "revert",
        help="revert faults left behind by a runner that died",
        description="Replay the persisted undo log newest first: registered faults are rebuilt "
        "from their name and parameters and reverted; others are listed for a manual revert.",
    )
    p.add_argument("--run-id", default=None, help="only this run's faults")
    p.add_argument("--state-dir", type=Path, default=None, help="state directory (default .drillbook/)")
    p.add_argument("--force", action="store_true", help="also revert faults of a runner that is still alive")
    p.set_defaults(handler=run)


def state_dir(value: Path | None) -> Path:
    if value is not None:
        return value
    cfg = find_config()
    return Path(cfg.get("state_dir", ".drillbook"))


def run(args: argparse.Namespace) -> int:
    report = revert_leftovers(state_dir(args.state_dir), args.run_id, force=args.force)
    for problem in report.unreadable:
        print(f"drillbook revert: error: {problem}", file=sys.stderr)
    if not report.outcomes:
        if report.unreadable:
            return 2
        print("drillbook revert: nothing to revert")
        return 0
    for o in report.outcomes:
        params = ", ".join(f"{k}={v}" for k, v in o.params.items())
        print(f"{o.status:9} {o.run_id}  {o.name}({params})" + (f"  -- {o.detail}" if o.detail else ""))
    left = sum(1 for o in report.outcomes if o.status != "reverted")
    print(f"drillbook revert: {len(report.outcomes) - left} reverted, {left} left")
    if report.unreadable:
        return 2
    return 0 if report.clean else 1
