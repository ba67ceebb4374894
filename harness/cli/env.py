"""``drillbook env up|down|status``: start, stop and inspect an environment drillbook runs
(``check``, ``shell`` and ``profile`` are modules of their own).

Subcommands are registered from ``SUBCOMMANDS`` (module, ``add_parser``): another
subcommand (``env check``) lives in its own module and is added to that tuple.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from drillbook.harness import signals
from drillbook.harness.config import Config, find_config
from drillbook.harness.environments.base import Environment
from drillbook.harness.environments.factory import build_environment
from drillbook.harness.environments.lifecycle import ComponentStatus, Lifecycle
from drillbook.harness.errors import DrillbookError
from drillbook.harness.lease import LeaseStatus, lease_for

#: (module, function) pairs; each function adds one subcommand to ``env``'s subparsers.
SUBCOMMANDS: tuple[tuple[str, str], ...] = (
    ("drillbook.harness.cli.env", "add_up"),
    ("drillbook.harness.cli.env", "add_down"),
    ("drillbook.harness.cli.env", "add_status"),
    ("drillbook.harness.cli.env_check", "add_check"),
    ("drillbook.harness.cli.env_shell", "add_shell"),
    ("drillbook.harness.cli.env_profile", "add_profile"),
    ("drillbook.harness.cli.env_policy", "add_policy"),
)

if TYPE_CHECKING:
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


def add_parser(subparsers: Subparsers) -> None:
    p = subparsers.add_parser(
        "env", help="start, stop or inspect the environment (default: local)",
        description="Manage an environment drillbook runs itself (the local environment: PostgreSQL "
        "primary and DR replica, Redis, the AWS APIs, the network links, the Compliant API).",
    )
    actions = p.add_subparsers(dest="env_command", metavar="ACTION", required=True)
    for module_name, function in SUBCOMMANDS:
        getattr(importlib.import_module(module_name), function)(actions)


def common(p: argparse.ArgumentParser) -> None:
    """The options every ``env`` subcommand takes."""
    p.add_argument("--env", default="local", metavar="NAME", help="environment profile (default local)")
    p.add_argument("--state-dir", type=Path, default=None, metavar="DIR",
                   help="drillbook's state directory (default: state_dir from drillbook.toml, else "
                   ".drillbook/); the local environment lives in DIR/local")


def add_up(actions: Subparsers) -> None:
    p = actions.add_parser("up", help="start the environment and wait until it is healthy")
    common(p)
    p.add_argument("--data-size", default=None, metavar="SIZE",
                   help="sample data set: small (default), 10MB, 100MB, 1GB")
    p.add_argument("--quiet", action="store_true", help="print only the outcome")
    p.set_defaults(handler=run_up)


def add_down(actions: Subparsers) -> None:
    p = actions.add_parser("down", help="stop everything the environment started (also after a crash)")
    common(p)
    p.set_defaults(handler=run_down)


def add_status(actions: Subparsers) -> None:
    p = actions.add_parser("status", help="each component with pid, port, health and detail, and who holds "
                           "the environment's lease")
    common(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run_status)


def environment(args: argparse.Namespace, **overrides: object) -> Environment:
    """The environment the arguments name (not started)."""
    config = find_config()
    if any(v is not None for v in overrides.values()):
        config = _with_overrides(config, args.env, overrides)
    return build_environment(args.env, config, state_dir(args))


def state_dir(args: argparse.Namespace) -> Path:
    if args.state_dir is not None:
        return Path(args.state_dir)
    return Path(find_config().get("state_dir", ".drillbook"))


def lifecycle(env: Environment, what: str) -> Lifecycle:
    if not isinstance(env, Lifecycle):
        raise DrillbookError(f"environment {env.name!r} is not run by drillbook: `env {what}` applies to "
                             "environments drillbook starts itself (local)")
    return env


def _with_overrides(config: Config, name: str, overrides: dict[str, object]) -> Config:
    data = dict(config.data)
    environments = dict(config.section("environments"))
    given = {k: v for k, v in overrides.items() if v is not None}
    environments[name] = {**environments.get(name, {}), **given}
    data["environments"] = environments
    return Config(data, config.path)


def run_up(args: argparse.Namespace) -> int:
    env = lifecycle(environment(args, data_size=args.data_size), "up")
    began = time.monotonic()
    signals.install()  # SIGTERM stops what was started, as Ctrl-C does
    try:
        started = env.up(progress=None if args.quiet else _say)
    finally:
        signals.uninstall()
    if not started:
        print("drillbook env up: already up")
        return 0
    print(f"drillbook env up: healthy in {time.monotonic() - began:.2f}s")
    return 0


def run_down(args: argparse.Namespace) -> int:
    env = lifecycle(environment(args), "down")
    report = env.down(progress=_say)
    if report.clean:
        print(f"drillbook env down: stopped {len(report.stopped)} component(s) in {report.seconds:.2f}s; "
              "nothing left running or listening")
        return 0
    print(f"drillbook env down: LEFT BEHIND: processes {report.still_running or 'none'}, "
          f"listening ports {report.still_listening or 'none'}", file=sys.stderr)
    return 1


def run_status(args: argparse.Namespace) -> int:
    env = environment(args)
    lease = lease_row(lease_for(args.env, find_config(), state_dir(args)).status())
    if not isinstance(env, Lifecycle):  # staging: drillbook runs nothing there; who holds it is what it knows
        print(json.dumps({"components": [asdict(lease)]}, indent=2) if args.json else table([lease]))
        return 0
    rows = env.status()
    if args.json:
        # How clients reach it (kubeconfig, AWS endpoint) beside the components: only while it is up.
        access = env.access() if rows else {}
        print(json.dumps({"components": [asdict(r) for r in [*rows, lease]], **access}, indent=2))
    elif not rows:
        print(f"drillbook env status: {args.env} is not up")
        print(table([lease]))
    else:
        print(table([*rows, lease]))
    return 0 if rows and all(r.health == "healthy" for r in rows) else 1


def lease_row(status: LeaseStatus) -> ComponentStatus:
    """The lease as a row of the status table (kind ``lease``: it does not count for health)."""
    holder = status.holder
    return ComponentStatus(name="lease", kind="lease", pid=None if holder is None else holder.pid, port=None,
                           health="free" if holder is None else "held", detail=status.line())


def table(rows: list[ComponentStatus]) -> str:
    headers = ("COMPONENT", "KIND", "PID", "PORT", "HEALTH", "DETAIL")
    cells = [(r.name, r.kind, str(r.pid or "-"), str(r.port or "-"), r.health, r.detail) for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers[:-1])]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers[:-1], widths, strict=True)) + "  " + headers[-1]]
    lines += ["  ".join(c.ljust(w) for c, w in zip(cell[:-1], widths, strict=True)) + "  " + cell[-1]
              for cell in cells]
    return "\n".join(lines)


def _say(message: str) -> None:
    print(message, flush=True)
