"""Scheduled snapshots: a small process taking a base backup of the primary every interval.

Run by the local environment as
``python -m drillbook.twin.scheduler --state-dir DIR --interval S --keep N``;
it reads the primary's location from the environment's state file, keeps the
``N`` newest scheduled snapshots and exits on SIGTERM (between two snapshots, or
after the one in progress: a half-taken snapshot is never catalogued).

No snapshot is taken while a drill's fault is in effect (the undo logs beside the
environment list it): a backup taken then would hold the fault (an overwritten page,
a dropped table) after the drill reverted it, and the next restore would bring it
back. The snapshot waits until the fault is reverted; one taken while a fault was
injected is discarded.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from drillbook.harness.errors import DrillbookError
from drillbook.harness.undolog import all_logs
from drillbook.twin.postgres import PostgresCluster
from drillbook.twin.snapshots import SnapshotCatalogue
from drillbook.twin.state import StateFile

#: How soon a snapshot held back by a drill's fault is tried again.
RETRY_S = 5.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m drillbook.twin.scheduler")
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--interval", type=float, required=True, help="seconds between snapshots")
    parser.add_argument("--keep", type=int, default=5)
    parser.add_argument("--drillbook-dir", type=Path, default=None,
                        help="the drillbook state directory, with undo/ (default: --state-dir's parent)")
    args = parser.parse_args(argv)
    drillbook_dir = args.drillbook_dir or args.state_dir.parent
    interval: float = args.interval
    stop = threading.Event()

    def retry_soon() -> float:
        """The ``last`` that makes the next attempt RETRY_S from now, not an interval."""
        return time.time() - interval + min(RETRY_S, interval)

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    catalogue = SnapshotCatalogue(args.state_dir / "snapshots")
    state = StateFile(args.state_dir)
    latest = catalogue.latest()
    last = latest.finished_at.timestamp() if latest else time.time()
    while not stop.is_set():
        wait = max(0.0, last + args.interval - time.time())
        if stop.wait(wait):
            break
        before, in_effect = faults(drillbook_dir)
        if in_effect:
            _log(f"snapshot held back: drill fault(s) in effect: {', '.join(in_effect)}")
            last = retry_soon()
            continue
        last = time.time()
        try:
            snap = catalogue.take(_primary(state), kind="scheduled")
            seen, in_effect = faults(drillbook_dir)
            if injected := in_effect or sorted(seen - before):
                catalogue.delete(snap.id)
                _log(f"snapshot {snap.id} discarded: drill fault(s) injected while it was taken: "
                     f"{', '.join(injected)}")
                last = retry_soon()
                continue
            pruned = catalogue.prune(args.keep)
            _log(f"snapshot {snap.id} lsn {snap.lsn} {snap.size_bytes} bytes verified={snap.verified}"
                 + (f"; pruned {', '.join(pruned)}" if pruned else ""))
        except DrillbookError as exc:
            # The primary may be down on purpose (a drill): try again next interval.
            _log(f"scheduled snapshot failed: {exc}")
    return 0


def faults(drillbook_dir: Path) -> tuple[set[str], list[str]]:
    """From the undo logs: every fault entry, reverted or not; and the faults not known to
    be reverted (a dead runner's included)."""
    logs = all_logs(drillbook_dir)
    seen = {f"{entry.name} (run {log.run_id} #{entry.seq})" for log in logs for entry in log.entries}
    in_effect = [f"{entry.name} (run {log.run_id})" for log in logs for entry in log.outstanding]
    return seen, in_effect


def _primary(state: StateFile) -> PostgresCluster:
    record = state.read()
    if record is None:
        raise DrillbookError(f"no environment state in {state.directory}")
    for cluster in record.clusters.values():
        if cluster.role == "primary":
            return PostgresCluster(Path(cluster.datadir), port=cluster.port, name=cluster.name)
    raise DrillbookError("the environment has no primary")


def _log(message: str) -> None:
    print(f"{datetime.now(UTC).isoformat(timespec='seconds')} {message}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
