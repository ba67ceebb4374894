"""``drillbook unannounced seal|due|run|verify``: sealed unannounced drills.

Exit codes (every subcommand): 0 done / due; 1 a drill of the run failed (or a
journal check failed); 2 an error (bad input, a tampered or exposed sealed plan);
3 no sealed drill pending; 4 a sealed drill is pending but not due yet;
5 the drills passed but nobody acknowledged the page; 6 the environment is leased to
another run (nothing was revealed or paged: the sealed drill stays pending).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from drillbook.harness.cli.plan import SUITE_HELP
from drillbook.harness.cli.run import WAIT_HELP
from drillbook.harness.config import find_config
from drillbook.harness.configcheck import check_run_config
from drillbook.harness.durations import parse_duration
from drillbook.harness.errors import InvalidDrillConfig
from drillbook.harness.lease import LeaseHeld
from drillbook.harness.marker import TIERS
from drillbook.harness.paging.policy import policy_from_config
from drillbook.harness.unannounced.store import SealStore
from drillbook.harness.unannounced.window import FORMS, parse_window

OK = 0
FAILED = 1
NO_SEALED = 3
NOT_DUE = 4
NOT_ACKNOWLEDGED = 5
ENVIRONMENT_BUSY = 6


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "unannounced",
        help="seal an unannounced drill, check whether it is due, run it, verify it",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    s = sub.add_parser("seal", help="draw scenarios and a time in secret; print only the commitment")
    s.add_argument(
        "--tier", choices=TIERS, default="annual", help="drills to draw from (annual: every drill)"
    )
    s.add_argument("--window", required=True, help=FORMS)
    s.add_argument("--scenarios", type=int, default=1, metavar="N", help="how many scenarios (default 1)")
    s.add_argument(
        "--exclude",
        action="extend",
        nargs="+",
        default=[],
        metavar="PERSON",
        help="people who know the plan: the drill avoids their on-call shifts and skips paging them",
    )
    _common(s)
    s.set_defaults(handler=run_seal)

    d = sub.add_parser("due", help="exit 0 when a sealed drill is due (for an hourly CI job)")
    _common(d)
    d.add_argument(
        "--drill-results",
        default=None,
        help="also count drills found in this journal as done (CI without a cached state)",
    )
    d.set_defaults(handler=run_due)

    r = sub.add_parser("run", help="run the due sealed drill: reveal, verify, page, run, journal")
    _common(r)
    r.add_argument("--drill-results", default=None, help="journal directory (default drill-results/)")
    r.add_argument("--wait-for-lease", metavar="DURATION", default=None, help=WAIT_HELP)
    r.add_argument("pytest_args", nargs=argparse.REMAINDER, help="-- then arguments for pytest")
    r.set_defaults(handler=run_run)

    v = sub.add_parser("verify", help="check every unannounced drill in the journal against its commitment")
    v.add_argument("--drill-results", type=Path, default=Path("drill-results"), help="journal directory")
    v.set_defaults(handler=run_verify)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--suite", default=None, help=SUITE_HELP)
    p.add_argument("--env", default=None, help="environment profile (default local)")
    p.add_argument("--state-dir", type=Path, default=None, help="state directory (default .drillbook/)")


def state_dir(args: argparse.Namespace) -> Path:
    if args.state_dir is not None:
        return Path(args.state_dir)
    return Path(find_config().get("state_dir", ".drillbook"))


def store_for(args: argparse.Namespace) -> SealStore:
    return SealStore(state_dir(args) / "unannounced")


def run_seal(args: argparse.Namespace) -> int:
    from drillbook.harness.cli.plan import chosen_suite
    from drillbook.harness.plan import collect
    from drillbook.harness.unannounced.seal import seal

    parse_window(args.window)  # a bad window fails before the (slow) collection
    suite = chosen_suite(args.suite, "unannounced")
    collection = collect(suite, schedule=args.tier)
    window = parse_window(args.window)  # "now" is now, after the collection
    if collection.errors:
        raise InvalidDrillConfig(f"the suite does not collect cleanly: {collection.errors[0]}; fix it first")
    candidates: dict[str, list[str]] = {}
    for drill in collection.drills:
        if drill.spec is not None:
            candidates.setdefault(drill.spec.scenario, []).append(drill.nodeid)
    policy = policy_from_config(find_config())
    sealed = seal(
        candidates,
        tier=args.tier,
        window=window,
        count=args.scenarios,
        excluded=args.exclude,
        rotation=policy.rotation if policy else None,
        suite="" if args.suite is None else str(args.suite),
        environment=args.env or os.environ.get("DRILLBOOK_ENV") or "local",
    )
    path = store_for(args).save(sealed)
    print(sealed.commitment)
    print(
        f"drillbook unannounced: sealed in {path} (mode 0600, readable by you only); publish the "
        "commitment above now, keep the file secret until the drill",
        file=sys.stderr,
    )
    return OK


def run_due(args: argparse.Namespace) -> int:
    store = store_for(args)
    results = Path(args.drill_results) if args.drill_results else None
    now = datetime.now(UTC)
    pending = store.pending(results)
    if not pending:
        print("drillbook unannounced: no sealed drill pending")
        return NO_SEALED
    due = [s for s in pending if s.plan.scheduled_at <= now]
    if not due:
        # Never say when: that would announce the drill.
        print(f"drillbook unannounced: {len(pending)} sealed drill(s) pending, not due yet")
        return NOT_DUE
    print(f"drillbook unannounced: sealed drill {due[0].commitment} is due")
    return OK


def run_run(args: argparse.Namespace) -> int:
    from drillbook.harness.unannounced.runner import run_sealed

    store = store_for(args)
    config = find_config()
    wait = parse_duration(args.wait_for_lease or 0, what="--wait-for-lease")
    results = Path(args.drill_results) if args.drill_results else None
    pending = store.pending(results)
    if not pending:
        print("drillbook unannounced: no sealed drill pending")
        return NO_SEALED
    due = [s for s in pending if s.plan.scheduled_at <= datetime.now(UTC)]
    if not due:
        print(f"drillbook unannounced: {len(pending)} sealed drill(s) pending, not due yet")
        return NOT_DUE
    extra = list(args.pytest_args)
    if extra and extra[0] == "--":
        extra = extra[1:]
    check_run_config(config, args.env or due[0].plan.environment)
    try:
        outcome = run_sealed(
            due[0],
            store,
            state_dir=state_dir(args),
            policy=policy_from_config(config),
            suite=args.suite,
            env=args.env,
            results_dir=args.drill_results,
            pytest_args=extra,
            say=lambda line: print(line, flush=True),
            config=config,
            wait_for_lease=wait,
        )
    except LeaseHeld as exc:
        print(f"drillbook unannounced: {exc}", file=sys.stderr)
        return ENVIRONMENT_BUSY
    if outcome.exit_code != 0:
        return FAILED
    if outcome.engagement is not None and outcome.engagement.outcome != "acknowledged":
        return NOT_ACKNOWLEDGED
    return OK


def run_verify(args: argparse.Namespace) -> int:
    from drillbook.harness.unannounced.verify import check_journal

    if not args.drill_results.is_dir():
        raise InvalidDrillConfig(
            f"journal directory {args.drill_results} does not exist; pass --drill-results DIR"
        )
    checks = check_journal(args.drill_results)
    if not checks:
        print(f"drillbook unannounced: no unannounced drill in {args.drill_results}")
        return OK
    for c in checks:
        state = "OK" if c.ok else "MISMATCH"
        detail = (
            ""
            if c.ok
            else (
                " (plan or nonce do not hash to the commitment)"
                if not c.commitment_ok
                else " (the draw does not follow from the seed)"
            )
        )
        print(f"{state:8} {c.commitment}  runs {', '.join(c.run_ids)}{detail}")
    return OK if all(c.ok for c in checks) else FAILED
