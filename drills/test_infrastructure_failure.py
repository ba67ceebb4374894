"""Scenario 1: Complete Infrastructure Failure (RTO 2 hours, RPO 15 minutes).

Both talk to the roles only. 1A, primary infrastructure recovery: every component of
the platform goes down (the application's links to the database and to Redis cut, the
API record pointed at no load balancer: the front door lost, the API and the workers
scaled to zero; the database also stopped where the platform can stop it: RDS refuses
StopDBInstance for a primary with a read replica, so with the DR replica attached it is
left running, on every environment alike), then the runbook fixes the infrastructure
(the database link healed: the procedures' network issue), restarts the components in
the DR procedures' order (database, Redis, service, front door, workers) and runs their
verification (health, login, database count, S3 listing). 1B, failover to the DR region: the
primary region is lost (its pool, the API and the workers, scaled to zero; the
application's link to the primary database cut where the network role has it); the
runbook promotes the DR read replica (``aws rds promote-read-replica``), scales the
DR pool (``app_dr``, ``workers_dr``) to what the primary ran, moves the API record
to the DR target with a Route 53 UPSERT (the front door follows the record), and
checks data freshness within the RPO; the replication lag before the loss is
recorded. The cache is not part of 1B's loss: no driver creates an ElastiCache
cluster, so the DR pool keeps the cache its release names. The ledger writes
through the front door for the whole drill.
"""

from __future__ import annotations

import urllib.parse

import pytest

from drillbook.drills import steps
from drillbook.drills.context import Context
from drillbook.drills.control_planes import unstoppable_because
from drillbook.drills.platform import Platform
from drillbook.faults.base import Fault
from drillbook.faults.database_stop import DatabaseStop
from drillbook.faults.deployment_scale import DeploymentScale
from drillbook.faults.dns_record import DnsRecord
from drillbook.faults.network_partition import NetworkPartition
from drillbook.faults.replica_promotion import ReplicaPromotion
from drillbook.harness import pg
from drillbook.harness.drill import ACTIVATION, ASSESSMENT, DETECTION, RESTORATION, VERIFICATION, Drill
from drillbook.harness.environments.base import Environment
from drillbook.harness.environments.staging.database import with_endpoint
from drillbook.harness.phases import expected_phases
from drillbook.harness.runbook import Runbook, Step

SCENARIO = "complete-infrastructure-failure"
#: The application's links to the primary database and to Redis (toxiproxy proxies of the network role).
PRIMARY_DB_LINK = "app-db"
CACHE_LINK = "app-cache"
#: What the API record names while the front door is lost (1A): no load balancer answers it.
NO_LOAD_BALANCER = "front-door-lost.invalid"


# -- detection and assessment (both options) ------------------------------------------


def declare_incident(ctx: Context) -> str:
    """Incident Commander: ``echo "INCIDENT START: $(date -Iseconds)" >> incident.log``."""
    ctx.drill.note("incident declared", "TYPE: Complete Infrastructure Failure, SEVERITY: 1 (Critical)")
    return "incident declared; DR team paged; status page: investigating"


# -- 1A: restart in order -----------------------------------------------------------------


def lose_everything(ctx: Context) -> None:
    """Every component down at once, each through its role: the API and the workers scaled to
    zero, the API record pointed at no load balancer (the front door lost), the application's
    links to Redis and to the database cut (the procedures' network issue) and, where the
    platform can stop it, the primary database stopped too (immediate: as a crash)."""
    env, where = ctx.env, ctx.where()
    ctx.found["pool"] = {"app": int(env.app.status()["replicas"]),
                         "workers": int(env.workers.status()["replicas"])}
    lost: dict[str, Fault] = {}
    for role in ("app", "workers"):
        lost[role] = ctx.drill.inject(DeploymentScale(**where, deployment=role, replicas=0))
    record = env.dns.record
    assert record is not None
    lost["front door"] = ctx.drill.inject(DnsRecord(**where, record=record, value=NO_LOAD_BALANCER))
    lost["cache"] = ctx.drill.inject(NetworkPartition(env.network.api_url(), CACHE_LINK, mode="down"))
    lost["database link"] = ctx.drill.inject(
        NetworkPartition(env.network.api_url(), PRIMARY_DB_LINK, mode="down"))
    refused = unstoppable_because(env)
    if refused is None:
        lost["database"] = ctx.drill.inject(DatabaseStop(**where, mode="immediate"))
    outage = f"link {PRIMARY_DB_LINK} cut; " + (f"not stopped: {refused}" if refused else "stopped")
    ctx.drill.extra["database_outage"] = {"link_cut": PRIMARY_DB_LINK, "stopped": refused is None,
                                          "not_stopped_because": refused}
    ctx.drill.note("database outage", outage)
    ctx.found["lost"] = lost


def check_dns(ctx: Context) -> str:
    """``dig api.yourdomain.com``: what the API's name leads to."""
    record = ctx.env.dns.record
    assert record is not None
    value = ctx.env.dns.resolve(record)
    ctx.found["dns_at_failure"] = value
    return f"{record} -> {value}"


def verify_scope(ctx: Context) -> str:
    """Which components are down (the DR procedures' "Verify Scope")."""
    env = ctx.env
    front_door = ctx.platform.health_probe().run()
    scope: dict[str, bool | int | str | None] = {
        "database": env.database.running(),
        "database link": env.network.client.proxy(PRIMARY_DB_LINK).enabled,
        "cache link": env.network.client.proxy(CACHE_LINK).enabled,
        "front door": f"{'up' if front_door.passed else 'DOWN'} ({front_door.detail})",
        "api replicas ready": sum(r.ready for r in env.app.replicas()),
        "workers ready": sum(r.ready for r in env.workers.replicas()),
        "DR replica": env.replica.running() if env.has("replica") else None,
    }
    ctx.drill.extra["scope"] = scope
    return ", ".join(f"{k}: {v}" for k, v in scope.items())


def fix_infrastructure(ctx: Context) -> str:
    """The procedures' "Fix Infrastructure", network issue (``aws ec2 describe-route-tables``,
    ``describe-security-groups``): the application's route to its database restored."""
    ctx.drill.heal(ctx.found["lost"]["database link"])
    return f"link {PRIMARY_DB_LINK} restored"


def through_the_link(env: Environment) -> str:
    """The database role's DSN by the application's path: the network role's database link."""
    host = urllib.parse.urlsplit(env.network.api_url()).hostname
    return with_endpoint(env.database.dsn(), host, env.network.listen_port(PRIMARY_DB_LINK))


def start_database(ctx: Context) -> str:
    """``aws rds start-db-instance`` (if it was stopped), ``aws rds wait db-instance-available``,
    then the database answers by the application's path."""
    stopped = "database" in ctx.found["lost"]
    if stopped:
        ctx.drill.heal(ctx.found["lost"]["database"])  # started; waits until it accepts connections
    answers = f"database answers through {PRIMARY_DB_LINK}"
    if not ctx.drill.verify(answers, lambda: pg.query(through_the_link(ctx.env), "SELECT 1")[0] == (1,)):
        # The services restarted next would find no database: the restart stops here.
        raise RuntimeError(f"the database does not answer through {PRIMARY_DB_LINK} (the application's path)")
    return f"database {'started and ' if stopped else ''}available; answers through {PRIMARY_DB_LINK}"


def start_redis(ctx: Context) -> str:
    """``aws elasticache reboot-cache-cluster``: the application reaches Redis again."""
    ctx.drill.heal(ctx.found["lost"]["cache"])
    ctx.drill.verify("Redis answers PING", (ctx.env.cache.ping(timeout=2.0), "PING"))
    return "Redis answers PING"


def start_service(ctx: Context) -> str:
    """``kubectl rollout restart deployment/backend`` and ``rollout status``."""
    replicas = ctx.found["pool"]["app"]
    ctx.env.app.scale(replicas)
    ctx.env.app.wait_available(120.0)
    return f"{replicas} API replicas available"


def start_front_door(ctx: Context) -> str:
    """The load balancer back behind the API's name (the Route 53 record names it again)."""
    ctx.drill.heal(ctx.found["lost"]["front door"])
    record = ctx.env.dns.record
    assert record is not None
    return f"front door serving: {record} -> {ctx.env.dns.resolve(record)}"


def start_workers(ctx: Context) -> str:
    workers = ctx.found["pool"]["workers"]
    ctx.env.workers.scale(workers)
    ctx.env.workers.wait_available(120.0)
    return f"{workers} workers available"


def s3_listing(ctx: Context) -> str:
    """``aws s3 ls s3://compliant-production/`` (the object store's bucket)."""
    bucket = ctx.env.object_store.default_bucket()
    try:
        keys = ctx.env.object_store.list(bucket)
    except Exception as exc:
        ctx.drill.verify(f"S3 listing of {bucket}", (False, f"{type(exc).__name__}: {exc}"))
        return "S3 listing failed"
    ctx.drill.verify(f"S3 listing of {bucket}", (True, f"{len(keys)} objects"))
    return f"{len(keys)} objects in {bucket}"


RESTART_IN_ORDER = Runbook(
    name="Scenario 1, Option A: Primary Infrastructure Recovery",
    overview="The whole platform is down and the cause is fixable: restart the services in order "
    "(database, Redis, application servers, front door, background workers) and verify.",
    prerequisites=("console/CLI access to the provider", "the runbook's restart order"),
    expected_phases=expected_phases(SCENARIO),
    steps=[
        Step(
            "detect",
            DETECTION,
            steps.await_detection,
            commands="curl -f https://api.yourdomain.com/api/health",
        ),
        Step("declare incident", DETECTION, declare_incident, role="Incident Commander"),
        Step("check DNS", ASSESSMENT, check_dns, commands="dig api.yourdomain.com"),
        Step("verify scope", ASSESSMENT, verify_scope, role="Technical Lead"),
        Step(
            "fix infrastructure",
            RESTORATION,
            fix_infrastructure,
            commands="aws ec2 describe-route-tables\naws ec2 describe-security-groups",
        ),
        Step(
            "1. database first",
            RESTORATION,
            start_database,
            estimated="10m",
            commands="aws rds start-db-instance --db-instance-identifier compliant-prod\n"
            "aws rds wait db-instance-available --db-instance-identifier compliant-prod",
        ),
        Step(
            "2. Redis",
            RESTORATION,
            start_redis,
            estimated="5m",
            commands="aws elasticache reboot-cache-cluster --cache-cluster-id compliant-redis",
        ),
        Step(
            "3. application servers",
            RESTORATION,
            start_service,
            estimated="10m",
            commands="kubectl rollout restart deployment/backend -n production\n"
            "kubectl rollout status deployment/backend -n production",
        ),
        Step(
            "4. frontend",
            RESTORATION,
            start_front_door,
            estimated="5m",
            commands="kubectl rollout restart deployment/frontend -n production\n"
            "aws route53 change-resource-record-sets ... UPSERT api.yourdomain.com -> the load balancer",
        ),
        Step(
            "5. background workers",
            RESTORATION,
            start_workers,
            estimated="5m",
            commands="kubectl rollout restart deployment/workers -n production",
        ),
        Step("await recovery", RESTORATION, steps.await_recovery),
        Step(
            "verify recovery",
            VERIFICATION,
            steps.smoke_checks,
            commands="curl https://api.yourdomain.com/api/health\ncurl -X POST .../api/auth/login ...\n"
            'psql $DATABASE_URL -c "SELECT COUNT(*) FROM users;"',
        ),
        Step("test file storage", VERIFICATION, s3_listing, commands="aws s3 ls s3://compliant-production/"),
    ],
    verification="Health, authentication, the user count and the S3 listing all answer.",
    rollback="None: the platform is back as it was.",
)


@pytest.fixture
def _every_component(env: Environment, platform: Platform) -> None:
    """Skipped before the drill starts (no record) without a role 1A stops and starts."""
    for role in ("database", "cache", "app", "workers", "dns", "network", "object_store"):
        if not env.has(role):
            pytest.skip(f"environment {env.name!r} has no {role!r} role: 1A stops and starts it")
    if not platform.has_api:
        pytest.skip(f"environment {env.name!r} has no app_url: the outage is seen through the API")
    if not env.dns.record:
        pytest.skip(f"environment {env.name!r} names no API record ([dns] record)")
    for link, what in ((CACHE_LINK, "the Redis link"), (PRIMARY_DB_LINK, "the database link")):
        if link not in env.network.proxies():
            pytest.skip(f"environment {env.name!r}'s toxiproxy has no proxy {link!r} ({what})")


@pytest.mark.usefixtures("_every_component")
@pytest.mark.drill(
    scenario=SCENARIO,
    option="1A primary infrastructure recovery",
    tier="quarterly",
    rto="2h",
    rpo="15m",
    severity=1,
    component="api",
)
def test_1a_restart_in_order(drill: Drill, env: Environment, platform: Platform) -> None:
    ctx = Context(drill, env, platform)
    drill.steady_state(platform.health_probe())
    ctx.found["ledgers"] = [drill.ledger(platform.ledger_store())]
    steps.wait_for_acks(ctx)
    lose_everything(ctx)
    RESTART_IN_ORDER.run(drill, ctx)


# -- 1B: failover to the DR region ------------------------------------------------------------


def lose_the_region(ctx: Context) -> list[Fault]:
    """The primary region goes dark: its pool (the API and the workers) scaled to zero and, where
    the network role has the link, the application's path to the primary database (``app-db``)
    cut. Each through a role: the drill runs wherever the roles are."""
    where = ctx.where()
    ctx.found["pool"] = {"app": int(ctx.env.app.status()["replicas"]),
                         "workers": int(ctx.env.workers.status()["replicas"])}
    lost: list[Fault] = [
        ctx.drill.inject(DeploymentScale(**where, deployment=role, replicas=0)) for role in ("app", "workers")
    ]
    if ctx.env.has("network") and PRIMARY_DB_LINK in ctx.env.network.proxies():
        cut = NetworkPartition(ctx.env.network.api_url(), PRIMARY_DB_LINK, mode="down")
        lost.append(ctx.drill.inject(cut))
    return lost


def dr_scope(ctx: Context) -> str:
    """Which side is down: the primary pool, the DR replica and the DR pool (the Technical Lead's
    "Verify Scope" before the Incident Commander approves a failover)."""
    env = ctx.env
    scope = {
        "api replicas ready": sum(r.ready for r in env.app.replicas()),
        "workers ready": sum(r.ready for r in env.workers.replicas()),
        "DR replica": env.replica.running(),
        "DR replica lag (s)": env.replica.lag_s() if env.replica.running() else None,
        "DR pool replicas": len(env.app_dr.replicas()),
    }
    ctx.drill.extra["scope"] = scope
    return ", ".join(f"{k}: {v}" for k, v in scope.items())


def promote_replica(ctx: Context) -> str:
    """``aws rds promote-read-replica --db-instance-identifier compliant-prod-replica-west``."""
    ctx.drill.apply(ReplicaPromotion(**ctx.where()))
    return f"DR replica {ctx.env.replica.name} promoted: writable"


def start_dr_services(ctx: Context) -> str:
    """``kubectl config use-context dr-west-2``; scale backend and workers as the primary pool was."""
    pool: dict[str, int] = ctx.found["pool"]
    for role, count in (("app_dr", pool["app"]), ("workers_dr", pool["workers"])):
        ctx.drill.apply(DeploymentScale(**ctx.where(), deployment=role, replicas=count))
    ctx.env.app_dr.wait_available(120.0)
    ctx.env.workers_dr.wait_available(120.0)
    return f"DR pool: {pool['app']} API replicas, {pool['workers']} workers"


def initiate_failover(ctx: Context) -> str:
    """Route 53 UPSERT of the API record to the DR endpoint; wait for the change (INSYNC)."""
    dns = ctx.env.dns
    if not dns.record or not dns.dr_target:
        raise RuntimeError(f"environment {ctx.env.name!r} names no API record and DR target "
                           "([dns] record and dr_target)")
    ctx.drill.apply(DnsRecord(**ctx.where(), record=dns.record, value=dns.dr_target))
    return f"{dns.record} -> {dns.dr_target}"


def data_verification(ctx: Context) -> str:
    """``SELECT MAX(created_at), MAX(updated_at) FROM users`` (within the RPO) and the lag."""
    dsn = ctx.env.replica.dsn("compliant")
    version = pg.query(dsn, "SELECT version()", timeout=10.0)[0][0]
    newest = pg.query(
        dsn,
        "SELECT extract(epoch FROM now() - greatest(max(created_at), max(updated_at))) FROM projects",
        timeout=10.0,
    )[0][0]
    ctx.drill.extra["dr_data_age_s"] = float(newest) if newest is not None else None
    ctx.drill.verify(
        "DR data fresher than the RPO (15 minutes)",
        (newest is not None and float(newest) < 900, f"newest write {newest}s old"),
    )
    return f"{str(version).split(',')[0]}; newest project write {newest}s old"


FAILOVER = Runbook(
    name="Scenario 1, Option B: Failover to DR Region",
    overview="The primary region is unrecoverable: promote the DR replica, start the DR services, "
    "move DNS to the DR endpoint, verify data freshness and the system.",
    prerequisites=("Incident Commander approval", "a streaming DR replica", "the DR pool deployed"),
    expected_phases=expected_phases(SCENARIO),
    steps=[
        Step("detect", DETECTION, steps.await_detection),
        Step("declare incident", DETECTION, declare_incident, role="Incident Commander"),
        Step("verify scope", ASSESSMENT, dr_scope, role="Technical Lead"),
        Step(
            "promote the read replica",
            ACTIVATION,
            promote_replica,
            estimated="10m",
            role="Database Admin",
            commands="aws rds promote-read-replica --db-instance-identifier compliant-prod-replica-west",
        ),
        Step(
            "start DR services",
            ACTIVATION,
            start_dr_services,
            estimated="10m",
            commands="kubectl config use-context dr-west-2\n"
            "kubectl scale deployment/backend --replicas=3 -n production\n"
            "kubectl scale deployment/workers --replicas=2 -n production",
        ),
        Step(
            "initiate failover (DNS)",
            RESTORATION,
            initiate_failover,
            estimated="10m",
            role="Incident Commander",
            commands="aws route53 change-resource-record-sets --hosted-zone-id Z123456 --change-batch "
            '\'{"Changes":[{"Action":"UPSERT",...api-dr...}]}\'',
        ),
        Step("await recovery", RESTORATION, steps.await_recovery),
        Step(
            "data verification",
            VERIFICATION,
            data_verification,
            commands='psql $DR_DATABASE_URL -c "SELECT MAX(created_at) ... FROM users;"',
        ),
        Step("full system test", VERIFICATION, steps.smoke_checks, commands="npm run test:smoke"),
    ],
    verification="The API answers from the DR region with data within the RPO.",
    rollback="Fail back once the primary region returns (rebuild the primary from the DR database).",
)


@pytest.fixture
def _a_dr_region(env: Environment, platform: Platform) -> None:
    """Skipped before the drill starts (no record) without what a failover needs."""
    for role in ("app", "workers", "app_dr", "workers_dr", "replica", "dns"):
        if not env.has(role):
            pytest.skip(f"environment {env.name!r} has no {role!r} role: a DR failover needs it")
    if not platform.has_api:
        pytest.skip(f"environment {env.name!r} has no app_url: the failover is seen through the API")
    if not env.dns.record or not env.dns.dr_target:
        pytest.skip(f"environment {env.name!r} names no API record and DR target ([dns] record, dr_target)")


@pytest.mark.usefixtures("_a_dr_region")
@pytest.mark.drill(
    scenario=SCENARIO,
    option="1B failover to the DR region",
    tier="quarterly",
    rto="2h",
    rpo="15m",
    severity=1,
    component="api",
)
def test_1b_failover_to_dr_region(drill: Drill, env: Environment, platform: Platform) -> None:
    ctx = Context(drill, env, platform)
    drill.steady_state(platform.health_probe())
    ctx.found["ledgers"] = [drill.ledger(platform.ledger_store())]
    steps.wait_for_acks(ctx)
    lag = env.replica.lag_s()
    drill.extra["replication_lag_before_loss_s"] = lag
    drill.note("replication lag before the loss", f"{lag}s")
    region = lose_the_region(ctx)
    FAILOVER.run(drill, ctx)
    drill.reconcile()
    # The primary region comes back before the failover is undone (fail back), its network first.
    for fault in reversed(region):
        drill.heal(fault)
