"""Running a sealed drill when it is due: reveal, verify, page, run the drawn scenarios.

The drawn scenarios run through ``drillbook run``'s machinery (the same pytest
command line) with the selection plugin and ``--drill-extra``, so every journal
record of the run carries ``extra["unannounced"]`` (the commitment, the revealed
plan and nonce, and whether they match) and ``extra["engagement"]`` (the
paging figures).
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drillbook.harness.childproc import run_child
from drillbook.harness.config import Config, config_env, find_config
from drillbook.harness.lease import Lease, holding
from drillbook.harness.paging.engage import Engagement, engage
from drillbook.harness.paging.policy import PagingPolicy
from drillbook.harness.timing import new_run_id, utcnow_iso
from drillbook.harness.unannounced.reveal import Reveal, reveal
from drillbook.harness.unannounced.store import Sealed, SealError, SealStore

SELECT_PLUGIN = "drillbook.harness.unannounced.select"


@dataclass
class UnannouncedRun:
    reveal: Reveal
    run_id: str
    engagement: Engagement | None
    exit_code: int
    extra_path: Path


def run_sealed(
    sealed: Sealed,
    store: SealStore,
    *,
    state_dir: Path,
    policy: PagingPolicy | None,
    suite: Path | None,
    env: str | None,
    results_dir: str | None,
    pytest_args: Sequence[str] = (),
    say: Callable[[str], None] = print,
    config: Config | None = None,
    wait_for_lease: float = 0.0,
) -> UnannouncedRun:
    shown = reveal(sealed, utcnow_iso())
    if not shown.verified:
        problem = "its commitment" if not shown.commitment_verified else "the draw from its own seed"
        raise SealError(
            f"sealed plan {sealed.path} does not match {problem}: it was changed after sealing; "
            "the drill is void, seal a new one"
        )
    run_id = new_run_id()
    # The environment is ours before anyone is paged: a busy environment stops here (exit 3) and the
    # sealed drill stays pending.
    config = config if config is not None else find_config()
    with holding(env or sealed.plan.environment, config, state_dir, run_id, wait=wait_for_lease,
                 say=say) as lease:
        return _run_held(sealed, store, shown, run_id, lease, state_dir=state_dir, policy=policy, suite=suite,
                         env=env, results_dir=results_dir, pytest_args=pytest_args, say=say, config=config)


def _run_held(
    sealed: Sealed,
    store: SealStore,
    shown: Reveal,
    run_id: str,
    lease: Lease,
    *,
    state_dir: Path,
    policy: PagingPolicy | None,
    suite: Path | None,
    env: str | None,
    results_dir: str | None,
    pytest_args: Sequence[str],
    say: Callable[[str], None],
    config: Config,
) -> UnannouncedRun:
    say(f"revealed unannounced drill {sealed.commitment} (run {run_id}):")
    say(json.dumps(shown.to_extra(), indent=2, sort_keys=True))
    say("the revealed plan matches the commitment: verified")
    engagement = None
    if policy is not None:
        engagement = engage(
            policy,
            run_id,
            state_dir=state_dir,
            summary=f"DR drill {run_id} (unannounced) in environment {env or sealed.plan.environment}: "
            "respond as to a real incident.",
            excluded=sealed.plan.excluded,
            say=say,
        )
        say(_engagement_line(engagement))
    extra = {"unannounced": shown.to_extra(), "engagement": _engagement_extra(engagement)}
    extra_path = _write_extra(store, run_id, extra)
    child_env, fds = lease.child_env()
    code = run_child(
        drill_command(
            sealed, run_id, extra_path, suite=suite, env=env, results_dir=results_dir, pytest_args=pytest_args
        ),
        env={**os.environ, **config_env(config), **child_env},
        pass_fds=fds,
    )
    store.mark_done(sealed, run_id=run_id, exit_code=code, verified=shown.verified)
    return UnannouncedRun(shown, run_id, engagement, code, extra_path)


def drill_command(
    sealed: Sealed,
    run_id: str,
    extra_path: Path,
    *,
    suite: Path | None,
    env: str | None,
    results_dir: str | None,
    pytest_args: Sequence[str] = (),
) -> list[str]:
    from drillbook.harness.cli.run import command

    chosen = suite if suite is not None else (Path(sealed.plan.suite) if sealed.plan.suite else None)
    extra = ["-p", SELECT_PLUGIN]
    extra += [f"--drill-scenario={name}" for name in sealed.plan.scenarios]
    extra += ["--drill-extra", str(extra_path), "--drill-run-id", run_id, *pytest_args]
    args = argparse.Namespace(
        # "annual" runs every tier: the selection plugin narrows it to the drawn scenarios.
        schedule="annual",
        env=env or sealed.plan.environment,
        suite=chosen,
        drill_results=results_dir,
        pytest_args=extra,
    )
    return command(args)


def _engagement_extra(engagement: Engagement | None) -> dict[str, Any]:
    if engagement is None:
        return {"outcome": "not paged", "detail": "no [paging] table in the config"}
    return engagement.to_dict()


def _engagement_line(e: Engagement) -> str:
    if e.outcome == "acknowledged":
        return (
            f"engaged: acknowledged by {e.acked_by} at level {e.acked_level} after "
            f"{e.time_to_engage_s:.1f}s ({e.escalations} escalation(s))"
        )
    return f"not engaged: {e.outcome} after paging levels {e.levels_paged or 'none'}"


def _write_extra(store: SealStore, run_id: str, extra: dict[str, Any]) -> Path:
    directory = store.directory / "runs"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / f"{run_id}.extra.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(extra, out, indent=2, sort_keys=True)
    return path
