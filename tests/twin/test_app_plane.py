"""The app plane's launch API: start, attach from another process, stop leaving nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from drillbook.harness import procs
from drillbook.twin.app_plane import (
    AppPlane,
    AppPlaneError,
    AppProcess,
    attach_app_plane,
    stop_app_plane,
)
from drillbook.twin.postgres import free_port
from drillbook.twin.processes import labelled, listening
from tests.twin.app_plane_support import (
    Platform,
    assert_nothing_left,
    http,
    login,
    plane,
    plane_pids,
    platform,
    start_plane,
    wait_for,
)

__all__ = ["plane", "platform"]
REPO = Path(__file__).resolve().parents[3]


def test_start_reports_each_process_and_stop_leaves_nothing(platform: Platform, tmp_path: Path) -> None:
    recorded: list[AppProcess] = []
    began = time.monotonic()
    started = start_plane(platform, tmp_path / "app", on_process=recorded.append, logs_dir=tmp_path / "logs")
    elapsed = time.monotonic() - began
    try:
        assert [p.name for p in recorded] == ["supervisor", "frontdoor"]
        assert all(p.port and procs.alive(p.pid, p.ticks) for p in recorded)
        assert http("GET", f"{started.front_door_url}/api/health").status == 200
        rows = {row.name: row for row in started.component_status()}
        assert rows["api"].health == "healthy" and "3/3 ready" in rows["api"].detail
        assert rows["supervisor"].pid == recorded[0].pid
        assert (tmp_path / "logs" / "supervisor.log").exists()
        assert any(p.name.startswith("api-") for p in (tmp_path / "logs").iterdir())
        print(f"app plane up in {elapsed:.2f}s")
    finally:
        pids, ports = plane_pids(started), started.ports()
        report = started.stop()
    assert report.clean, report
    assert len(ports) >= 2 + 3 + 1
    assert_nothing_left(started, pids, ports)
    assert stop_app_plane(started.state_dir).clean  # twice is harmless


def test_another_process_attaches_and_drives_it(plane: AppPlane) -> None:
    script = (
        "import json, sys\n"
        "from drillbook.twin.app_plane import attach_app_plane\n"
        "plane = attach_app_plane(sys.argv[1])\n"
        "killed = plane.api.kill(count=1)\n"
        "print(json.dumps({'url': plane.front_door_url, 'killed': killed}))\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(plane.state_dir)], capture_output=True, text=True,
                         timeout=60, cwd=REPO, check=True)
    answer = json.loads(out.stdout)
    assert answer["url"] == plane.front_door_url and len(answer["killed"]) == 1
    wait_for(lambda: {p.name: p for p in plane.api.replicas()}[answer["killed"][0]].restarts == 1, 30)
    again = attach_app_plane(plane.state_dir)
    assert again.api.status()["replicas"] == 3


def test_stop_works_after_the_launching_process_was_killed(platform: Platform, tmp_path: Path) -> None:
    state_dir = tmp_path / "app"
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from drillbook.twin.app_plane import SecretRefs, start_app_plane\n"
        "args = dict(arg.split('=', 1) for arg in sys.argv[2:])\n"
        "plane = start_app_plane(Path(sys.argv[1]), database_url=args['db'], redis_url=args['redis'],\n"
        "    aws_endpoint=args['aws'], hosted_zone_id=args['zone'], record_name=args['record'],\n"
        "    secrets=SecretRefs(args['jwt'], args['pw'], args['key']), timeout=90)\n"
        "print('UP', flush=True)\n"
        "time.sleep(600)\n"
    )
    ids = platform.secret_ids
    args = [f"db={platform.database_url}", f"redis={platform.redis_url}", f"aws={platform.aws_endpoint}",
            f"zone={platform.hosted_zone_id}", "record=api.compliant.test", f"jwt={ids['JWT_SECRET_ID']}",
            f"pw={ids['DB_PASSWORD_SECRET_ID']}", f"key={ids['ENCRYPTION_KEY_SECRET_ID']}"]
    launcher = subprocess.Popen([sys.executable, "-c", script, str(state_dir), *args], cwd=REPO,
                                stdout=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert launcher.stdout is not None
        assert launcher.stdout.readline().strip() == "UP"
    finally:
        launcher.send_signal(signal.SIGKILL)
        launcher.wait(10)
    orphan = attach_app_plane(state_dir)
    assert http("GET", f"{orphan.front_door_url}/api/health").status == 200  # it outlived its launcher
    pids, ports = plane_pids(orphan), orphan.ports()
    report = stop_app_plane(state_dir)
    assert report.clean, report
    assert_nothing_left(orphan, pids, ports)


def test_a_start_that_fails_half_way_stops_what_it_started(platform: Platform, tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # Route 53 cannot be read: fails after the supervisor is up
    with pytest.raises(AppPlaneError, match="creating the API record failed") as info:
        start_plane(platform, tmp_path / "app", aws_endpoint=dead, label="drillbook-failing-start")
    assert "was stopped" in str(info.value)
    manifest = json.loads((tmp_path / "app" / "app-plane.json").read_text())
    assert not procs.alive(manifest["supervisor"]["pid"], manifest["supervisor"]["ticks"])
    assert not labelled("drillbook-failing-start")
    assert not listening([manifest["supervisor"]["port"]])


def test_a_second_start_on_a_running_plane_is_refused(platform: Platform, plane: AppPlane) -> None:
    with pytest.raises(AppPlaneError, match="already runs"):
        start_plane(platform, plane.state_dir)


def test_bad_arguments_are_clear_errors(platform: Platform, tmp_path: Path) -> None:
    with pytest.raises(AppPlaneError, match="replicas must be a whole number"):
        start_plane(platform, tmp_path / "app", replicas=-1)


def test_rotated_secrets_and_a_rollout_restart_reject_old_tokens(platform: Platform, plane: AppPlane) -> None:
    """The DR procedures' Scenario 3: rotate every secret, restart, old sessions are void."""
    old_token = login(plane.front_door_url)
    platform.rotate_secret("jwt-secret")
    assert http("POST", f"{plane.front_door_url}/api/projects", {"name": "before restart"},
                token=old_token).status == 201
    plane.api.rollout_restart()
    plane.api.wait_available(timeout=90)
    rejected = http("POST", f"{plane.front_door_url}/api/projects", {"name": "stale"}, token=old_token)
    assert (rejected.status, rejected.body["error"]) == (401, "invalid_token")
    fresh = login(plane.front_door_url)
    assert http("POST", f"{plane.front_door_url}/api/projects", {"name": "fresh"}, token=fresh).status == 201


def test_read_only_mode_by_set_env_stops_write_traffic(plane: AppPlane) -> None:
    """The DR procedures' Scenario 2: kubectl set env deployment/backend READ_ONLY_MODE=true."""
    token = login(plane.front_door_url)
    plane.api.set_env(READ_ONLY_MODE="true")
    plane.api.wait_available(timeout=90)
    refused = http("POST", f"{plane.front_door_url}/api/projects", {"name": "blocked"}, token=token)
    assert (refused.status, refused.body["error"]) == (503, "read_only")
    assert http("GET", f"{plane.front_door_url}/api/projects").status == 200
    plane.api.rollout_undo()
    plane.api.wait_available(timeout=90)
    assert http("POST", f"{plane.front_door_url}/api/projects", {"name": "open again"},
                token=login(plane.front_door_url)).status == 201
