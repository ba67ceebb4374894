"""The mutations of the reference drills' recoveries, from the test side: a pytest plugin
(``-p tests.drills.mutations``) whose mutations ``--drill-mutate NAME`` swaps into a runbook.
The drill files know nothing of them: each mutation names the step it replaces."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from drillbook.drills import control_planes, steps
from drillbook.drills.context import Context
from drillbook.harness.mutation import Mutation, register

#: The zone failure drill fails az-a; with az-b failed too there is nowhere to reschedule to.
SURVIVING_ZONE = "az-b"


def skipped(what: str) -> Callable[[Any, Callable[[Any], Any]], str]:
    return lambda ctx, original: f"MUTATION: {what}"


def pitr_after_the_fault(ctx: Context, original: Callable[[Any], Any]) -> str:
    """The PITR target 2 s *after* the fault: the restored copy holds the loss."""
    target = steps.wall_minus(ctx, -2.0)
    ctx.found["pitr_target"] = target
    ctx.drill.extra["pitr_target"] = target.isoformat()
    ctx.drill.extra["pitr_margin_s"] = -2.0
    return steps.restore_to_time(ctx, target)


def no_zone_left(ctx: Context, original: Callable[[Any], Any]) -> Any:
    """The surviving zone fails too before the runbook starts (its nodes drained with no grace period,
    through the cluster's API): the replicas cannot be rescheduled."""
    ctx.drill.inject(control_planes.zone_drain(ctx.env, SURVIVING_ZONE, grace_period=0))
    return original(ctx)


def wrong_variable(ctx: Context, original: Callable[[Any], Any]) -> Any:
    """The diagnosis names the wrong variable, so the fix sets one the release does not miss."""
    found = original(ctx)
    ctx.found["missing"] = ["FEATURE_FLAG_URL"]
    return found


MUTATIONS = (
    Mutation("skip-restore", ("restore latest snapshot", "restore into a scratch instance",
                              "restore snapshot + WAL"), skipped("restore skipped")),
    Mutation("pitr-after-fault", ("point-in-time recovery",), pitr_after_the_fault),
    Mutation("skip-reindex", ("REINDEX",), skipped("REINDEX skipped")),
    Mutation("no-reschedule", ("detect",), no_zone_left),
    Mutation("skip-deploy", ("deploy",), skipped("deployment skipped")),
    Mutation("skip-front-door", ("4. frontend",), skipped("front door not restarted")),
    Mutation("skip-infrastructure-fix", ("fix infrastructure",), skipped("database link not restored")),
    Mutation("skip-dns", ("initiate failover (DNS)",), skipped("DNS not moved")),
    Mutation("skip-undo", ("rollout undo",), skipped("rollback skipped")),
    Mutation("wrong-variable", ("previous logs",), wrong_variable),
    Mutation("skip-session-revocation", ("revoke all sessions",), skipped("sessions not revoked")),
    Mutation("skip-jwt-rotation", ("rotate the JWT secret",), skipped("JWT secret not rotated")),
    Mutation("skip-db-password-rotation", ("rotate the database password",),
             skipped("database password not rotated")),
)


def pytest_configure(config: pytest.Config) -> None:
    register(config, *MUTATIONS)
