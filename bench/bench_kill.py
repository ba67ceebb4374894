"""A kill campaign: runners SIGKILLed at random moments of random drills, then reverted (issue #15).

Each trial picks a random drill of the annual tier (every drill) and a random moment in its
run, starts ``drillbook run`` for that drill in a process group of its own, SIGKILLs the whole
group at that moment (the runner and its pytest: what a CI job timeout does), runs
``drillbook revert`` (in a share of the trials it first kills that revert part-way too, and a
second revert must complete), checks that the environment is back to its baseline, then runs
the same drill again, which must PASS.

The baseline, taken once the environment is up: every deployment's release (version and
environment) and replica count with its rollout complete, no cordoned zone, the PostgreSQL
servers (names and roles: no extra restored or PITR clusters, the DR replica not promoted), the
toxiproxy links (upstream, enabled, no toxics), the Route 53 record of the API, the lease free,
no undo log left and the steady state holding. A leak is any difference still there 120 s after
the revert; the environment is then rebuilt so that the next trial starts clean.

``--starts N`` first brings the environment up and down N times and counts the starts that
succeed (a failed start prints its error, which carries the server's log).

    python bench/bench_kill.py --trials 100 [--starts 100] [--seed 7] [--revert-kills 0.3] [--budget 6000]

Figures are printed, nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drillbook.drills.platform import Platform
from drillbook.harness import undolog
from drillbook.harness.config import find_config
from drillbook.harness.lease import lease_for
from drillbook.harness.polling import WaitTimeout, wait_until
from drillbook.harness.steady import check_all
from drillbook.harness.suite import reference_path
from drillbook.twin.environment import LocalEnvironment
from drillbook.twin.rds.plane import STANDBY

DRILLBOOK = [sys.executable, "-m", "drillbook"]
CONFIG = """\
suite = "reference"
state_dir = ".drillbook"
results_dir = "drill-results"

[environments.local]
snapshot_interval = "2m"
snapshot_keep = 5
max_surge = 3
"""
SETTLE_S = 120.0
#: The application database's shape: each relation with its grants, constraints (a foreign key a
#: revert re-adds NOT VALID still counts as the same constraint), triggers on or off, valid indexes.
SCHEMA = """
SELECT c.relname, c.relkind, coalesce(c.relacl::text, ''),
       coalesce((SELECT string_agg(conname || ':' || contype::text, ',' ORDER BY conname)
                 FROM pg_constraint WHERE conrelid = c.oid), ''),
       coalesce((SELECT string_agg(tgname || ':' || tgenabled::text, ',' ORDER BY tgname)
                 FROM pg_trigger WHERE tgrelid = c.oid AND NOT tgisinternal), ''),
       coalesce((SELECT i.indisvalid::text FROM pg_index i WHERE i.indexrelid = c.oid), '')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i', 'S', 'v') ORDER BY 1
"""


@dataclass
class Trial:
    number: int
    drill: str
    kill_at: float = 0.0
    killed: bool = False
    revert_killed: bool = False
    revert_code: int | None = None
    revert_out: str = ""
    #: Faults (and recovery changes) the revert found in effect after the kill.
    reverted: int = 0
    leaks: list[str] = field(default_factory=list)
    rerun: str = ""


class Campaign:
    def __init__(self, workspace: Path, *, say: Any = print) -> None:
        self.workspace = workspace
        self.state = workspace / ".drillbook"
        self.results = workspace / "drill-results"
        self.say = say
        self.durations: dict[str, list[float]] = {}

    # -- commands ----------------------------------------------------------------------------

    def drillbook(self, *args: str, timeout: float = 3600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*DRILLBOOK, *args], cwd=self.workspace, capture_output=True, text=True, timeout=timeout
        )

    def start_drill(self, drill: str, log: Path) -> subprocess.Popen[bytes]:
        with open(log, "ab") as out:
            return subprocess.Popen(
                [*DRILLBOOK, "run", "--schedule", "annual", "--", "-k", drill, "-q"],
                cwd=self.workspace,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def env(self) -> LocalEnvironment:
        return LocalEnvironment(self.state / "local")

    def drills(self) -> list[str]:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "--collect-only",
                "-q",
                "-p",
                "no:cacheprovider",
                str(reference_path()),
                "--drill-tier",
                "annual",
            ],
            cwd=self.workspace,
            capture_output=True,
            text=True,
            timeout=600,
        )
        return sorted({line.rsplit("::", 1)[1] for line in done.stdout.splitlines() if "::test_" in line})

    # -- the baseline --------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        env = self.env()
        plane = env.app_plane
        assert plane is not None, "the app plane is not up"
        deployments = {}
        for name in ("api", "workers", "api-dr", "workers-dr"):
            status = env.deployment(name).status()
            deployments[name] = {
                "version": status["version"],
                "env": status["env"],
                "replicas": status["replicas"],
                "settled": status["rollout"] == "complete" and status["available"] == status["replicas"],
            }
        record = env.state.read()
        assert record is not None
        proxies = env.network.client.proxies()  # type: ignore[attr-defined]
        return {
            "deployments": deployments,
            "zones": plane.supervisor.zones(),
            "clusters": {n: c.role for n, c in record.clusters.items()},
            "replica": env.local_replica.lag().state in ("streaming", "catchup"),
            "links": {
                n: {"upstream": p.upstream, "enabled": p.enabled, "toxics": len(p.toxics)}
                for n, p in proxies.items()
            },
            "dns": env.dns.resolve(env.platform.api_record),  # type: ignore[attr-defined]
            "schema": {
                str(row[0]): [str(v) for v in row[1:]]
                for row in env.local_database.cluster.sql(SCHEMA, dbname="compliant")
            },
        }

    def baseline(self) -> dict[str, Any]:
        """The snapshot once the environment is complete: the Multi-AZ standby is built in the
        background after ``env up`` returns, and a baseline taken before it would count it as a
        leak of the first trial."""
        try:
            return wait_until(self.snapshot, what="the Multi-AZ standby to be built", timeout=300,
                              interval=1.0, until=lambda found: STANDBY in found["clusters"])
        except WaitTimeout as exc:
            print(f"  note: {exc}; the baseline has no Multi-AZ standby", flush=True)
            return self.snapshot()

    def differences(self, base: dict[str, Any]) -> list[str]:
        found = []
        try:
            now = self.snapshot()
        except Exception as exc:  # a part of the environment does not answer: that is a leak too
            return [f"environment not answering: {type(exc).__name__}: {exc}"]
        for key in base:
            if now[key] != base[key]:
                found.append(f"{key}: {_diff(base[key], now[key])}")
        lease = lease_for("local", find_config(self.workspace), self.state).status()
        if not lease.free:
            found.append(f"lease: {lease.line()}")
        left = [
            f"{log.path.name}: {[e.name for e in log.outstanding]}"
            for log in undolog.all_logs(self.state)
            if log.outstanding
        ]
        if left:
            found.append(f"undo logs: {left}")
        env = self.env()
        steady = check_all([*env.steady_probes(), *(probe for _, probe in Platform(env).smoke_checks())])
        if not steady.passed:
            found.append(f"steady state: {steady.detail}")
        return found

    def settled(self, base: dict[str, Any]) -> list[str]:
        """The differences still there after up to SETTLE_S (reverts may leave rollouts running)."""
        deadline = time.monotonic() + SETTLE_S
        while True:
            found = self.differences(base)
            if not found or time.monotonic() > deadline:
                return found
            time.sleep(2.0)

    # -- one trial -------------------------------------------------------------------------------

    def trial(self, trial: Trial, rng: random.Random, base: dict[str, Any], revert_kills: float) -> None:
        log = self.workspace / "logs" / f"trial-{trial.number:03d}-{trial.drill}.log"
        log.parent.mkdir(exist_ok=True)
        for _ in range(4):
            seen = self.durations.get(trial.drill)
            estimate = statistics.median(seen) if seen else 25.0
            trial.kill_at = rng.uniform(0.5, max(1.0, estimate * 0.95))
            began = time.monotonic()
            runner = self.start_drill(trial.drill, log)
            try:
                runner.wait(timeout=trial.kill_at)
            except subprocess.TimeoutExpired:
                os.killpg(runner.pid, signal.SIGKILL)
                runner.wait()
                trial.killed = True
                break
            self.durations.setdefault(trial.drill, []).append(time.monotonic() - began)
            self.say(
                f"    the run ended ({runner.returncode}) before its kill at {trial.kill_at:.1f}s; again"
            )
            self.drillbook("revert")
        if rng.random() < revert_kills:
            reverting = subprocess.Popen(
                [*DRILLBOOK, "revert"],
                cwd=self.workspace,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            try:
                reverting.wait(timeout=rng.uniform(0.05, 2.0))
            except subprocess.TimeoutExpired:
                os.killpg(reverting.pid, signal.SIGKILL)
                reverting.wait()
                trial.revert_killed = True
        done = self.drillbook("revert", timeout=1800)
        trial.revert_code, trial.revert_out = done.returncode, (done.stdout + done.stderr).strip()
        counted = re.search(r"drillbook revert: (\d+) reverted", trial.revert_out)
        trial.reverted = int(counted.group(1)) if counted else 0
        trial.leaks = self.settled(base)
        began = time.monotonic()
        rerun = self.drillbook("run", "--schedule", "annual", "--", "-k", trial.drill, "-q", timeout=3600)
        self.durations.setdefault(trial.drill, []).append(time.monotonic() - began)
        with open(log, "a") as out:
            out.write(rerun.stdout + rerun.stderr)
        trial.rerun = _status(self.results) if rerun.returncode == 0 else f"exit {rerun.returncode}"

    # -- starts ------------------------------------------------------------------------------------

    def starts(self, count: int) -> tuple[int, list[float]]:
        ok, times = 0, []
        for number in range(1, count + 1):
            began = time.monotonic()
            up = self.drillbook("env", "up", "--quiet", timeout=900)
            took = time.monotonic() - began
            down = self.drillbook("env", "down", timeout=900)
            if up.returncode == 0:
                ok += 1
                times.append(took)
            else:
                self.say(f"  start {number}: FAILED: {(up.stdout + up.stderr).strip()[-2000:]}")
            if down.returncode != 0:
                self.say(
                    f"  start {number}: down left something: {(down.stdout + down.stderr).strip()[-500:]}"
                )
            if number % 10 == 0 or number == count:
                self.say(f"  starts: {ok} of {number} so far")
        return ok, times


def _status(results: Path) -> str:
    files = sorted(results.glob("*.json"))
    return str(json.loads(files[-1].read_text())["status"]) if files else "no record"


def _diff(before: Any, after: Any) -> str:
    if isinstance(before, dict) and isinstance(after, dict):
        keys = sorted(set(before) | set(after))
        return "; ".join(
            f"{k}: {before.get(k)!r} -> {after.get(k)!r}" for k in keys if before.get(k) != after.get(k)
        )
    return f"{before!r} -> {after!r}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument(
        "--starts", type=int, default=0, help="bring the environment up and down this often first"
    )
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--revert-kills", type=float, default=0.3, help="share of trials that also kill a revert"
    )
    parser.add_argument(
        "--drills", default=None, help="comma-separated test names (default: the annual tier)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the workspace (logs, journal) afterwards")
    parser.add_argument("--budget", type=float, default=None,
                        help="start no trial after this many seconds (the figures cover the trials run)")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(10**6)
    rng = random.Random(seed)
    workspace = Path(tempfile.mkdtemp(prefix="drillbook-bench-kill-", dir="/tmp"))
    workspace.chmod(0o755)  # the database user must reach the state directory below it
    (workspace / "drillbook.toml").write_text(CONFIG)
    campaign = Campaign(workspace, say=lambda line: print(line, flush=True))
    print(f"bench_kill: seed {seed}, workspace {workspace}", flush=True)
    began = time.monotonic()
    started = (0, [])
    trials: list[Trial] = []
    try:
        if args.starts:
            print(f"environment starts: {args.starts} x (env up; env down)", flush=True)
            started = campaign.starts(args.starts)
        if args.trials:
            drills = args.drills.split(",") if args.drills else campaign.drills()
            print(f"{len(drills)} drills of the annual tier: {', '.join(drills)}", flush=True)
            up = campaign.drillbook("env", "up", "--quiet", timeout=900)
            if up.returncode != 0:
                raise SystemExit(f"the environment did not start: {up.stdout}{up.stderr}")
            base = campaign.baseline()
            for number in range(1, args.trials + 1):
                if args.budget is not None and time.monotonic() - began > args.budget:
                    print(f"budget of {args.budget:.0f}s spent: {number - 1} of {args.trials} trials run",
                          flush=True)
                    break
                trial = Trial(number, rng.choice(drills))
                campaign.trial(trial, rng, base, args.revert_kills)
                trials.append(trial)
                print(
                    f"trial {number:3d} {trial.drill:45s} killed at {trial.kill_at:5.1f}s"
                    f"{' (not killed: it kept ending first)' if not trial.killed else ''}"
                    f"{', revert killed part-way' if trial.revert_killed else ''}; "
                    f"revert exit {trial.revert_code} ({trial.reverted} reverted); leaks {len(trial.leaks)}; "
                    f"re-run {trial.rerun}",
                    flush=True,
                )
                for leak in trial.leaks:
                    print(f"      LEAK {leak}", flush=True)
                if trial.revert_code != 0:
                    print("      " + trial.revert_out.replace("\n", "\n      "), flush=True)
                if trial.leaks:
                    print("      rebuilding the environment for the next trial", flush=True)
                    campaign.drillbook("env", "down", timeout=900)
                    campaign.drillbook("env", "up", "--quiet", timeout=900)
                    base = campaign.baseline()
    finally:
        campaign.drillbook("env", "down", timeout=900)
        if not args.keep:
            shutil.rmtree(workspace, ignore_errors=True)
    killed = [t for t in trials if t.killed]
    print()
    print(
        f"trials:          {len(trials)} ({len(killed)} runners SIGKILLed mid-run, "
        f"{sum(t.revert_killed for t in trials)} reverts also SIGKILLed part-way)"
    )
    clean = sum(t.revert_code == 0 for t in trials)
    in_effect, undone = sum(t.reverted > 0 for t in trials), sum(t.reverted for t in trials)
    print(
        f"reverted:        {clean} of {len(trials)} ({in_effect} kills left faults in effect; "
        f"{undone} faults and recovery changes reverted in all)"
    )
    leaky = sum(bool(t.leaks) for t in trials)
    print(f"leaks found:     {sum(len(t.leaks) for t in trials)} (in {leaky} trials)")
    print(f"re-runs PASS:    {sum(t.rerun == 'PASS' for t in trials)} of {len(trials)}")
    if args.starts:
        ok, times = started
        median = f", median {statistics.median(times):.1f}s" if times else ""
        print(f"starts:          {ok} of {args.starts} started{median}")
    print(f"wall time:       {time.monotonic() - began:.0f}s (seed {seed})")


if __name__ == "__main__":
    main()
