"""The front door: routed by the Route 53 record, to ready replicas only, with JSON errors."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from drillbook.harness import procs
from drillbook.twin.app_plane import DR_TARGET, PRIMARY_TARGET, AppPlane
from drillbook.twin.archive import WalArchive
from drillbook.twin.frontdoor_dns import RecordWatcher
from drillbook.twin.postgres import PostgresCluster, free_port
from drillbook.twin.primary import APP_DATABASE, APP_USER
from drillbook.twin.standby import build_standby, drop_slot, promote
from tests.twin.app_plane_support import (
    RECORD,
    USER_EMAIL,
    USER_PASSWORD,
    Platform,
    http,
    login,
    plane,
    platform,
    pods,
    start_plane,
    stop_and_check,
    wait_for,
)

__all__ = ["plane", "platform"]


@pytest.fixture
def dr_plane(platform: Platform, tmp_path: Path) -> Iterator[AppPlane]:
    # The DR pool's database is the same server here: these tests are about routing.
    started = start_plane(platform, tmp_path / "app", dr_database_url=platform.database_url, replicas=2)
    try:
        yield started
    finally:
        try:
            stop_and_check(started)
        finally:
            platform.upsert_record(PRIMARY_TARGET)


def served_by(plane: AppPlane) -> tuple[int, str | None, str]:
    answer = http("GET", f"{plane.front_door_url}/api/health")
    return answer.status, answer.headers.get("X-Frontdoor-Pool"), str(answer.body.get("replica", ""))


def test_requests_are_spread_over_the_ready_replicas(plane: AppPlane) -> None:
    names = {p["name"] for p in pods(plane.api)}
    seen = {served_by(plane)[2] for _ in range(9)}
    assert seen == names
    status = plane.front_door_status()
    assert status["pool"] == "api" and status["value"] == PRIMARY_TARGET and status["dns_error"] is None


def test_a_route53_upsert_moves_the_traffic_to_the_dr_pool(platform: Platform, dr_plane: AppPlane) -> None:
    assert served_by(dr_plane)[:2] == (200, "api")
    platform.upsert_record(DR_TARGET)
    # The DR region runs no replica yet (pilot light): traffic has moved, nobody answers.
    moved = wait_for(lambda: (a := http("GET", f"{dr_plane.front_door_url}/api/health")).status == 503
                     and a.body.get("pool") == "api-dr" and a, 10, "traffic on the DR pool")
    assert moved.body["error"] == "no_ready_replicas" and moved.body["value"] == DR_TARGET
    assert dr_plane.dr_api is not None
    dr_plane.dr_api.scale(2)
    dr_plane.dr_api.wait_available(timeout=60)
    for _ in range(6):
        status, pool, replica = served_by(dr_plane)
        assert (status, pool) == (200, "api-dr") and replica.startswith("api-dr-")
    assert {r.zone for r in dr_plane.dr_api.replicas()} == {"dr-az-a", "dr-az-b"}
    platform.upsert_record(PRIMARY_TARGET)
    wait_for(lambda: served_by(dr_plane)[1] == "api", 10, "traffic back on the primary pool")


def test_a_replica_that_stops_answering_gets_no_traffic(plane: AppPlane) -> None:
    victim = pods(plane.api)[0]
    os.kill(victim["pid"], signal.SIGSTOP)
    try:
        wait_for(lambda: not {p["name"]: p for p in pods(plane.api)}[victim["name"]]["ready"], 30,
                 "the replica unready")
        answers = [served_by(plane) for _ in range(8)]
    finally:
        os.kill(victim["pid"], signal.SIGCONT)
    assert all(a[0] == 200 for a in answers), answers
    assert victim["name"] not in {a[2] for a in answers}
    wait_for(lambda: {p["name"]: p for p in pods(plane.api)}[victim["name"]]["ready"], 30, "ready again")


def test_no_ready_replica_is_a_503_with_detail(plane: AppPlane) -> None:
    plane.api.scale(0)
    answer = wait_for(lambda: (a := http("GET", f"{plane.front_door_url}/api/projects")).status == 503 and a,
                      30, "503")
    assert answer.body["error"] == "no_ready_replicas" and answer.body["pool"] == "api"
    assert answer.body["record"] == RECORD
    plane.api.scale(3)
    plane.api.wait_available(timeout=60)
    assert http("GET", f"{plane.front_door_url}/api/projects").status == 200


def test_a_record_pointing_nowhere_known_is_a_503_naming_it(platform: Platform, plane: AppPlane) -> None:
    platform.upsert_record("lb.elsewhere.example")
    try:
        answer = wait_for(lambda: (a := http("GET", f"{plane.front_door_url}/api/health")).status == 503
                          and a.body.get("error") == "no_pool" and a, 10, "no_pool")
    finally:
        platform.upsert_record(PRIMARY_TARGET)
    assert "lb.elsewhere.example" in answer.body["message"] and PRIMARY_TARGET in answer.body["message"]


def test_writes_go_through_and_the_audit_records_the_real_client(platform: Platform, plane: AppPlane) -> None:
    token = login(plane.front_door_url)
    created = http("POST", f"{plane.front_door_url}/api/projects", {"name": "via the front door"},
                   token=token, headers={"X-Forwarded-For": "198.51.100.9", "User-Agent": "fd-test"})
    assert created.status == 201, created.body
    rows = platform.sql("SELECT host(ip_address) FROM audit_log "
                        "WHERE event_type = 'create' AND record_id = %s", (created.body["project"]["id"],))
    assert rows == [("127.0.0.1",)]  # the front door's own entry, not the client's claim


def test_an_unreachable_route53_is_an_error_not_a_hang() -> None:
    watcher = RecordWatcher(endpoint=f"http://127.0.0.1:{free_port()}", region="us-east-1",
                            hosted_zone_id="ZNOWHERE", record_name=RECORD, timeout_s=0.5,
                            credentials={"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"})
    answer = watcher.refresh()
    assert answer.value is None and answer.error and "Connect" in answer.error


def test_the_front_door_keeps_routing_while_the_supervisor_is_down(plane: AppPlane) -> None:
    supervisor = next(p for p in plane.processes if p.name == "supervisor")
    os.kill(supervisor.pid, signal.SIGKILL)
    assert procs.wait_gone(supervisor.pid, 5)
    assert all(served_by(plane)[0] == 200 for _ in range(5))
    plane.restart_supervisor()


def test_scenario_1b_promote_the_dr_replica_upsert_the_record_and_traffic_moves(
    platform: Platform, tmp_path: Path
) -> None:
    """The DR pool runs against a real streaming replica: read-only until promoted, then the
    region serving writes, reached only because the DNS record says so."""
    base = Path(tempfile.mkdtemp(prefix="drillbook-dr-", dir="/tmp"))
    base.chmod(0o755)
    standby = PostgresCluster(base / "dr-replica" / "data", name="dr-replica", dbname=APP_DATABASE)
    archive = WalArchive(base / "archive").create(standby.user)
    started: AppPlane | None = None
    try:
        build_standby(platform.cluster, standby, archive, slot="drillbook_test_1b")
        dr_url = f"postgresql://{APP_USER}@127.0.0.1:{standby.port}/{APP_DATABASE}"
        started = start_plane(platform, tmp_path / "app", replicas=1, dr_replicas=1, dr_database_url=dr_url)
        door = started.front_door_url
        before = http("POST", f"{door}/api/projects", {"name": "written in the primary region"},
                      token=login(door))
        assert before.status == 201 and before.headers["X-Frontdoor-Pool"] == "api"
        project = before.body["project"]["id"]
        wait_for(lambda: standby.sql("SELECT 1 FROM projects WHERE id = %s", (project,),
                                     dbname=APP_DATABASE), 30, "the write replayed on the DR replica")

        platform.upsert_record(DR_TARGET)
        wait_for(lambda: served_by(started)[1] == "api-dr", 10, "traffic on the DR pool")
        health = http("GET", f"{door}/api/health")
        assert health.status == 200 and health.body["checks"]["database"]["writable"] is False
        assert http("GET", f"{door}/api/projects/{project}").status == 200  # reads from the replica
        refused = http("POST", f"{door}/api/auth/login", {"email": USER_EMAIL, "password": USER_PASSWORD})
        assert refused.status == 503  # a login is audited: no write before the promotion

        promote(standby, timeout=60)
        after = http("POST", f"{door}/api/projects", {"name": "written in the DR region"}, token=login(door))
        assert after.status == 201 and after.headers["X-Frontdoor-Pool"] == "api-dr"
        new_id = after.body["project"]["id"]
        assert standby.sql("SELECT name FROM projects WHERE id = %s", (new_id,), dbname=APP_DATABASE) == [
            ("written in the DR region",)]
        assert http("GET", f"{door}/api/health").body["checks"]["database"]["writable"] is True
    finally:
        try:
            if started is not None:
                stop_and_check(started)
        finally:
            platform.upsert_record(PRIMARY_TARGET)
            standby.stop("immediate")
            drop_slot(platform.cluster, "drillbook_test_1b")
            shutil.rmtree(base, ignore_errors=True)
