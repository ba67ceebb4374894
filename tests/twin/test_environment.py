"""The local environment through its roles: up once for the module, then down leaving nothing."""

from __future__ import annotations

import os
import signal
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from drillbook.harness import pg, procs
from drillbook.harness.environments.base import (
    CacheRole,
    DatabaseInstance,
    DatabaseRole,
    DeploymentRole,
    DnsRole,
    NetworkRole,
    ObjectStoreRole,
    ReplicaRole,
    RoleUnavailable,
    SecretsRole,
)
from drillbook.harness.environments.lifecycle import Lifecycle
from drillbook.harness.errors import InvalidDrillConfig
from drillbook.harness.steady import check_all
from drillbook.twin import processes
from drillbook.twin.environment import LocalEnvironment
from drillbook.twin.primary import APP_USER
from drillbook.twin.settings import LocalSettings
from drillbook.twin.spread import is_spread, supported
from drillbook.twin.state import EnvRecord
from tests.twin.dataplane_support import server_tmp, wait_for


def recorded_pids_and_ports(record: EnvRecord) -> tuple[list[int], list[int]]:
    pids = [processes.current(p)[0] for p in record.processes.values()]
    ports = [p.port for p in record.processes.values() if p.port] + [c.port for c in record.clusters.values()]
    for cluster in record.clusters.values():
        pidfile = Path(cluster.datadir) / "postmaster.pid"
        if pidfile.exists():
            pids.append(int(pidfile.read_text().split()[0]))
    return pids, ports


@pytest.fixture(scope="module")
def env() -> Iterator[LocalEnvironment]:
    with server_tmp("env") as root:
        settings = LocalSettings(snapshot_interval_s=3600)
        yield from _up_then_down(LocalEnvironment(root / "local", settings=settings))


def _up_then_down(environment: LocalEnvironment) -> Iterator[LocalEnvironment]:
    assert environment.up()
    record = environment.record
    assert record is not None
    try:
        yield environment
    finally:
        record = environment.state.read() or record
        pids, ports = recorded_pids_and_ports(record)
        family = processes.family(pids)  # with every server's children (PostgreSQL backends, ...)
        report = environment.down()
        assert report.clean, report
        assert not [pid for pid in pids if procs.alive(pid)]
        assert not [pid for pid, ticks in family.items() if procs.alive(pid, ticks)], "down returned early"
        assert processes.listening(ports) == []
        assert all(processes.labelled(label) == [] for label in labels(record))


def labels(record: EnvRecord) -> list[str]:
    """The data plane's label and the app plane's."""
    return [record.label, str(record.facts["app_label"])]


def test_every_role_is_provided_by_a_driver_of_its_protocol(env: LocalEnvironment) -> None:
    assert isinstance(env, Lifecycle)
    assert isinstance(env.database, DatabaseRole)
    assert isinstance(env.replica, ReplicaRole)
    assert isinstance(env.cache, CacheRole)
    assert isinstance(env.app, DeploymentRole)
    assert isinstance(env.workers, DeploymentRole)
    assert isinstance(env.network, NetworkRole)
    assert isinstance(env.object_store, ObjectStoreRole)
    assert isinstance(env.dns, DnsRole)
    assert isinstance(env.secrets, SecretsRole)
    with pytest.raises(RoleUnavailable, match="'nope' is not a role"):
        env.role("nope")


def test_status_reports_each_component_healthy_with_lag_and_last_snapshot(env: LocalEnvironment) -> None:
    rows = {r.name: r for r in env.status()}
    assert {"primary", "dr-replica", "redis", "moto", "scheduler", "toxiproxy", "supervisor", "frontdoor",
            "api", "workers"} <= set(rows)
    assert all(r.health == "healthy" for r in rows.values()), rows
    assert all(r.pid and procs.alive(r.pid) for r in rows.values() if not r.kind.startswith("deployment"))
    assert rows["api"].detail.startswith("3/3 ready")
    assert rows["toxiproxy"].detail == "links app-cache, app-db, app-db-dr"
    assert rows["primary"].port == env.database.port  # type: ignore[attr-defined]
    assert "last snapshot scheduled-" in rows["primary"].detail
    assert rows["dr-replica"].detail.startswith("lag ")
    assert env.is_up()


def test_the_app_reaches_the_database_through_toxiproxy_with_its_secret(env: LocalEnvironment) -> None:
    password = env.secrets.get(env.platform.db_password_secret_id)
    url = env.app_database_url()
    assert "@" in url and password not in url  # the URL names the user, never the password
    assert env.app.env()["DATABASE_URL"] == url
    proxy_port = env.network.client.proxy("app-db").listen_port  # type: ignore[attr-defined]
    assert url.endswith(f":{proxy_port}/compliant") and proxy_port != env.database.port  # type: ignore[attr-defined]
    with psycopg.connect(url, password=password, connect_timeout=5) as conn:
        assert conn.execute("SELECT current_user, count(*), inet_server_port() FROM users").fetchone() == (
            APP_USER, 61, env.database.port)  # type: ignore[attr-defined]
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(url, password="wrong", connect_timeout=5)


def test_steady_probes_pass(env: LocalEnvironment) -> None:
    check = check_all(env.steady_probes())
    assert check.passed, check.detail
    assert {r.name for r in check.results} == {"api health (front door)", "database", "cache"}


def test_the_churn_of_a_busy_drill_is_vacuumed_before_it_looks_like_bloat(env: LocalEnvironment) -> None:
    """Scenario 2A calls more than 1000 dead tuples bloat; the ledger's writes through the
    service update ``projects`` by the thousand in a drill, and the next drill's steady state
    must not find them (PostgreSQL's default autovacuum, once a minute, left them there)."""
    dsn = env.local_database.dsn()

    def dead() -> int:
        rows = pg.query(dsn, "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'projects'")
        return int(rows[0][0])

    for _ in range(5):  # ~1500 dead versions of a table of ~300 rows
        pg.query(dsn, "UPDATE projects SET name = name")
    wait_for(lambda: dead() >= 1000, timeout=10, what="the dead tuples counted")
    wait_for(lambda: dead() < 100, timeout=15, what="autovacuum to clean the churn")


def test_a_roles_restore_is_recorded_then_discarded(env: LocalEnvironment) -> None:
    db = env.local_database
    snap = db.snapshot()
    assert snap.verified and snap in db.snapshots()
    pg.query(db.dsn(), "CREATE TABLE after_snapshot (id int)")
    restored = db.restore(snap, "compliant-prod-restored")
    assert isinstance(restored, DatabaseInstance)
    assert env.state.read().clusters["compliant-prod-restored"].role == "restored"  # type: ignore[union-attr]
    assert pg.query(restored.dsn(), "SELECT to_regclass('after_snapshot')") == [(None,)]
    # The DSN a switchover gives the service: through a new toxiproxy link, to the restored server.
    url = env.app_database_url(restored)
    assert "app-db-compliant-prod-restored" in env.network.proxies()
    password = env.secrets.get(env.platform.db_password_secret_id)
    with psycopg.connect(url, password=password, connect_timeout=5) as conn:
        assert conn.execute("SELECT inet_server_port()").fetchone() == (restored.port,)  # type: ignore[attr-defined]
    assert [i.name for i in db.instances()] == ["compliant-prod-restored"]
    db.discard(restored)
    assert not restored.running()
    assert "compliant-prod-restored" not in env.state.read().clusters  # type: ignore[union-attr]


def test_a_roles_point_in_time_recovery(env: LocalEnvironment) -> None:
    db = env.local_database
    pg.query(db.dsn(), "CREATE TABLE IF NOT EXISTS pitr_marks (id int)")
    pg.query(db.dsn(), "INSERT INTO pitr_marks VALUES (1)")
    target = datetime.now(UTC)
    pg.query(db.dsn(), "INSERT INTO pitr_marks VALUES (2)")
    restored = db.restore_to_time(target, "compliant-prod-pitr")
    try:
        assert pg.query(restored.dsn(), "SELECT array_agg(id) FROM pitr_marks") == [([1],)]
    finally:
        db.discard(restored)


def test_the_replica_is_promoted_then_rebuilt(env: LocalEnvironment) -> None:
    replica = env.local_replica
    pg.query(env.database.dsn(), "CREATE TABLE IF NOT EXISTS promoted_marks (id int)")
    replica.wait_caught_up(timeout=30)
    assert replica.lag_s() == 0.0 and replica.lag_bytes() == 0
    promoted = replica.promote(timeout=60)
    pg.query(promoted.dsn(), "INSERT INTO promoted_marks VALUES (1)")
    assert env.state.read().clusters["dr-replica"].role == "promoted"  # type: ignore[union-attr]
    assert replica.lag().state == "promoted"
    replica.rebuild(timeout=120)
    assert env.state.read().clusters["dr-replica"].role == "standby"  # type: ignore[union-attr]
    pg.query(env.database.dsn(), "INSERT INTO promoted_marks VALUES (2)")
    wait_for(lambda: replica.lag_bytes() == 0, what="rebuilt replica caught up")
    # The rebuilt replica follows the primary again, not its own promoted past.
    assert pg.query(replica.dsn(), "SELECT array_agg(id) FROM promoted_marks") == [([2],)]


def test_a_second_up_attaches_instead_of_starting_again(env: LocalEnvironment) -> None:
    other = LocalEnvironment(env.state_dir)
    assert other.up() is False
    assert other.started_here is False
    assert other.database.dsn() == env.database.dsn()


def served_by(env: LocalEnvironment) -> tuple[int, str | None]:
    request = urllib.request.Request(f"{env.front_door_url}/api/health")
    try:
        with urllib.request.urlopen(request, timeout=3) as response:
            return response.status, response.headers.get("X-Frontdoor-Pool")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("X-Frontdoor-Pool")


def test_a_route53_upsert_moves_front_door_traffic_to_the_dr_pool(env: LocalEnvironment) -> None:
    assert env.app_plane is not None and env.app_plane.dr_api is not None
    dr_api = env.app_plane.dr_api
    assert dr_api.env()["DATABASE_URL"] == env.app_database_url(env.replica)  # through app-db-dr
    assert served_by(env) == (200, "api")
    dr_api.scale(2)
    try:
        dr_api.wait_available(timeout=120)
        env.dns.upsert(env.platform.api_record, env.platform.dr_target)
        wait_for(lambda: served_by(env) == (200, "api-dr"), timeout=30, what="traffic on the DR pool")
        assert all(served_by(env) == (200, "api-dr") for _ in range(5))
    finally:
        env.dns.upsert(env.platform.api_record, env.platform.primary_target)
        wait_for(lambda: served_by(env) == (200, "api"), timeout=30, what="traffic back on the primary")
        dr_api.scale(0)


def test_an_api_replica_killed_with_sigkill_comes_back(env: LocalEnvironment) -> None:
    before = {r.name: r for r in env.app.replicas()}
    victim = next(iter(before.values()))
    assert victim.pid is not None
    os.kill(victim.pid, signal.SIGKILL)
    assert procs.wait_gone(victim.pid, 10)

    def back() -> bool:
        now = {r.name: r for r in env.app.replicas()}
        again = now.get(victim.name)
        return (again is not None and again.ready and again.pid not in (None, victim.pid)
                and again.restarts == victim.restarts + 1 and all(r.ready for r in now.values()))

    wait_for(back, timeout=60, what=f"{victim.name} restarted")
    env.app.wait_available(timeout=60)
    assert check_all(env.steady_probes()).passed


def test_the_primary_stops_like_a_crash_and_starts_again(env: LocalEnvironment) -> None:
    db = env.database
    with pytest.raises(InvalidDrillConfig, match="stop mode 'gentle'"):
        db.stop("gentle")
    db.stop("immediate")
    assert not db.running()
    down = check_all(env.steady_probes())
    assert not down.passed and "database" in down.detail
    db.start(timeout=60)
    wait_for(lambda: check_all(env.steady_probes()).passed, timeout=60, what="steady state after restart")
    wait_for(lambda: env.local_replica.lag().state == "streaming", timeout=60, what="replica reconnected")


def test_each_server_and_snapshot_starts_in_a_block_group_of_its_own(env: LocalEnvironment) -> None:
    layout = env.layout
    if not supported(layout.root):
        pytest.skip(f"{layout.root}'s file system has no TOPDIR flag")
    assert is_spread(layout.clusters) and is_spread(layout.snapshots)
