"""``drillbook explore``: search combinations of faults on the environment's reference platform
(docs/explore.md), under the environment's lease; the minimal failing schedule is written as a
drill file, the run as a report."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from drillbook.harness import signals, undolog
from drillbook.harness.config import find_config
from drillbook.harness.configcheck import check_run_config
from drillbook.harness.durations import format_duration, parse_duration
from drillbook.harness.errors import DrillInterrupted, InvalidDrillConfig
from drillbook.harness.lease import holding
from drillbook.harness.settings import from_config
from drillbook.harness.timing import new_run_id

if TYPE_CHECKING:
    from drillbook.harness.explore.target import Target


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "explore",
        help="search combinations of faults with Hypothesis; shrink a failure to a drill file",
        description="Draw schedules of overlapping faults over the reference platform's links, pods, "
        "deployments, database and cache; each is a drill with its own journal record. A failing "
        "schedule is shrunk and written as drills/found/test_<id>.py. Needs `drillbook env up`.",
    )
    p.add_argument("--budget", default="5m", help="how long to search (default 5m); shrinking may take "
                   "as long again once a failure is found")
    p.add_argument("--seed", default=None, help="Hypothesis seed (a whole number), for a repeatable search")
    p.add_argument("--env", default=None, help="environment profile (default local)")
    p.add_argument("--found-dir", default="drills/found", help="where minimal drills are written")
    p.add_argument("--drill-results", default=None, help="journal directory (default drill-results/)")
    p.set_defaults(handler=run)


def _seed(raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise InvalidDrillConfig(f"--seed must be a whole number, not {raw!r}") from None
    if value < 0:
        raise InvalidDrillConfig(f"--seed must not be negative, not {raw!r}")
    return value


def run(args: argparse.Namespace) -> int:
    budget = parse_duration(args.budget, what="--budget")
    if budget <= 0:
        raise InvalidDrillConfig(f"--budget must be more than 0, not {args.budget!r}")
    seed = _seed(args.seed)
    config = find_config()
    env_name = args.env or os.environ.get("DRILLBOOK_ENV") or "local"
    settings = from_config(config, {"drill_env": env_name, "drill_results": args.drill_results})
    check_run_config(config, env_name)
    from drillbook.drills.explore_reference import reference_target
    from drillbook.harness.environments.factory import build_environment

    run_id = new_run_id()
    with holding(env_name, config, settings.state_dir, run_id, say=_say):
        env = build_environment(env_name, config, settings.state_dir)
        env.settle(progress=_say)
        target = reference_target(env, str(settings.state_dir.absolute()))
        return search(target, state_dir=settings.state_dir, results_dir=settings.results_dir, budget_s=budget,
                      seed=seed, env_name=env_name, found_dir=Path(args.found_dir))


def search(target: Target, *, state_dir: Path, results_dir: Path, budget_s: float, seed: int | None,
           env_name: str, found_dir: Path) -> int:
    """Search ``target``, write the report, and return the command's exit code.

    SIGINT and SIGTERM stop the search: the example under way ends as any drill does (its
    faults reverted newest first, the signal held back while they revert, its journal record
    written) and the exit code is the shell's for the signal, 130 or 143. The tests run this on
    a platform of their own (tests/explore)."""
    from drillbook.harness.explore.report import write_report
    from drillbook.harness.explore.search import Explorer

    explorer = Explorer(target, state_dir=state_dir, results_dir=results_dir, budget_s=budget_s, seed=seed,
                        env_name=env_name, found_dir=found_dir, say=_say)
    _say(f"{len(target.space.choices)} faults in the space, budget {format_duration(budget_s)}, "
         f"seed {'random' if seed is None else seed}")
    signals.install(sigint=True)
    try:
        result = explorer.run()
    except DrillInterrupted as exc:
        _say(f"stopped ({exc}): {_left_behind(state_dir)}")
        return exc.exit_code
    finally:
        signals.uninstall()
    report = write_report(results_dir, result)
    reused = f" ({result.reused} more draw(s) of a schedule already played)" if result.reused else ""
    _say(f"{len(result.examples)} schedules tried in {format_duration(result.elapsed_s)}{reused}; "
         f"{len(result.findings)} minimal failing schedule(s); report {report}")
    for finding in result.findings:
        _say(f"FOUND {finding.invariant}: {finding.schedule.text()} -> {finding.drill_file}")
    return 1 if result.findings else 0


def _left_behind(state_dir: Path) -> str:
    """What this process's undo logs still list (nothing, unless a revert failed)."""
    logs = [log for log in undolog.scan(state_dir)[0] if log.pid == os.getpid() and log.outstanding]
    if not logs:
        return "the running example's faults were reverted; nothing is left in the undo log"
    faults = ", ".join(entry.name for log in logs for entry in log.outstanding)
    return (f"NOT reverted: {faults} (in {', '.join(str(log.path) for log in logs)}); "
            "run `drillbook revert` once the cause is fixed")


def _say(message: str) -> None:
    print(f"drillbook explore: {message}", flush=True)
