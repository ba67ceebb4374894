"""Scenario 5: Application Crash (RTO 30 minutes; RPO none: the application is stateless).

A bad release crash-loops: every replica of the API is replaced (``Recreate``) by a
version that exits at start because a variable it needs is missing, so the service
is down. The runbook detects the CrashLoopBackOff, reads the rollout history and
the crashed replicas' previous logs (which name the missing variable), then
recovers by one of the DR procedures' options: 5A ``rollout undo``, 5B fix and
redeploy (the variable the logs named, set with ``kubectl set env``), 5C an
emergency hotfix release (``kubectl set image`` to ``1.1.1-hotfix1``). Each drill
ends on the release of record (the one before the fault). The ledger writes
through the service for the whole drill: no acknowledged write may be lost.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from drillbook.drills import steps
from drillbook.drills.context import Context
from drillbook.drills.platform import Platform
from drillbook.faults.deployment_bad_release import DeploymentBadRelease, image_tag
from drillbook.faults.deployment_release import DeploymentRelease
from drillbook.harness.drill import ACTIVATION, ASSESSMENT, DETECTION, RESTORATION, VERIFICATION, Drill
from drillbook.harness.environments.base import Environment
from drillbook.harness.phases import expected_phases
from drillbook.harness.runbook import Runbook, Step

SCENARIO = "application-crash"
CRASH_LOOP = "CrashLoopBackOff"
#: The reference service's releases (image tags): 1.1.0 needs a variable no release sets and
#: crash-loops; 1.1.1-hotfix1 is its emergency hotfix (the twin serves both: twin/service/images.py).
BAD_VERSION = "1.1.0"
HOTFIX_VERSION = "1.1.1-hotfix1"
#: What the fixed release sets the missing variable to (5B): not a secret.
FEATURE_FLAGS = "http://feature-flags.compliant.internal/v1"
#: A fix that does not fix fails the drill after this long, not after the hard timeout.
FIX_TIMEOUT_S = 60.0
_MISSING = re.compile(r"missing required environment variables? ([A-Z0-9_]+(?:, [A-Z0-9_]+)*)")
#: What the verification expects of the release serving after recovery: (passed, detail).
Expectation = Callable[[Context, dict[str, Any]], tuple[bool, str]]



def _wait_limit(ctx: Context) -> float:
    """How long a rollout may be waited for: FIX_TIMEOUT_S, and never past the drill's hard timeout."""
    return max(1.0, ctx.drill.bounded(FIX_TIMEOUT_S))


def _current_pods(status: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in status["pods"] if p["revision"] == status["revision"] and not p["terminating"]]


def start(drill: Drill, env: Environment, platform: Platform) -> Context:
    ctx = Context(drill, env, platform)
    drill.steady_state(platform.health_probe(), platform.login_probe())
    ctx.found["ledgers"] = [drill.ledger(platform.ledger_store())]
    steps.wait_for_acks(ctx)
    status = env.app.status()
    ctx.found["release_of_record"] = {
        "revision": status["revision"],
        "version": status["version"],
        "env": dict(status["env"]),
    }
    return ctx


def bad_release(ctx: Context) -> DeploymentBadRelease:
    """The release that crashes, rolled out with ``Recreate`` so the whole service goes down."""
    return DeploymentBadRelease(**ctx.where(), version=BAD_VERSION, deployment="app", strategy="Recreate")


# -- detection and diagnosis (every option) ---------------------------------------------------


def crash_loop(ctx: Context) -> str:
    """``kubectl get pods``: the new release's replicas show STATUS CrashLoopBackOff."""

    def crashing() -> dict[str, Any]:
        """The deployment's status once it crash-loops; empty (not yet) before."""
        status = ctx.env.app.status()
        looping = [p for p in _current_pods(status) if p["phase"] == CRASH_LOOP]
        return status if looping and not any(p["ready"] for p in status["pods"]) else {}

    what = f"a replica of the new release in {CRASH_LOOP}"
    status = ctx.drill.wait_until(crashing, timeout=60.0, what=what)
    pods = _current_pods(status)
    looping = [p for p in pods if p["phase"] == CRASH_LOOP]
    ctx.found["crashing"] = [p["name"] for p in looping]
    ctx.drill.extra["crash_loop"] = {p["name"]: p["restarts"] for p in pods}
    return f"revision {status['revision']} ({status['version']}): " + ", ".join(
        f"{p['name']} {p['phase']} restarts={p['restarts']}" for p in pods
    )


def rollout_history(ctx: Context) -> str:
    """``kubectl rollout history deployment/backend``"""
    revisions = [
        {"revision": r["revision"], "version": r["version"], "cause": r["cause"]}
        for r in ctx.env.app.history()
    ]
    ctx.found["history"] = revisions
    ctx.drill.extra["rollout_history"] = revisions
    return "; ".join(f"{r['revision']} {r['version']} ({r['cause']})" for r in revisions[-3:])


def previous_logs(ctx: Context) -> str:
    """``kubectl logs <pod> --previous``: why the last run of a crashing replica ended."""
    pod = ctx.found["crashing"][0]
    log = ctx.env.app.logs(pod, previous=True)
    match = _MISSING.search(log)
    missing = match.group(1).split(", ") if match else []
    ctx.found["missing"] = missing
    ctx.drill.verify(
        "the crashed replica's logs name the cause",
        (bool(missing), f"missing {', '.join(missing)}" if missing else f"no cause in: {log[-200:]!r}"),
    )
    last = log.strip().splitlines()[-1] if log.strip() else "(empty log)"
    return f"{pod}: {last[:300]}"


# -- the recovery options -------------------------------------------------------------------


def rollout_undo(ctx: Context) -> str:
    """Option A: ``kubectl rollout undo deployment/backend``"""
    ctx.env.app.rollout_undo()
    status = ctx.env.app.status()
    return f"rolled back: revision {status['revision']} version {status['version']}"


def set_missing_variable(ctx: Context) -> str:
    """Option B: ``kubectl set env deployment/backend MISSING_VAR=value`` (the variable the logs named)."""
    missing = ctx.found.get("missing") or []
    if not missing:
        raise RuntimeError("the diagnosis found no missing variable to set")
    names = missing
    record = ctx.found["release_of_record"]
    ctx.drill.apply(
        DeploymentRelease(
            env_name=ctx.env_name,
            state_dir=ctx.state_dir,
            deployment="app",
            values=dict.fromkeys(names, FEATURE_FLAGS),
            previous={"version": record["version"], "env": {n: record["env"].get(n) for n in names}},
            timeout=_wait_limit(ctx),
        )
    )
    return f"set {', '.join(names)} on the release"


def deploy_hotfix(ctx: Context) -> str:
    """Option C: ``kubectl set image deployment/backend backend=compliant-backend:v1.1.1-hotfix1``"""
    record = ctx.found["release_of_record"]
    ctx.drill.apply(
        DeploymentRelease(
            env_name=ctx.env_name,
            state_dir=ctx.state_dir,
            deployment="app",
            version=HOTFIX_VERSION,
            previous={"version": record["version"], "env": {}},
            timeout=_wait_limit(ctx),
        )
    )
    return f"hotfix {HOTFIX_VERSION} rolled out"


def rollout_status(ctx: Context) -> str:
    """``kubectl rollout status deployment/backend``"""
    ctx.env.app.wait_available(_wait_limit(ctx))
    status = ctx.env.app.status()
    return f"revision {status['revision']} version {status['version']}: {status['available']} available"


def release_is(expect: Expectation) -> Callable[[Context], str]:
    def check(ctx: Context) -> str:
        status = ctx.env.app.status()
        ctx.drill.verify("the intended release serves", expect(ctx, status))
        pods = _current_pods(status)
        healthy = [p for p in pods if p["phase"] == "Running" and p["ready"]]
        ctx.drill.verify(
            "every replica Running and ready",
            (
                len(healthy) == status["replicas"] and len(pods) == status["replicas"],
                ", ".join(f"{p['name']} {p['zone']} {p['phase']}" for p in status["pods"]),
            ),
        )
        return f"revision {status['revision']} version {status['version']}"

    return check


def _undone(ctx: Context, status: dict[str, Any]) -> tuple[bool, str]:
    record = ctx.found["release_of_record"]
    return (
        status["version"] == record["version"] and status["env"] == record["env"],
        f"version {status['version']} (the release of record: {record['version']})",
    )


def _fixed(ctx: Context, status: dict[str, Any]) -> tuple[bool, str]:
    missing = ctx.found.get("missing") or ["?"]
    unset = [name for name in missing if not status["env"].get(name)]
    return (
        image_tag(status["version"]) == BAD_VERSION and not unset,
        f"version {status['version']}; still unset: {', '.join(unset) or 'none'}",
    )


def _hotfix(ctx: Context, status: dict[str, Any]) -> tuple[bool, str]:
    return image_tag(status["version"]) == HOTFIX_VERSION, f"version {status['version']}"


def crash_runbook(option: str, activation: Step, expected: Expectation) -> Runbook:
    return Runbook(
        name=f"Scenario 5, {option}",
        overview="The application repeatedly crashes and cannot start (CrashLoopBackOff) after a "
        "release. Confirm the crash loop, read the rollout history and the crashed replicas' logs, "
        "then recover the service.",
        prerequisites=("kubectl access to the production namespace", "the release history"),
        expected_phases=expected_phases(SCENARIO),
        steps=[
            Step("detect", DETECTION, steps.await_detection, instructions="The API answers 503."),
            Step(
                "CrashLoopBackOff",
                DETECTION,
                crash_loop,
                commands="kubectl get pods -n production",
                expected_output="STATUS: CrashLoopBackOff",
            ),
            Step(
                "rollout history",
                ASSESSMENT,
                rollout_history,
                commands="kubectl rollout history deployment/backend -n production",
            ),
            Step(
                "previous logs",
                ASSESSMENT,
                previous_logs,
                commands="kubectl logs deployment/backend -n production --previous\n"
                "kubectl get events -n production --sort-by='.lastTimestamp'",
                if_it_fails=("kubectl describe pod backend-xxxxx-yyyyy -n production",),
            ),
            activation,
            Step(
                "rollout status",
                RESTORATION,
                rollout_status,
                commands="kubectl rollout status deployment/backend -n production",
            ),
            Step("await recovery", RESTORATION, steps.await_recovery),
            Step(
                "verify release",
                VERIFICATION,
                release_is(expected),
                commands="kubectl get pods -n production",
            ),
            Step(
                "smoke checks",
                VERIFICATION,
                steps.smoke_checks,
                commands="curl https://api.yourdomain.com/api/health",
            ),
        ],
        verification="Every replica Running and ready on the intended release; health, login, "
        "projects and the database answer.",
        rollback="kubectl rollout undo deployment/backend --to-revision=<the release of record>",
    )


UNDO = crash_runbook(
    "Option A: Rollback to Previous Version",
    Step(
        "rollout undo",
        ACTIVATION,
        rollout_undo,
        commands="kubectl rollout undo deployment/backend -n production",
        estimated="2m",
        role="Technical Lead",
    ),
    _undone,
)
FIX = crash_runbook(
    "Option B: Fix and Redeploy",
    Step(
        "set the missing variable",
        ACTIVATION,
        set_missing_variable,
        commands="kubectl set env deployment/backend MISSING_VAR=value -n production",
        estimated="5m",
        role="Technical Lead",
    ),
    _fixed,
)
HOTFIX = crash_runbook(
    "Option C: Emergency Hotfix",
    Step(
        "deploy hotfix",
        ACTIVATION,
        deploy_hotfix,
        commands="kubectl set image deployment/backend backend=compliant-backend:v1.2.3-hotfix1 "
        "-n production",
        estimated="15m",
        role="Technical Lead",
    ),
    _hotfix,
)


@pytest.fixture(autouse=True)
def _the_service_answers(env: Environment, platform: Platform) -> None:
    """Skipped before the drill starts (no record) where there is no API to see the crash through."""
    if not platform.has_api:
        pytest.skip(f"environment {env.name!r} has no app_url: the crash is seen through the service's API")


def crash_drill(drill: Drill, env: Environment, platform: Platform, runbook: Runbook) -> None:
    ctx = start(drill, env, platform)
    drill.inject(bad_release(ctx))
    runbook.run(drill, ctx)
    drill.reconcile()


# The marker cannot say "no RPO" for a named component: the API Service row's 15 minutes
# ("stateless, no data loss") stands in for Scenario 5's "RPO: None".
@pytest.mark.drill(
    scenario=SCENARIO,
    option="5A rollout undo",
    tier="monthly",
    rto="30m",
    rpo=None,
    severity=2,
    component="api",
)
def test_5a_rollout_undo(drill: Drill, env: Environment, platform: Platform) -> None:
    crash_drill(drill, env, platform, UNDO)


@pytest.mark.drill(
    scenario=SCENARIO,
    option="5B fix and redeploy",
    tier="monthly",
    rto="30m",
    rpo=None,
    severity=2,
    component="api",
)
def test_5b_fix_and_redeploy(drill: Drill, env: Environment, platform: Platform) -> None:
    crash_drill(drill, env, platform, FIX)


@pytest.mark.drill(
    scenario=SCENARIO,
    option="5C emergency hotfix",
    tier="monthly",
    rto="30m",
    rpo=None,
    severity=2,
    component="api",
)
def test_5c_emergency_hotfix(drill: Drill, env: Environment, platform: Platform) -> None:
    crash_drill(drill, env, platform, HOTFIX)
