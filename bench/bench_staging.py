"""Staging driver benchmarks (issue #7): figures printed, nothing asserted.

Against the emulators the tests use (moto's HTTP server, the Kubernetes API emulator), so
these measure drillbook's own overhead per call and per wait, not AWS's or a cluster's:

1. RDS describe, stop + start, snapshot + restore through moto (median of N).
2. Kubernetes: kill half the pods -> the deployment available again; a bad rollout ->
   rollout undo -> available again; a zone drain (median of N).
3. ``drillbook env check`` (the preflight) over a profile of moto + the emulator.

    python bench/bench_staging.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drillbook.harness.environments.staging.aws.rds import Rds
from drillbook.harness.environments.staging.aws.rds_snapshots import RdsSnapshots
from drillbook.harness.environments.staging.k8s.client import Kube
from drillbook.harness.environments.staging.k8s.deployments import Deployments
from drillbook.harness.environments.staging.k8s.nodes import Nodes
from drillbook.harness.environments.staging.k8s.pods import Pods
from drillbook.harness.environments.staging.k8s.rollout import Rollouts
from drillbook.harness.environments.staging.settings import KubeSettings
from tests.environments.staging.kube_emulator import KubeEmulator, seed_deployment, seed_nodes
from tests.environments.staging.moto_server import MotoServer, create_postgres


def median(runs: int, fn: Callable[[int], object]) -> float:
    times = []
    for i in range(runs):
        started = time.monotonic()
        fn(i)
        times.append(time.monotonic() - started)
    return statistics.median(times)


def aws(runs: int) -> None:
    import logging

    logging.getLogger("drillbook.staging.rds").setLevel(logging.ERROR)  # the 7-day warning, once per stop
    moto = MotoServer()
    try:
        settings = moto.settings()
        create_postgres(settings, "bench-db")
        rds = Rds(settings, poll_interval=0.05)
        snaps = RdsSnapshots(rds)
        rds.describe("bench-db")  # moto loads its RDS backend on the first call
        print(f"rds describe:              {median(runs, lambda i: rds.describe('bench-db')) * 1000:8.1f} ms")
        t = median(runs, lambda i: (rds.stop("bench-db", timeout=30), rds.start("bench-db", timeout=30)))
        print(f"rds stop + start (waited): {t * 1000:8.1f} ms")
        t = median(
            runs,
            lambda i: snaps.restore(
                snaps.create("bench-db", f"bench-snap-{i}", timeout=30).id, f"bench-restored-{i}", timeout=30
            ),
        )
        print(f"rds snapshot + restore:    {t * 1000:8.1f} ms")
    finally:
        moto.stop()


def kubernetes(runs: int) -> None:
    emulator = KubeEmulator(required_env=("DATABASE_URL",), ready_after=0.2).start()
    try:
        api = emulator.api_client()
        seed_nodes(api, {"az-a": 2, "az-b": 1})
        seed_deployment(api, "bench", "api", replicas=6, env={"DATABASE_URL": "postgresql://app@db/app"})
        kube = Kube(
            KubeSettings(api_url=emulator.url, namespace="bench", request_timeout=5), poll_interval=0.05
        )
        deployments = Deployments(kube)
        deployments.wait_available("api", timeout=30)

        def kill(i: int) -> None:
            Pods(kube).kill("app=api", percent=50, grace_period=0, seed=i)
            deployments.wait_available("api", timeout=30)

        print(f"kill 50% -> available:     {median(runs, kill) * 1000:8.1f} ms  (emulated readiness 200 ms)")

        def bad_then_undo(i: int) -> None:
            deployments.set_env("api", {"DATABASE_URL": None})
            Rollouts(deployments).undo("api")
            deployments.wait_available("api", timeout=30)

        print(f"bad rollout -> undo -> ok: {median(runs, bad_then_undo) * 1000:8.1f} ms")
        nodes = Nodes(kube, retry_interval=0.1)

        def drain(i: int) -> None:
            nodes.drain_zone("az-a", grace_period=0, timeout=30)
            deployments.wait_available("api", timeout=30)
            for node in nodes.in_zone("az-a"):
                nodes.uncordon(node)

        print(f"zone drain -> available:   {median(runs, drain) * 1000:8.1f} ms")
    finally:
        emulator.stop()


def preflight(runs: int) -> None:
    import logging
    import tempfile

    from drillbook.harness.config import load_config
    from drillbook.harness.environments.factory import build_environment
    from drillbook.harness.environments.preflight import preflight as check
    from drillbook.harness.environments.staging.environment import StagingEnvironment

    moto = MotoServer()
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # moto logs unimplemented calls with tracebacks
    emulator = KubeEmulator().start()
    try:
        settings = moto.settings()
        create_postgres(settings, "compliant-db")
        seed_deployment(emulator.api_client(), "compliant", "api", replicas=2)
        directory = Path(tempfile.mkdtemp(prefix="bench-staging-"))
        (directory / "drillbook.toml").write_text(
            f'[environments.staging.aws]\nregion = "{settings.region}"\nendpoint_url = "{moto.url}"\n'
            f'[environments.staging.kubernetes]\napi_url = "{emulator.url}"\nnamespace = "compliant"\n'
            '[environments.staging.database]\ninstance_id = "compliant-db"\n'
            '[environments.staging.app]\ndeployment = "api"\nselector = "app=api"\n'
        )
        env = build_environment("staging", load_config(directory / "drillbook.toml"), directory)
        assert isinstance(env, StagingEnvironment)
        check(env, timeout=10)  # warm-up: moto's first calls load its backends
        t = median(runs, lambda i: check(env, timeout=10))
        print(f"env check (RDS + k8s):     {t * 1000:8.1f} ms")
    finally:
        emulator.stop()
        moto.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_CONFIG_FILE="/nonexistent/aws-config",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent/creds",
    )
    print(f"staging drivers against emulators, median of {args.runs} runs ({os.cpu_count()} CPUs)")
    aws(args.runs)
    kubernetes(args.runs)
    preflight(args.runs)


if __name__ == "__main__":
    main()
