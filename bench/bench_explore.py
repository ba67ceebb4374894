"""``drillbook explore`` benchmarks (issue #18): figures printed, nothing asserted.

1. Examples per minute on the twin: ``drillbook explore --budget B`` on the healthy
   release (1.0.0); every example is a complete drill (steady state, ledger through the
   service, faults, recovery, reverts, journal record).
2. Time to find and to shrink the planted weakness of release 1.2.0, over several seeds:
   ``drillbook explore --budget B --seed N`` with ``[environments.local] release = "1.2.0"``;
   time to the first failure, time shrinking and confirming, the minimal schedule (its
   faults and their number), and whether its drill file fails under plain pytest; then each
   drill file under plain pytest against the healthy release, where it must pass.

Each release runs in a project directory of its own (a ``drillbook.toml`` and a state
directory), brought up with ``drillbook env up`` and down at the end.

    python bench/bench_explore.py [--budget 5m] [--seeds 1,2,3,4,5] [--healthy-budget 2m]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOML = 'suite = "drills"\n\n[environments.local]\nrelease = "{release}"\nmax_surge = 3\n'


def drillbook(project: Path, *args: str, timeout: float = 3600) -> tuple[int, str, float]:
    start = time.monotonic()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "drillbook", *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=timeout)
    return done.returncode, done.stdout + done.stderr, time.monotonic() - start


def project(base: Path, release: str) -> Path:
    path = base / release
    path.mkdir(parents=True, exist_ok=True)
    (path / "drillbook.toml").write_text(TOML.format(release=release))
    code, out, took = drillbook(path, "env", "up", timeout=600)
    if code:
        raise SystemExit(f"env up ({release}) failed:\n{out[-2000:]}")
    print(f"release {release}: env up in {took:.1f}s", flush=True)
    return path


def examples_per_minute(base: Path, budget: str) -> None:
    path = project(base, "1.0.0")
    try:
        code, out, took = drillbook(path, "explore", "--budget", budget, "--seed", "0")
        tried = re.search(r"(\d+) schedules tried", out)
        count = int(tried.group(1)) if tried else 0
        print(f"healthy 1.0.0: {count} examples in {took:.0f}s = {count / took * 60:.1f} examples/min; "
              f"exit {code} ({'nothing found' if code == 0 else 'FOUND A FAILURE'})", flush=True)
    finally:
        drillbook(path, "env", "down", timeout=300)


def find_and_shrink(base: Path, budget: str, seeds: list[int]) -> list[Path]:
    """Each seed's search on the weak release; the drill files written (one per seed that found)."""
    path = project(base, "1.2.0")
    drills: list[Path] = []
    rows = []
    schedules: list[tuple[int, str]] = []
    try:
        for seed in seeds:
            found_dir = path / f"found-{seed}"
            _, out, took = drillbook(path, "explore", "--budget", budget, "--seed", str(seed),
                                        "--found-dir", str(found_dir))
            first = re.search(r"failure found after (\d+) example\(s\), (\d+)s", out)
            tried = re.search(r"(\d+) schedules tried", out)
            reused = re.search(r"\((\d+) more draw\(s\) of a schedule already played\)", out)
            spent = _spent(out, path)
            size = re.search(r"FOUND .*?: (.*) -> (\S+)$", out, re.M)
            faults = size.group(1).count(" at +") if size else 0
            pytest_code = None
            if size:
                drill = Path(size.group(2))
                drills.append(drill if drill.is_absolute() else path / drill)
                done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                       str(drill)], cwd=path, env={**os.environ, "PYTHONPATH": str(ROOT)},
                                      capture_output=True, text=True, timeout=600)
                pytest_code = done.returncode
            rows.append((seed, first.group(2) if first else "-", first.group(1) if first else "-",
                         tried.group(1) if tried else "-", spent, f"{took:.0f}", faults, pytest_code))
            print(f"seed {seed}: found after {rows[-1][1]}s ({rows[-1][2]} examples), {rows[-1][3]} examples "
                  f"in all (and {reused.group(1) if reused else 0} draws answered without playing), "
                  f"{spent}, total {took:.0f}s, minimal schedule {faults} fault(s), drill file under "
                  f"pytest exit {pytest_code}", flush=True)
            print(f"seed {seed}: minimal schedule: {size.group(1) if size else '(none found)'}", flush=True)
            schedules.append((seed, size.group(1) if size else "(none found)"))
    finally:
        drillbook(path, "env", "down", timeout=300)
    print("seed | found after (s) | examples to find | examples in all | search/shrink/confirm | "
          "total (s) | faults | pytest exit")
    for row in rows:
        print(" | ".join(str(c) for c in row))
    print("minimal schedule per seed:")
    for seed, text in schedules:
        print(f"  seed {seed}: {text}")
    return drills


def on_the_healthy_release(base: Path, drills: list[Path]) -> None:
    """Each written drill file under plain pytest against the healthy release (1.0.0): it must
    pass there, as it fails on 1.2.0 (it reproduces the weakness, not a flaw of the platform)."""
    if not drills:
        return
    path = project(base, "1.0.0")
    try:
        for drill in drills:
            copy = path / "found" / drill.name  # in the healthy project: its drillbook.toml, its twin
            copy.parent.mkdir(exist_ok=True)
            shutil.copy(drill, copy)
            done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(copy)],
                                  cwd=path, env={**os.environ, "PYTHONPATH": str(ROOT)},
                                  capture_output=True, text=True, timeout=600)
            print(f"{drill.name} on 1.0.0: pytest exit {done.returncode} "
                  f"({'passes' if done.returncode == 0 else 'FAILS'})", flush=True)
    finally:
        drillbook(path, "env", "down", timeout=300)


def _spent(out: str, project: Path) -> str:
    """The search, shrink and confirm times of the run's report (its path is in the last line)."""
    report = re.search(r"report (\S+\.md)", out)
    path = project / report.group(1) if report else None
    text = path.read_text() if path is not None and path.is_file() else ""
    times = re.search(r"\(search ([^,]+), shrink ([^,]+), confirm ([^)]+)\)", text)
    return f"search {times.group(1)} / shrink {times.group(2)} / confirm {times.group(3)}" if times else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", default="5m")
    parser.add_argument("--healthy-budget", default="2m")
    parser.add_argument("--seeds", default="1,2,3,4,5")
    parser.add_argument("--skip-healthy", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-explore-") as tmp:
        if not args.skip_healthy:
            examples_per_minute(Path(tmp), args.healthy_budget)
        drills = find_and_shrink(Path(tmp), args.budget, [int(s) for s in args.seeds.split(",")])
        on_the_healthy_release(Path(tmp), drills)


if __name__ == "__main__":
    main()
