"""The twin's APIs (issue #13): figures printed, nothing asserted.

RDS (section ``rds``), on an environment of its own, through boto3 as a drill calls it:

1. Median latency of each call: the time until the API answers (the work goes on in the
   background for the calls that change something).
2. Each DR primitive through the API, from the call until the instance (or snapshot) is
   available, against the same primitive called directly (``LocalDatabase.snapshot``,
   ``.restore``, ``.restore_to_time``, ``multi_az.failover``, ``LocalReplica.promote``), runs
   interleaved; the ratio of the medians (goal: at most 1.1). The API side polls
   DescribeDBInstances every 50 ms, as the drivers do on the twin (a waiter polls every 30 s):
   up to ~55 ms of an API figure is the poll's. Also shown: the server's work alone (the moto process's log of
   each background action), without the call and the poll.

Kubernetes (section ``kube``), on the same environment's app plane, through the official
client (the staging drivers' code path): the median (and p90) latency of each call the twin's
Kubernetes API serves (bench_twin_kube.py holds the calls; 4 x ``--runs`` samples each, a
quarter of that for the calls that set off a rollout), beside the supervisor's own API for
the comparable calls. It runs before ``rds``, whose failovers and promotions it should not see.

Cold start (section ``start``): ``LocalEnvironment.up()`` until healthy (goal: 3 s median),
measured as bench_local_env.py measures it, median of ``--runs``.

A section is a function taking the running environment and the number of runs (``SECTIONS``).

    python bench/bench_twin.py [--runs 5] [--sections kube,rds,start]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_local_env import bench_cold_start, scratch
from bench_twin_kube import bench as kube_calls
from bench_twin_kube import report as kube_report

from drillbook.harness.errors import InvalidDrillConfig
from drillbook.twin import sample_data
from drillbook.twin.environment import LocalEnvironment
from drillbook.twin.rds import multi_az
from drillbook.twin.rds.inventory import rds_snapshot_id
from drillbook.twin.rds.plane import plane_at
from drillbook.twin.settings import LocalSettings
from tests.twin.dataplane_support import wait_for
from tests.twin.rds.support import (
    DR_REGION,
    PRIMARY,
    REPLICA,
    describe,
    multi_az_ready,
    rds_client,
    standby_streaming,
    status,
)

#: How often the API side polls DescribeDBInstances: as often as the drivers do on the twin
#: (``DrivenLocalEnvironment.poll_interval``; a boto3 waiter polls every 30 s). A poll costs
#: ~5 ms of CPU (the moto process answering, this one parsing): ~10 % of a core.
POLL_S = 0.05
#: The interval in use (``--poll``).
POLLING = {"interval": POLL_S}
#: The moto process logs each background action: "<action> <identifier>: done in 1.23s".
DONE = re.compile(r"INFO (?P<action>.+) (?P<ident>\S+): done in (?P<seconds>[0-9.]+)s$")


def timed(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def until(check: Callable[[], bool], timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(POLLING["interval"])


def median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:7.1f} ms"


# -- RDS -----------------------------------------------------------------------------


class RdsBench:
    def __init__(self, env: LocalEnvironment, runs: int) -> None:
        self.env, self.runs = env, runs
        self.rds, self.west = rds_client(env), rds_client(env, DR_REGION)
        self.calls: dict[str, list[float]] = {}
        self.api: dict[str, list[float]] = {}
        self.direct: dict[str, list[float]] = {}

    def call(self, name: str, action: Callable[[], object]) -> None:
        self.calls.setdefault(name, []).append(timed(action))

    def available(self, identifier: str, client: Any = None) -> None:
        until(lambda: status(client or self.rds, identifier) == "available")

    def snapshot_available(self, snapshot: str) -> None:
        until(
            lambda: (
                self.rds.describe_db_snapshots(DBSnapshotIdentifier=snapshot)["DBSnapshots"][0]["Status"]
                == "available"
            )
        )

    def gone(self, identifier: str) -> None:
        until(lambda: status(self.rds, identifier) == "absent")

    def run(self) -> None:
        # Each region's backend and its first models are made on first use: not measured.
        self.rds.describe_db_instances()
        self.west.describe_db_instances()
        for run in range(1, self.runs + 1):
            self.describes()
            self.snapshot(run)
            self.restore(run)
            self.pitr(run)
            self.stop_start(run)
            self.failover(run)
            self.promote(run)
            print(f"  rds run {run}/{self.runs} done", flush=True)
        self.report()

    def describes(self) -> None:
        for _ in range(10):
            self.call("DescribeDBInstances", lambda: self.rds.describe_db_instances())
            self.call("DescribeDBInstances (one)", lambda: describe(self.rds, PRIMARY))
            self.call("DescribeDBSnapshots", lambda: self.rds.describe_db_snapshots())

            def missing() -> None:
                try:
                    describe(self.rds, "no-such-db")
                except self.rds.exceptions.DBInstanceNotFoundFault:
                    return

            self.call("DescribeDBInstances (DBInstanceNotFound)", missing)

    def pair(self, name: str, run: int, api: Callable[[], None], direct: Callable[[], None]) -> None:
        """One run each, the API's first on odd runs and the direct one first on even runs: the
        second of two runs finds the first's WAL archived and its files in the page cache."""
        first, second = (api, direct) if run % 2 else (direct, api)
        for side in (first, second):
            self.api_or_direct(side is api, name, timed(side))

    def snapshot(self, run: int) -> None:
        name = f"bench-snap-{run}"
        database = self.env.local_database

        def api() -> None:
            self.call(
                "CreateDBSnapshot",
                lambda: self.rds.create_db_snapshot(DBInstanceIdentifier=PRIMARY, DBSnapshotIdentifier=name),
            )
            self.snapshot_available(name)

        taken: list[str] = []
        self.pair("snapshot", run, api, lambda: taken.append(database.snapshot().id))
        self.call("DeleteDBSnapshot", lambda: self.rds.delete_db_snapshot(DBSnapshotIdentifier=name))
        database.catalogue.delete(taken[0])

    def _newest_snapshot(self) -> Any:
        return self.env.local_database.snapshots()[0]

    def restore(self, run: int) -> None:
        snap = self._newest_snapshot()
        name, direct = f"bench-restored-{run}", f"bench-direct-{run}"
        database = self.env.local_database

        def api() -> None:
            self.call(
                "RestoreDBInstanceFromDBSnapshot",
                lambda: self.rds.restore_db_instance_from_db_snapshot(
                    DBInstanceIdentifier=name, DBSnapshotIdentifier=rds_snapshot_id(PRIMARY, snap)
                ),
            )
            self.available(name)

        def restore_directly() -> None:
            database.restore(snap, direct)

        self.pair("restore", run, api, restore_directly)
        self.call(
            "DeleteDBInstance",
            lambda: self.rds.delete_db_instance(DBInstanceIdentifier=name, SkipFinalSnapshot=True),
        )
        self.gone(name)
        database.discard(direct)

    def pitr(self, run: int) -> None:
        database = self.env.local_database
        target = datetime.now(UTC)
        database.primary.sql("SELECT pg_current_xact_id()")  # a commit after the target
        name, direct = f"bench-pitr-{run}", f"bench-pitr-direct-{run}"

        def api() -> None:
            self.call(
                "RestoreDBInstanceToPointInTime",
                lambda: self.rds.restore_db_instance_to_point_in_time(
                    SourceDBInstanceIdentifier=PRIMARY, TargetDBInstanceIdentifier=name, RestoreTime=target
                ),
            )
            self.available(name)

        def recover_directly() -> None:
            database.restore_to_time(target, direct)

        self.pair("PITR", run, api, recover_directly)
        self.rds.delete_db_instance(DBInstanceIdentifier=name, SkipFinalSnapshot=True)
        self.gone(name)
        database.discard(direct)

    def stop_start(self, run: int) -> None:
        snap = self._newest_snapshot()
        database = self.env.local_database
        name = f"bench-stop-{run}"
        database.restore(snap, name)
        self.call("StopDBInstance", lambda: self.rds.stop_db_instance(DBInstanceIdentifier=name))
        until(lambda: status(self.rds, name) == "stopped")
        self.call("StartDBInstance", lambda: self.rds.start_db_instance(DBInstanceIdentifier=name))
        self.available(name)
        self.call("RebootDBInstance", lambda: self.rds.reboot_db_instance(DBInstanceIdentifier=name))
        self.available(name)
        database.discard(name)

    def failover(self, run: int) -> None:
        plane = plane_at(self.env.layout.root)

        def api() -> None:
            self.call(
                "RebootDBInstance (ForceFailover)",
                lambda: self.rds.reboot_db_instance(DBInstanceIdentifier=PRIMARY, ForceFailover=True),
            )
            self.available(PRIMARY)

        def direct() -> None:
            multi_az.failover(plane, plane.record())

        first, second = (api, direct) if run % 2 else (direct, api)
        for side in (first, second):
            # Not timed: a failover needs the standby streaming (the old primary, after the last one).
            wait_for(lambda: standby_streaming(self.env), timeout=300, what="the standby streaming")
            self.api_or_direct(side is api, "failover", timed(side))

    def promote(self, run: int) -> None:
        replica = self.env.local_replica

        def api() -> None:
            self.call(
                "PromoteReadReplica", lambda: self.west.promote_read_replica(DBInstanceIdentifier=REPLICA)
            )
            self.available(REPLICA, self.west)

        first, second = (api, replica.promote) if run % 2 else (replica.promote, api)
        for side in (first, second):
            replica.wait_caught_up(timeout=120)
            self.api_or_direct(side is api, "promote", timed(side))
            replica.rebuild()

    def api_or_direct(self, through_api: bool, name: str, took: float) -> None:
        (self.api if through_api else self.direct).setdefault(name, []).append(took)

    def server_work(self) -> dict[str, list[float]]:
        """How long the moto process's background actions took, by primitive (its log)."""
        names = {
            "snapshot": "snapshot",
            "restore": "restore",
            "point-in-time restore": "PITR",
            "reboot with failover": "failover",
            "promote": "promote",
        }
        found: dict[str, list[float]] = {}
        for line in self.env.layout.log("moto").read_text().splitlines():
            done = DONE.search(line)
            if done and done["action"] in names and done["ident"].startswith(("bench-", PRIMARY, REPLICA)):
                found.setdefault(names[done["action"]], []).append(float(done["seconds"]))
        return found

    def report(self) -> None:
        print("\nRDS calls: median latency until the API answers")
        for name, values in self.calls.items():
            print(f"  {name:<45} {median_ms(values)}  (n={len(values)})")
        print(
            "\nDR primitives: through the API (call until available) vs called directly "
            "(medians; goal ratio <= 1.1)"
        )
        work = self.server_work()
        for name, api in self.api.items():
            direct = statistics.median(self.direct[name])
            ratio = statistics.median(api) / direct
            server = statistics.median(work[name]) if work.get(name) else float("nan")
            runs = ", ".join(f"{v:.2f}" for v in api)
            directs = ", ".join(f"{v:.2f}" for v in self.direct[name])
            print(
                f"  {name:<10} API {statistics.median(api):6.2f}s   direct {direct:6.2f}s   "
                f"ratio {ratio:5.2f}"
                f"   (server's work {server:5.2f}s, ratio {server / direct:4.2f}; API runs {runs}; "
                f"direct {directs})"
            )


def bench_rds(env: LocalEnvironment, runs: int) -> None:
    print("waiting for the primary's Multi-AZ standby (built after env up)", flush=True)
    multi_az_ready(env, timeout=300)
    zone = describe(rds_client(env), PRIMARY)["AvailabilityZone"]
    RdsBench(env, runs).run()
    if describe(rds_client(env), PRIMARY)["AvailabilityZone"] != zone:
        print("(an odd number of failovers: the primary ends in the other zone)")


def bench_kube(env: LocalEnvironment, runs: int) -> None:
    plane = env.app_plane
    if plane is None:
        raise SystemExit("the app plane is not up: no Kubernetes API to measure")
    print("\nKubernetes API calls (the official client): latency until the API answers", flush=True)
    kube_report(kube_calls(plane, 4 * runs))


SECTIONS: dict[str, Callable[[LocalEnvironment, int], None]] = {"kube": bench_kube, "rds": bench_rds}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="runs of each measurement (default 5)")
    parser.add_argument("--data-size", default="small",
                        help="the environment's sample data: small (default), 10MB, 100MB, 1GB")
    parser.add_argument("--poll", type=float, default=POLL_S,
                        help=f"seconds between the API side's DescribeDB* polls (default {POLL_S:g})")
    parser.add_argument(
        "--sections",
        default="kube,rds,start",
        help=f"what to measure: {', '.join([*SECTIONS, 'start'])} (default kube,rds,start)",
    )
    args = parser.parse_args()
    if args.poll <= 0:
        parser.error("--poll must be a positive number of seconds, e.g. 0.05")
    POLLING["interval"] = args.poll
    try:
        sample_data.parse_size(args.data_size)
    except InvalidDrillConfig as exc:
        parser.error(str(exc))
    wanted = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = set(wanted) - {*SECTIONS, "start"}
    if unknown:
        parser.error(
            f"unknown sections {', '.join(sorted(unknown))}; sections: {', '.join([*SECTIONS, 'start'])}"
        )
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start", flush=True)
    apis = [s for s in wanted if s in SECTIONS]
    if apis:
        with scratch("twin") as root:
            settings = LocalSettings(snapshot_interval_s=0, data_size=args.data_size)
            env = LocalEnvironment(root / "local", settings=settings)
            try:
                env.up()
                for section in [s for s in SECTIONS if s in apis]:  # kube before rds
                    SECTIONS[section](env, args.runs)
            finally:
                env.down()
    if "start" in wanted:
        print(f"\ncold start of the local environment ({args.runs} runs):", flush=True)
        bench_cold_start(args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
