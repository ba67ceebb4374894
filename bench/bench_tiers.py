"""Wall time of each drill tier on the local environment (issue #5): figures printed,
nothing asserted. Goals: the monthly tier under 60 s, every tier together under 5 min.

Each tier runs as `drillbook run --schedule TIER` does; the environment is started once
(its cold start is printed apart) and every tier runs against it, then it is stopped.
``--cold`` instead runs each tier exactly as a user would, environment start and stop
included.

    python bench/bench_tiers.py [--tiers monthly,quarterly,annual] [--cold] [--per-drill]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(cmd: list[str]) -> tuple[float, int]:
    start = time.monotonic()
    done = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - start, done.returncode


def records(results: Path) -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in sorted(results.glob("*.json"))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tiers", default="monthly,quarterly,annual")
    parser.add_argument("--cold", action="store_true", help="start and stop the environment per tier")
    parser.add_argument("--per-drill", action="store_true", help="print each drill's wall time")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="drillbook-bench-tiers-", dir="/tmp"))
    base.chmod(0o755)
    state = base / ".drillbook"
    drillbook = [sys.executable, "-m", "drillbook"]
    rows = []
    try:
        if not args.cold:
            up_s, code = run([*drillbook, "env", "up", "--state-dir", str(state), "--quiet"])
            print(f"environment cold start (drillbook env up): {up_s:6.1f} s (exit {code})")
        for tier in args.tiers.split(","):
            results = base / f"results-{tier}"
            wall, code = run([*drillbook, "run", "--schedule", tier, "--drill-results", str(results), "--",
                              "--drill-state-dir", str(state), "-q"])
            recs = records(results)
            statuses = sorted({str(r["status"]) for r in recs})
            drills_s = sum(float(r["measured"]["rto_s"] or 0) for r in recs)  # type: ignore[index]
            rows.append((tier, len(recs), wall, code, ",".join(statuses), drills_s))
            if args.per_drill:
                for r in recs:
                    took = datetime.fromisoformat(str(r["finished_at"])) - datetime.fromisoformat(
                        str(r["started_at"])
                    )
                    drill = r["drill"]
                    rto = r["measured"]["rto_s"]  # type: ignore[index]
                    print(f"  {tier}: {took.total_seconds():5.1f} s  rto_s {rto or 0:5.2f}  "
                          f"{drill['scenario']} / {drill['option']}")  # type: ignore[index]
            for r in recs:
                if r["status"] != "PASS":
                    drill = r["drill"]
                    print(f"  {tier}: {r['status']} {drill['nodeid']}: "  # type: ignore[index]
                          f"{'; '.join(r['reasons'])}"[:600])  # type: ignore[arg-type]
        if not args.cold:
            down_s, _ = run([*drillbook, "env", "down", "--state-dir", str(state)])
            print(f"environment stop (drillbook env down):      {down_s:6.1f} s")
    finally:
        run([*drillbook, "env", "down", "--state-dir", str(state)])
        shutil.rmtree(base, ignore_errors=True)
    mode = "environment start/stop included" if args.cold else "environment already up"
    print(f"\ntier wall times ({mode}):")
    print(f"  {'tier':10} {'drills':>6} {'wall s':>8} {'exit':>5}  {'statuses':16} {'sum of rto_s':>12}")
    for tier, count, wall, code, statuses, rto_sum in rows:
        print(f"  {tier:10} {count:>6} {wall:>8.1f} {code:>5}  {statuses:16} {rto_sum:>12.1f}")
    total = sum(r[2] for r in rows)
    print(f"  {'all':10} {sum(r[1] for r in rows):>6} {total:>8.1f}")


if __name__ == "__main__":
    main()
