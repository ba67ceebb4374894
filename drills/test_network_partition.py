"""Network partition: the service and its database cut apart for a set time.

The app→database link (toxiproxy proxy ``app-db``) is partitioned for
``DRILLBOOK_PARTITION_S`` seconds (default 2): by default packets are silently
dropped (a ``timeout`` toxic: connections hang, as across a real partition);
``DRILLBOOK_PARTITION_MODE=down`` refuses connections instead. The runbook
confirms the database itself is healthy (so no failover: promoting the replica
across a partition risks a split brain), waits for the network to heal, and the
service must recover on its own. The measured RTO cannot be shorter than the
partition: verified. The ledger writes through the service for the whole drill:
writes during the partition fail or are indeterminate, and no acknowledged write
may be lost.

Targets: the partition takes the API down while the database stays intact; both
rows of the DR procedures' RTO/RPO tables give an RTO of 1 hour, and the data at
stake is the database's (RPO 5 minutes), so the drill uses the Database row.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

from drillbook.drills import steps
from drillbook.drills.context import Context
from drillbook.drills.platform import Platform
from drillbook.faults.network_partition import NetworkPartition
from drillbook.harness import pg
from drillbook.harness.drill import ACTIVATION, ASSESSMENT, DETECTION, RESTORATION, VERIFICATION, Drill
from drillbook.harness.environments.base import Environment
from drillbook.harness.errors import InvalidDrillConfig
from drillbook.harness.ledger.reconcile import WriteOutcome
from drillbook.harness.phases import expected_phases
from drillbook.harness.runbook import Runbook, Step

SCENARIO = "network-partition"
LINK = "app-db"


def _partition_s() -> float:
    raw = os.environ.get("DRILLBOOK_PARTITION_S", "2")
    try:
        value = float(raw)
    except ValueError:
        raise InvalidDrillConfig(f"DRILLBOOK_PARTITION_S={raw!r} is not a number of seconds") from None
    if not 0 < value <= 600:
        raise InvalidDrillConfig(f"DRILLBOOK_PARTITION_S={raw!r} must be more than 0 and at most 600")
    return value


def _mode() -> str:
    return os.environ.get("DRILLBOOK_PARTITION_MODE", "timeout")


def database_side(ctx: Context) -> str:
    """Is it the database or the path to it? The service's health names the failing check;
    the database answers when asked directly (not through the partitioned link)."""
    reply = ctx.platform.call("GET", "/api/health", timeout=3.0)
    checks = reply.body.get("checks", {})
    ctx.found["health_during"] = {name: bool(check.get("ok")) for name, check in checks.items()}
    direct = pg.query(ctx.env.database.dsn(), "SELECT pg_is_in_recovery()", timeout=5.0)[0][0]
    ctx.found["database_primary"] = direct is False
    return (
        f"API health HTTP {reply.status} {reply.body.get('error', '')}, checks "
        f"{ctx.found['health_during'] or 'not answered'}; the database answers directly "
        f"({'primary' if direct is False else 'in recovery'})"
    )


def decide_no_failover(ctx: Context) -> str:
    """The database is healthy and only the path to it is cut: failing over would split the brain."""
    if not ctx.found.get("database_primary"):
        raise RuntimeError("the database itself is not a healthy primary: this is no mere partition")
    return "decision: no failover; wait for the network to heal, watch the service"


def heal_on_time(ctx: Context, fault: NetworkPartition, partition_s: float) -> threading.Thread:
    """The network comes back after ``partition_s`` whatever the runbook is doing (it is not the
    runbook that heals a partition)."""

    def heal() -> None:
        time.sleep(max(0.0, ctx.found["heal_at"] - time.monotonic()))
        # No probe can pass before the link is back, and it cannot be back before this.
        ctx.found["heal_started"] = time.monotonic()
        try:
            ctx.drill.heal(fault)
        except Exception as exc:  # reported by the runbook step that waits for the heal
            ctx.found["heal_error"] = exc
        ctx.found["healed_at"] = time.monotonic()

    assert ctx.drill.t_fault is not None
    ctx.found["heal_at"] = ctx.drill.t_fault + partition_s
    thread = threading.Thread(target=heal, name="partition-heal", daemon=True)
    thread.start()
    return thread


def network_heals(ctx: Context) -> str:
    """The network team (or the provider) restores the link; the service is left alone."""
    thread: threading.Thread = ctx.found["healer"]
    thread.join(timeout=max(0.0, ctx.found["heal_at"] - time.monotonic()) + 30.0)
    if thread.is_alive() or "healed_at" not in ctx.found:
        raise RuntimeError(f"the partition of {LINK} was not healed")
    if "heal_error" in ctx.found:
        raise RuntimeError(f"healing {LINK} failed: {ctx.found['heal_error']}")
    held = ctx.found["healed_at"] - (ctx.drill.t_fault or 0.0)
    return f"link {LINK} restored after {held:.2f}s"


def rto_covers_partition(ctx: Context) -> str:
    t_fault = ctx.drill.t_fault
    assert t_fault is not None
    rto = ctx.drill.result.measured.rto_s
    held = ctx.found["heal_started"] - t_fault
    detail = f"rto_s {'none' if rto is None else f'{rto:.3f}'}, partition held {held:.3f}s"
    ctx.drill.verify("RTO not shorter than the partition", (rto is not None and rto >= held, detail))
    return detail


def no_ack_while_cut(ctx: Context) -> str:
    """No write can commit while the service cannot reach the database: an acknowledgement
    of a write sent after the cut and answered before the heal began would mean the partition
    leaked. (Not before the heal call returned: the link is back while that call is answered,
    and through a remote toxiproxy API a write can commit in that moment.)"""
    t_fault, healing = ctx.drill.t_fault, ctx.found["heal_started"]
    assert t_fault is not None
    ledger = ctx.found["ledgers"][0]
    during = [w for w in ledger.history() if t_fault <= w.sent and w.done < healing]
    acked = [w.seq for w in during if w.outcome is WriteOutcome.ACKED]
    ctx.drill.verify(
        "no write acknowledged during the partition",
        (not acked, f"{len(during)} writes during the partition, acknowledged: {acked or 'none'}"),
    )
    return f"{len(during)} writes during the partition, {len(acked)} acknowledged"


PARTITION = Runbook(
    name="Network partition between the service and its database",
    overview="The service cannot reach its database; the database is healthy. Confirm which side is "
    "cut, do not fail over, let the network heal and watch the service recover by itself.",
    prerequisites=("direct access to the database (bastion)", "the network team on the bridge"),
    expected_phases=expected_phases(SCENARIO),
    steps=[
        Step(
            "detect",
            DETECTION,
            steps.await_detection,
            instructions="The API answers 503: its health check cannot reach the database.",
        ),
        Step(
            "which side",
            ASSESSMENT,
            database_side,
            commands="curl https://api/api/health\npsql $DATABASE_URL -c 'SELECT pg_is_in_recovery();'",
            role="Technical Lead",
        ),
        Step("decide: no failover", ASSESSMENT, decide_no_failover, role="Incident Commander"),
        Step(
            "network restored",
            ACTIVATION,
            network_heals,
            instructions="Wait for the network team to restore the link; nothing to do on the service.",
        ),
        Step("await recovery", RESTORATION, steps.await_recovery),
        Step("RTO covers the partition", VERIFICATION, rto_covers_partition),
        Step("no write acknowledged while cut", VERIFICATION, no_ack_while_cut),
        Step("smoke checks", VERIFICATION, steps.smoke_checks),
    ],
    verification="The service answers again without intervention; no acknowledged write lost.",
    rollback="None: nothing was changed on the platform.",
)


@pytest.fixture(autouse=True)
def _the_service_and_its_link(env: Environment, platform: Platform) -> None:
    """Skipped before the drill starts (no record) without the API or the app's database link."""
    if not platform.has_api:
        pytest.skip(f"environment {env.name!r} has no app_url: the partition is seen through the API")
    if LINK not in env.network.proxies():
        pytest.skip(f"environment {env.name!r}'s toxiproxy has no proxy {LINK!r} (the app's database link)")


@pytest.mark.drill(
    scenario=SCENARIO,
    option="service and database partitioned",
    tier="quarterly",
    rto="1h",
    rpo="5m",
    severity=2,
    component="database",
)
def test_service_database_partition(drill: Drill, env: Environment, platform: Platform) -> None:
    ctx = Context(drill, env, platform)
    partition_s = _partition_s()
    # Health alone: it fails within its own timeout across a partition (login would add its own).
    drill.steady_state(platform.health_probe())
    # Through the service: the writes take the partitioned link (a direct write would not).
    ctx.found["ledgers"] = [drill.ledger(platform.service_ledger_store())]
    steps.wait_for_acks(ctx)
    fault = NetworkPartition(env.network.api_url(), LINK, mode=_mode())
    drill.inject(fault)
    ctx.found["healer"] = heal_on_time(ctx, fault, partition_s)
    drill.extra["partition_s"] = partition_s
    drill.extra["partition_mode"] = fault.mode
    PARTITION.run(drill, ctx)
    drill.reconcile()
