"""Monthly "Application Deployment Test" (DR procedures, DR Testing Schedule: 15 minutes).

"Deploy to staging from scratch; verify all services start correctly; run smoke
tests." The API and the workers are taken to zero replicas (nothing of the
application runs), then deployed again from nothing: every replica must start at
the first attempt (Running, ready, no restart), spread over both zones, and the
smoke checks (health, login, projects, the database) must pass. The ledger writes
through the service for the whole drill: no acknowledged write may be lost.
"""

from __future__ import annotations

from typing import Any

import pytest

from drillbook.drills import steps
from drillbook.drills.context import Context
from drillbook.drills.platform import Platform
from drillbook.faults.deployment_scale import DeploymentScale
from drillbook.harness.drill import ACTIVATION, ASSESSMENT, DETECTION, RESTORATION, VERIFICATION, Drill
from drillbook.harness.environments.base import Environment
from drillbook.harness.phases import expected_phases
from drillbook.harness.runbook import Runbook, Step

SCENARIO = "deployment-test"
DEPLOYMENTS = ("app", "workers")


def _deployments(ctx: Context) -> list[str]:
    """The deployments this environment has (a staging profile may name only the API)."""
    return [d for d in DEPLOYMENTS if ctx.env.has(d)]



def _status(ctx: Context, deployment: str) -> dict[str, Any]:
    return dict(ctx.env.role(deployment).status())


def nothing_runs(ctx: Context) -> str:
    """``kubectl get pods``: the starting point is an application with no replica at all."""

    def gone() -> bool:
        return not any(_status(ctx, d)["pods"] for d in _deployments(ctx))

    ctx.drill.wait_until(gone, timeout=60.0, what="no replica of the API or the workers")
    return "no replica of the API or the workers runs"


def deploy(ctx: Context) -> str:
    """``kubectl scale deployment/backend --replicas=N`` (and the workers) from nothing."""
    wanted = ctx.found["replicas"]
    for deployment in _deployments(ctx):
        ctx.env.role(deployment).scale(wanted[deployment])
    return ", ".join(f"{d} scaled to {n}" for d, n in wanted.items())


def rollout_status(ctx: Context) -> str:
    """``kubectl rollout status``: every desired replica runs the release and is ready."""
    for deployment in _deployments(ctx):
        ctx.env.role(deployment).wait_available(120.0)
    return "rollouts complete"


def every_replica_started(ctx: Context) -> str:
    """Each replica Running and ready at its first start, the API spread over every zone."""
    lines = []
    for deployment in _deployments(ctx):
        status = _status(ctx, deployment)
        pods = [p for p in status["pods"] if not p["terminating"]]
        wanted = ctx.found["replicas"][deployment]
        started = [p for p in pods if p["phase"] == "Running" and p["ready"]]
        ctx.drill.verify(
            f"{deployment}: every replica Running and ready",
            (
                len(started) == wanted and len(pods) == wanted,
                f"{len(started)}/{wanted} Running and ready: "
                + ", ".join(f"{p['name']} {p['zone']} {p['phase']}" for p in pods),
            ),
        )
        restarted = {p["name"]: p["restarts"] for p in pods if p["restarts"]}
        ctx.drill.verify(
            f"{deployment}: no replica restarted", (not restarted, f"restarts: {restarted or 'none'}")
        )
        zones = sorted({p["zone"] for p in started if p["zone"]})
        expected = sorted(status["zones"])[: min(wanted, len(status["zones"]))]
        ctx.drill.verify(
            f"{deployment}: replicas spread over the zones",
            (
                set(expected) <= set(zones),
                f"zones {', '.join(zones) or 'none'} (expected {', '.join(expected)})",
            ),
        )
        lines.append(f"{deployment} {len(started)}/{wanted} over {', '.join(zones) or '-'}")
    return "; ".join(lines)


DEPLOY = Runbook(
    name="Application Deployment Test: deploy from scratch",
    overview="Monthly test: the application is deployed from nothing (no replica running), every "
    "replica must start correctly in both zones and the smoke tests must pass.",
    prerequisites=("the release to deploy (the current revision)", "kubectl access to the cluster"),
    expected_phases=expected_phases(SCENARIO),
    steps=[
        Step("service is down", DETECTION, steps.await_detection, instructions="The API answers nothing."),
        Step(
            "nothing runs",
            ASSESSMENT,
            nothing_runs,
            commands="kubectl get pods -n production",
            expected_output="No resources found",
        ),
        Step(
            "deploy",
            ACTIVATION,
            deploy,
            commands="kubectl scale deployment/backend --replicas=3 -n production\n"
            "kubectl scale deployment/workers --replicas=2 -n production",
            estimated="2m",
            role="Technical Lead",
        ),
        Step(
            "rollout status",
            RESTORATION,
            rollout_status,
            commands="kubectl rollout status deployment/backend -n production",
            expected_output='deployment "backend" successfully rolled out',
            if_it_fails=("kubectl describe pod <pod>", "kubectl logs <pod> --previous"),
        ),
        Step("await recovery", RESTORATION, steps.await_recovery),
        Step(
            "every replica started",
            VERIFICATION,
            every_replica_started,
            commands="kubectl get pods -n production -o wide",
            expected_output="every pod Running, READY 1/1, RESTARTS 0, over az-a and az-b",
        ),
        Step(
            "smoke tests",
            VERIFICATION,
            steps.smoke_checks,
            commands="curl https://api/api/health; curl -X POST https://api/api/auth/login ...",
        ),
    ],
    verification="Every replica Running and ready at its first start in both zones; health, login, "
    "projects and the database answer.",
    rollback="Scale back to zero and investigate the pods' logs (kubectl logs --previous).",
)


@pytest.mark.drill(
    scenario=SCENARIO,
    option="deploy from scratch",
    tier="monthly",
    rto="15m",
    severity=2,
    component="api",
)
def test_deploy_from_scratch(drill: Drill, env: Environment, platform: Platform) -> None:
    ctx = Context(drill, env, platform)
    drill.steady_state(*platform.steady_state(), *([platform.login_probe()] if platform.has_api else []))
    ctx.found["ledgers"] = [drill.ledger(platform.ledger_store())]
    steps.wait_for_acks(ctx)
    ctx.found["replicas"] = {d: int(_status(ctx, d)["replicas"]) for d in _deployments(ctx)}
    for deployment in _deployments(ctx):
        drill.inject(
            DeploymentScale(env_name=ctx.env_name, state_dir=ctx.state_dir, deployment=deployment, replicas=0)
        )
    DEPLOY.run(drill, ctx)
    drill.reconcile()
