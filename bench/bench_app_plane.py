"""App plane benchmarks (issue #3, the service and its supervisor): figures printed, nothing asserted.

1. One replica of the service: spawn -> /livez answers, and spawn -> /api/health 200 (median of N).
2. The app plane: start_app_plane -> every deployment available, and stop_app_plane (median of N).
3. A replica SIGKILLed -> ready again under the supervisor (back-off base 0.5 s included).
4. A crash-looping release (Recreate) -> CrashLoopBackOff; rollout undo -> available again.
5. A Route 53 UPSERT -> the first request served by the DR pool (front door reads DNS every 0.5 s).
6. A zone failure (cordon + SIGKILL of az-a) -> the API available again from az-b.
7. A Recreate rollout (set env): of the API, and of the API and the workers at once.

    python bench/bench_app_plane.py [--runs 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drillbook.twin.app_plane import BAD_VERSION, DR_TARGET, PRIMARY_TARGET, AppPlane
from drillbook.twin.postgres import free_port
from drillbook.twin.supervisor import BackoffPolicy
from tests.twin.app_plane_support import (
    SERVICE_MODULE,
    Platform,
    http,
    run_service,
    start_plane,
    start_platform,
)


def until(check: Callable[[], object], timeout: float = 120.0) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            if check():
                return time.perf_counter() - start
        except Exception:
            pass
        time.sleep(0.01)
    raise TimeoutError("condition not reached")


def ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def line(what: str, samples: list[float]) -> None:
    print(f"  {what:<58} median {statistics.median(samples):6.3f}s  "
          f"min {min(samples):6.3f}s  max {max(samples):6.3f}s  (n={len(samples)})")


def replica_start(platform: Platform, tmp: Path, runs: int) -> None:
    live, healthy = [], []
    for i in range(runs):
        port = free_port()
        start = time.perf_counter()
        proc = run_service(platform.service_env(port), tmp / f"svc{i}.log", module=SERVICE_MODULE, wait=False)
        base = f"http://127.0.0.1:{port}"
        until(lambda: ok(f"{base}/livez"))  # noqa: B023 (called at once)
        live.append(time.perf_counter() - start)
        until(lambda: ok(f"{base}/api/health"))  # noqa: B023
        healthy.append(time.perf_counter() - start)
        proc.stop()
    print("1. one replica of the Compliant API")
    line("spawn -> /livez 200", live)
    line("spawn -> /api/health 200 (database and Redis checked)", healthy)


def plane_cycle(platform: Platform, tmp: Path, runs: int) -> None:
    ups, downs = [], []
    for i in range(runs):
        start = time.perf_counter()
        plane = start_plane(platform, tmp / f"plane{i}", backoff=BackoffPolicy())
        ups.append(time.perf_counter() - start)
        start = time.perf_counter()
        report = plane.stop()
        downs.append(time.perf_counter() - start)
        assert report.clean, report
    print("2. the app plane (3 api replicas, 1 worker, supervisor, front door)")
    line("start_app_plane -> every deployment available", ups)
    line("stop_app_plane (graceful, then checked by pid and port)", downs)


def drills(platform: Platform, tmp: Path, runs: int) -> None:
    plane: AppPlane = start_plane(platform, tmp / "drills", backoff=BackoffPolicy(),
                                  dr_database_url=platform.database_url)
    health = f"{plane.front_door_url}/api/health"
    try:
        back = []
        for _ in range(runs):
            before = {r.name: r.restarts for r in plane.api.replicas()}
            name = plane.api.kill(count=1)[0]
            start = time.perf_counter()
            until(lambda: any(r.name == name and r.ready and r.restarts > before[name]  # noqa: B023
                              for r in plane.api.replicas()))
            back.append(time.perf_counter() - start)
            # Fresh pods, so every run sees the first back-off step (a pod killed again waits longer).
            plane.api.rollout_restart()
            plane.api.wait_available(60)
        print("3. replica SIGKILL (supervisor back-off base 0.5 s)")
        line("kill -> the same replica ready again (first restart)", back)

        looping, undone = [], []
        for _ in range(max(1, runs // 2)):
            start = time.perf_counter()
            plane.api.set_image(BAD_VERSION, strategy="Recreate")
            until(lambda: any(r.phase == "CrashLoopBackOff" for r in plane.api.replicas()))
            looping.append(time.perf_counter() - start)
            start = time.perf_counter()
            plane.api.rollout_undo()
            until(lambda: ok(health))
            plane.api.wait_available(120)
            undone.append(time.perf_counter() - start)
        print("4. crash-looping release (Recreate)")
        line("set_image(bad) -> CrashLoopBackOff visible", looping)
        line("rollout undo -> available (front door 200)", undone)

        assert plane.dr_api is not None
        plane.dr_api.scale(2)
        plane.dr_api.wait_available(60)
        moved = []
        for _ in range(runs):
            start = time.perf_counter()
            platform.upsert_record(DR_TARGET)
            until(lambda: http("GET", health).headers.get("X-Frontdoor-Pool") == "api-dr")
            moved.append(time.perf_counter() - start)
            platform.upsert_record(PRIMARY_TARGET)
            until(lambda: http("GET", health).headers.get("X-Frontdoor-Pool") == "api")
        print("5. DNS failover")
        line("Route 53 UPSERT -> first request served by the DR pool", moved)

        zone = []
        for _ in range(max(1, runs // 2)):
            # The supervisor's own zone failure (drills lose a zone through k8s_zone_drain, its
            # Kubernetes API): what is timed here is the supervisor's rescheduling.
            start = time.perf_counter()
            plane.supervisor.cordon("az-a", signal="SIGKILL")
            plane.api.wait_available(120)
            zone.append(time.perf_counter() - start)
            plane.supervisor.uncordon("az-a")
            plane.api.rollout_restart()  # spread over both zones again
            plane.api.wait_available(120)
        print("6. zone failure (cordon az-a, SIGKILL its replicas)")
        line("inject -> api available again from az-b", zone)

        api_only, both = [], []
        for i in range(runs):
            start = time.perf_counter()
            plane.api.set_env_with_cause({"BENCH_RUN": f"a{i}"}, "bench", strategy="Recreate")
            plane.api.wait_available(120)
            api_only.append(time.perf_counter() - start)
            start = time.perf_counter()
            for deployment in (plane.api, plane.workers):
                deployment.set_env_with_cause({"BENCH_RUN": f"b{i}"}, "bench", strategy="Recreate")
            for deployment in (plane.api, plane.workers):
                deployment.wait_available(120)
            both.append(time.perf_counter() - start)
        print("7. Recreate rollouts (a drill's read-only release and its switchover)")
        line("set env on the api (3 pods stop, 3 start) -> available", api_only)
        line("set env on the api and the workers at once -> available", both)
    finally:
        platform.upsert_record(PRIMARY_TARGET)
        plane.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="drillbook-bench-app-", dir="/tmp"))
    tmp.chmod(0o755)
    platform = start_platform(tmp / "platform")
    try:
        replica_start(platform, tmp, args.runs)
        plane_cycle(platform, tmp, args.runs)
        drills(platform, tmp, args.runs)
    finally:
        platform.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
