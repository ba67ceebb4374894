"""Local environment benchmarks (issue #3, the data plane): figures printed, nothing asserted.

1. Cold start of the whole environment (``LocalEnvironment.up()``: PostgreSQL primary
   and DR replica, first snapshot, Redis, moto, toxiproxy, the app plane) until the
   API is healthy through the front door; median of N runs, with ``down()`` times.
2. For each database size (10 MB, 100 MB, 1 GB of sample data), the DR primitives
   against the physical floor, ``cp -a`` of the same data directory:
   snapshot (pg_basebackup, then pg_verifybackup), restore of that snapshot into a
   new server (until it accepts writes), point-in-time recovery to a time after
   the snapshot (until promoted), and promotion of the streaming DR replica.

    python bench/bench_local_env.py [--runs 5] [--skip-1gb] [--sizes 10MB,100MB] [--settle 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drillbook.twin import sample_data
from drillbook.twin.archive import WalArchive, archive_current_wal
from drillbook.twin.environment import LocalEnvironment
from drillbook.twin.pitr import RecoveryTarget, recover_to, restore_snapshot
from drillbook.twin.postgres import PostgresCluster, directory_size
from drillbook.twin.primary import APP_DATABASE, create_app_database, init_primary
from drillbook.twin.snapshots import SnapshotCatalogue
from drillbook.twin.spread import spread
from drillbook.twin.standby import build_standby, promote, replication_lag

T = TypeVar("T")
#: What `drillbook env status` shows for a component that is as it should be (the lease: free).
HEALTHY = ("healthy", "free")


def timed(action: Callable[[], T]) -> tuple[float, T]:
    began = time.monotonic()
    result = action()
    return time.monotonic() - began, result


@contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    # Outside /tmp/pytest-of-*: the servers' user must traverse every ancestor.
    path = Path(tempfile.mkdtemp(prefix=f"drillbook-bench-{prefix}-", dir="/tmp"))
    path.chmod(0o755)
    spread(path)  # as an environment's pg/ is: each server in a block group of its own
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# -- 1. cold start ------------------------------------------------------------


def bench_cold_start(runs: int, settle_s: float = 0.0) -> None:
    ups: list[float] = []
    downs: list[float] = []
    for run in range(1, runs + 1):
        if settle_s > 0 and run > 1:
            # The last run's files are still being written back and trimmed (the filesystem is
            # mounted with discard): a start right after a down waits on that disk work.
            os.sync()
            time.sleep(settle_s)
        with scratch("start") as root:
            env = LocalEnvironment(root / "local")
            try:
                up_s, _ = timed(env.up)
                # As `drillbook env status` has it, the moment up returned (not timed).
                unhealthy = [f"{c.name} {c.health}" for c in env.status() if c.health not in HEALTHY]
            finally:
                down_s, report = timed(env.down)
            ups.append(up_s)
            downs.append(down_s)
            health = "every component healthy" if not unhealthy else "NOT HEALTHY: " + ", ".join(unhealthy)
            print(f"  run {run}: up (healthy through the front door) {up_s:6.2f}s   down {down_s:5.2f}s"
                  f"   clean={report.clean}   status: {health}", flush=True)
    print(f"cold start to healthy: median {statistics.median(ups):.2f}s (min {min(ups):.2f}s, "
          f"max {max(ups):.2f}s, {runs} runs); down: median {statistics.median(downs):.2f}s\n", flush=True)


# -- 2. DR primitives per size --------------------------------------------------------


@dataclass
class Row:
    size: str
    datadir_mb: float
    cp_s: float
    snapshot_mb: float
    cp_snapshot_s: float
    snapshot_s: float
    basebackup_s: float
    verify_s: float
    restore_s: float
    pitr_s: float
    promote_s: float


def bench_size(size: str) -> Row:
    with scratch(size) as root:
        archive = WalArchive(root / "archive")
        primary = PostgresCluster(root / "primary" / "data", name="primary", dbname=APP_DATABASE)
        standby = PostgresCluster(root / "standby" / "data", name="dr-replica", dbname=APP_DATABASE)
        catalogue = SnapshotCatalogue(root / "snapshots")
        servers = [primary, standby]
        try:
            primary.prepare_parent()
            archive.create(primary.user)
            init_primary(primary, archive, archive_timeout_s=60)
            primary.start()
            primary.wait_ready()
            create_app_database(primary, "bench-password")
            load_s, loaded = timed(lambda: sample_data.load(primary, size, timeout=3600))
            primary.sql("CHECKPOINT", timeout=600)
            print(f"  {size}: loaded {loaded.data_bytes / 1024**2:.0f} MB of sample data in {load_s:.1f}s; "
                  "cloning the DR replica", flush=True)
            build_standby(primary, standby, archive, timeout=3600)

            datadir_mb = directory_size(primary.datadir) / 1024**2
            copy = root / "cp-a-copy"
            cp_s, _ = timed(lambda: subprocess.run(["cp", "-a", str(primary.datadir), str(copy)], check=True))
            shutil.rmtree(copy)

            snapshot_s, snap = timed(lambda: catalogue.take(primary, kind="manual", timeout=3600))
            assert snap.verified, snap.detail
            # The second floor: the bytes a restore copies (the backup holds no recycled WAL).
            backup = catalogue.data(snap)
            cp_snapshot_s, _ = timed(lambda: subprocess.run(["cp", "-a", str(backup), str(copy)], check=True))
            shutil.rmtree(copy)

            restored = PostgresCluster(root / "restored" / "data", name="restored", dbname=APP_DATABASE)
            servers.append(restored)
            restore_s, _ = timed(lambda: restore_snapshot(catalogue, snap, restored, timeout=3600))
            restored.destroy()

            # Writes after the snapshot, a target between them, the WAL archived: replay is needed.
            primary.sql("CREATE TABLE bench_marks (id int)", dbname=APP_DATABASE)
            primary.sql("INSERT INTO bench_marks SELECT generate_series(1, 1000)", dbname=APP_DATABASE)
            target = datetime.now(UTC)
            time.sleep(0.05)
            primary.sql("INSERT INTO bench_marks VALUES (0)", dbname=APP_DATABASE)
            archive_current_wal(primary, timeout=600)
            pitr = PostgresCluster(root / "pitr" / "data", name="pitr", dbname=APP_DATABASE)
            servers.append(pitr)
            pitr_s, _ = timed(lambda: recover_to(catalogue, archive, RecoveryTarget(time=target), pitr,
                                                 timeout=3600))
            assert pitr.sql("SELECT count(*) FROM bench_marks", dbname=APP_DATABASE) == [(1000,)]
            pitr.destroy()

            deadline = time.monotonic() + 600
            while replication_lag(primary, standby).bytes != 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            promote_s, _ = timed(lambda: promote(standby, timeout=600))
            return Row(size=size, datadir_mb=datadir_mb, cp_s=cp_s,
                       snapshot_mb=(snap.size_bytes or 0) / 1024**2, cp_snapshot_s=cp_snapshot_s,
                       snapshot_s=snapshot_s, basebackup_s=float(snap.detail["backup_s"]),
                       verify_s=float(snap.detail["verify_s"]), restore_s=restore_s, pitr_s=pitr_s,
                       promote_s=promote_s)
        finally:
            for server in servers:
                server.stop("immediate")


def print_table(rows: list[Row]) -> None:
    print("DR primitives against the physical floor. cp -a = a raw copy of the primary's data directory;")
    print("cp -a snap = a raw copy of the snapshot (the bytes a restore copies: no recycled WAL);")
    print("x = the primitive's time divided by the cp -a time (x snap: by the cp -a snap time)")
    head = ("size", "datadir", "cp -a", "snapshot", "cp -a snap", "snapshot", "(backup", "+verify)", "x",
            "restore", "x", "x snap", "PITR", "x", "x snap", "promote", "x")
    widths = (6, 8, 7, 9, 11, 9, 8, 9, 6, 8, 6, 7, 7, 6, 7, 8, 7)
    print(" ".join(f"{h:>{w}}" for h, w in zip(head, widths, strict=True)))
    for r in rows:
        cells = (r.size, f"{r.datadir_mb:.0f}MB", f"{r.cp_s:.2f}s", f"{r.snapshot_mb:.0f}MB",
                 f"{r.cp_snapshot_s:.2f}s", f"{r.snapshot_s:.2f}s", f"{r.basebackup_s:.2f}s",
                 f"{r.verify_s:.2f}s", f"{r.snapshot_s / r.cp_s:.2f}", f"{r.restore_s:.2f}s",
                 f"{r.restore_s / r.cp_s:.2f}", f"{r.restore_s / r.cp_snapshot_s:.2f}", f"{r.pitr_s:.2f}s",
                 f"{r.pitr_s / r.cp_s:.2f}", f"{r.pitr_s / r.cp_snapshot_s:.2f}", f"{r.promote_s:.2f}s",
                 f"{r.promote_s / r.cp_s:.3f}")
        print(" ".join(f"{c:>{w}}" for c, w in zip(cells, widths, strict=True)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="cold starts to take the median of (default 5)")
    parser.add_argument("--sizes", default="10MB,100MB,1GB", help="database sizes (default 10MB,100MB,1GB)")
    parser.add_argument("--skip-1gb", action="store_true", help="leave out the 1GB size (quick runs)")
    parser.add_argument("--skip-start", action="store_true", help="leave out the cold start figures")
    parser.add_argument("--settle", type=float, default=0.0,
                        help="sync and wait this many seconds between cold starts (default 0: back to back)")
    args = parser.parse_args()
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    if args.skip_1gb:
        sizes = [s for s in sizes if s.upper() != "1GB"]
    for size in sizes:
        sample_data.parse_size(size)
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start", flush=True)
    if not args.skip_start:
        print(f"cold start of the local environment ({args.runs} runs):", flush=True)
        bench_cold_start(args.runs, args.settle)
    rows = []
    for size in sizes:
        rows.append(bench_size(size))
        print_table(rows)
        print(flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
