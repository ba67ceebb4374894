"""Wall time of each drill tier on the local environment (issue #5): figures printed,
nothing asserted. Goals: the monthly tier under 60 s, every tier together under 5 min.

Each tier runs as `drillbook run --schedule TIER` does; the environment is started once
(its cold start is printed apart) and every tier runs against it, then it is stopped.
``--cold`` instead runs each tier exactly as a user would, environment start and stop
included.

``--baseline REF`` also runs the same tiers with the code at git revision REF (checked out
into a temporary directory and put first on ``PYTHONPATH``, so its ``drillbook`` package,
plugin and drills are the ones that run), after this code's, on an environment of its own,
and prints each tier's wall time beside this code's as a ratio (this / REF).

    python bench/bench_tiers.py [--tiers monthly,quarterly,annual] [--cold] [--per-drill]
                                [--baseline REF]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


Row = tuple[str, int, float, int, str, float]


def run(cmd: list[str], code: Path = ROOT) -> tuple[float, int]:
    """Run ``cmd`` with the checkout ``code`` as its working directory and first on the path."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(code), os.environ.get("PYTHONPATH", "")])}
    start = time.monotonic()
    done = subprocess.run(cmd, cwd=code, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - start, done.returncode


def checkout(ref: str, into: Path) -> Path:
    """The repository's files at ``ref`` (``git archive``), in ``into``."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", ref],
                             capture_output=True, timeout=120)
    if archive.returncode != 0:
        raise SystemExit(f"--baseline {ref}: git archive failed: {archive.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True, timeout=120)
    shadow_metadata(into)
    return into


def shadow_metadata(code: Path) -> None:
    """A ``dist-info`` of the checkout's own, first on the path with it: ``importlib.metadata``
    then reads REF's entry points (its faults, its pytest plugins) instead of the installed
    drillbook's, which name modules REF may not have (its registry then fails every drill)."""
    project = tomllib.loads((code / "pyproject.toml").read_text())["project"]
    info = code / f"drillbook-{project['version']}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: drillbook\nVersion: {project['version']}\n")
    lines: list[str] = []
    for group, entries in {"console_scripts": project.get("scripts", {}),
                           **project.get("entry-points", {})}.items():
        lines += [f"[{group}]", *(f"{name} = {target}" for name, target in entries.items()), ""]
    (info / "entry_points.txt").write_text("\n".join(lines))


def records(results: Path) -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in sorted(results.glob("*.json"))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tiers", default="monthly,quarterly,annual")
    parser.add_argument("--cold", action="store_true", help="start and stop the environment per tier")
    parser.add_argument("--per-drill", action="store_true", help="print each drill's wall time")
    parser.add_argument("--baseline", metavar="REF",
                        help="also run the tiers with the code at this git revision")
    args = parser.parse_args()
    tiers = args.tiers.split(",")
    base = Path(tempfile.mkdtemp(prefix="drillbook-bench-tiers-", dir="/tmp"))
    base.chmod(0o755)
    try:
        rows = run_tiers(ROOT, "this code", tiers, base / "this", cold=args.cold, per_drill=args.per_drill)
        print_rows(rows, cold=args.cold)
        if args.baseline:
            code = checkout(args.baseline, base / "baseline-code")
            old = run_tiers(code, args.baseline, tiers, base / "baseline", cold=args.cold,
                            per_drill=args.per_drill)
            print(f"\n{args.baseline}:")
            print_rows(old, cold=args.cold)
            print(f"\nthis code / {args.baseline} (wall time ratio):")
            for new, was in zip(rows, old, strict=True):
                print(f"  {new[0]:10} {new[2]:8.1f} s / {was[2]:8.1f} s = {new[2] / was[2]:5.2f}")
            print(f"  {'all':10} {sum(r[2] for r in rows):8.1f} s / {sum(r[2] for r in old):8.1f} s = "
                  f"{sum(r[2] for r in rows) / sum(r[2] for r in old):5.2f}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def run_tiers(code: Path, label: str, tiers: list[str], base: Path, *, cold: bool,
              per_drill: bool) -> list[Row]:
    """Each tier as ``drillbook run --schedule TIER`` runs it, with the checkout ``code``."""
    base.mkdir(parents=True)
    base.chmod(0o755)
    state = base / ".drillbook"
    drillbook = [sys.executable, "-m", "drillbook"]
    rows: list[Row] = []
    print(f"{label}:")
    try:
        if not cold:
            up_s, status = run([*drillbook, "env", "up", "--state-dir", str(state), "--quiet"], code)
            print(f"  environment cold start (drillbook env up): {up_s:6.1f} s (exit {status})")
        for tier in tiers:
            results = base / f"results-{tier}"
            wall, status = run([*drillbook, "run", "--schedule", tier, "--drill-results", str(results), "--",
                                "--drill-state-dir", str(state), "-q"], code)
            recs = records(results)
            statuses = sorted({str(r["status"]) for r in recs})
            drills_s = sum(float(r["measured"]["rto_s"] or 0) for r in recs)  # type: ignore[index]
            rows.append((tier, len(recs), wall, status, ",".join(statuses), drills_s))
            if per_drill:
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
        if not cold:
            down_s, _ = run([*drillbook, "env", "down", "--state-dir", str(state)], code)
            print(f"  environment stop (drillbook env down):      {down_s:6.1f} s")
    finally:
        run([*drillbook, "env", "down", "--state-dir", str(state)], code)
    return rows


def print_rows(rows: list[Row], *, cold: bool) -> None:
    mode = "environment start/stop included" if cold else "environment already up"
    print(f"\ntier wall times ({mode}):")
    print(f"  {'tier':10} {'drills':>6} {'wall s':>8} {'exit':>5}  {'statuses':16} {'sum of rto_s':>12}")
    for tier, count, wall, code, statuses, rto_sum in rows:
        print(f"  {tier:10} {count:>6} {wall:>8.1f} {code:>5}  {statuses:16} {rto_sum:>12.1f}")
    total = sum(r[2] for r in rows)
    print(f"  {'all':10} {sum(r[1] for r in rows):>6} {total:>8.1f}")

if __name__ == "__main__":
    main()
