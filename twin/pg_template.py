"""initdb's output, kept once per machine and copied into every new data directory.

``initdb`` bootstraps the catalogues in single-user servers: 2-5 s of a cold start on two
busy cores, for a result that is the same every time for the same PostgreSQL binaries and
options. The first ``PostgresCluster.init`` with a given key runs initdb and keeps a copy of
its pristine output here; later ones copy that (``cp -a``, about 0.1 s for 30 MB), then write
their own pg_hba.conf and settings as after initdb. A copy is a cluster of its own in every
way that matters here (its own files, port, WAL and archive); only the system identifier is
shared, as between a primary and its base backups.

The key is everything initdb's result depends on: the binaries (their path and version), the
options, the server user's uid and the time zone initdb would pick. A template is put in
place by a rename, so a reader sees a whole one or none (two first uses may both run initdb;
one copy wins). ``DRILLBOOK_PG_TEMPLATES`` names another directory, or ``off`` to always run
initdb.

A :class:`Seed` goes one step further for a server that always begins with the same objects
(the primary's application role, database and schema): the first init with that seed starts
its copy once, applies the seed, stops it cleanly and keeps the result as a template of its
own, keyed by the initdb key and the seed's. Later inits copy that: ``CREATE DATABASE`` and
the checkpoint that would write its few hundred files are not on every cold start's path.

A copy is a cluster's new data directory: 1,300 files, and creating a file is the cost that
grows. On an ext4 without a journal (these machines' root filesystem) each new inode is
looked for past every recently freed one in its block group, so where environments are made
and removed all day one ``cp -a`` of a template takes 0.5-1.5 s of system time instead of
0.1 s. So each template keeps :data:`SPARES` ready copies in ``<name>/spares``:
:func:`materialize` takes one with a rename (no file made) and asks for it to be replaced by
a background process at the lowest priority (:func:`replenish`), after the start that needed
it. With no spare left (or another filesystem) it copies as before.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from drillbook.twin.detached import start_detached
from drillbook.twin.spread import spread

if TYPE_CHECKING:
    from drillbook.twin.postgres import PostgresCluster

VARIABLE = "DRILLBOOK_PG_TEMPLATES"
#: Written into a template's directory once its copy is complete (a partial one is never used).
COMPLETE = "complete"
#: Ready copies kept of each template (a cold start takes two: the primary and its DR replica);
#: ``DRILLBOOK_PG_SPARES`` sets another number (0: none kept, every cluster is copied).
SPARES_VARIABLE = "DRILLBOOK_PG_SPARES"
SPARES = 2
SPARES_DIR = "spares"


@dataclass(frozen=True)
class Seed:
    """What a template holds beyond initdb's output: ``apply`` runs once against a started copy
    (as the superuser). ``key`` must change whenever what ``apply`` creates does (a hash of its
    SQL): a template is reused only for the same key. Applying it again must be harmless,
    since a server whose cache is off gets it after its first start instead."""

    key: str
    apply: Callable[[PostgresCluster], None]


def templates_dir() -> Path | None:
    """Where templates are kept; None when the cache is turned off."""
    chosen = os.environ.get(VARIABLE, "")
    if chosen.lower() in ("off", "0", "no"):
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home directory to be found: no cache
            return None
    return Path(base) / "drillbook" / "pg-templates"


def key(bindir: Path, version: str, initdb_args: list[str], uid: int) -> str:
    parts = [str(bindir), version, *initdb_args, f"uid={uid}", f"TZ={os.environ.get('TZ', '')}"]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]


def seeded(name: str, seed: Seed) -> str:
    """The key of the template ``seed`` makes from the initdb template ``name``."""
    return f"{name}-{seed.key}"


def template(name: str) -> Path | None:
    """The kept data directory for ``name`` (a :func:`key`), if a complete one exists."""
    root = templates_dir()
    if root is None:
        return None
    data = root / name / "data"
    return data if (root / name / COMPLETE).is_file() and (data / "PG_VERSION").is_file() else None


def copy_into(source: Path, datadir: Path) -> bool:
    """Copy a template to ``datadir`` (which must not exist); False (nothing left) if it failed."""
    done = subprocess.run(["cp", "-a", str(source), str(datadir)], capture_output=True, timeout=120)
    if done.returncode != 0:
        shutil.rmtree(datadir, ignore_errors=True)
        return False
    return True


def keep(datadir: Path, name: str) -> None:
    """Keep a copy of ``datadir`` (initdb's pristine output) as the template ``name``.

    Best effort: a cache that cannot be written (read-only home, full disk) only means the
    next init runs initdb again.
    """
    root = templates_dir()
    if root is None:
        return
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        spread(root)
        staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=root))
        try:
            if not copy_into(datadir, staging / "data"):
                return
            (staging / COMPLETE).write_text("")
            with contextlib.suppress(OSError):  # another process kept one first: theirs stays
                staging.rename(root / name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


# -- spare copies ----------------------------------------------------------------------


def spares_dir(source: Path) -> Path:
    """Where the ready copies of the template ``source`` (a ``<name>/data``) are kept."""
    return source.parent / SPARES_DIR


def ready_spares(source: Path) -> list[Path]:
    """The complete spare copies of ``source``: ``spares/<id>/data``, oldest first."""
    home = spares_dir(source)
    try:
        found = [p / "data" for p in home.iterdir() if not p.name.startswith(".") and (p / "data").is_dir()]
    except OSError:
        return []
    return sorted(found, key=lambda p: p.parent.name)


def take_spare(source: Path, datadir: Path) -> bool:
    """Move a spare copy of ``source`` to ``datadir`` (which must not exist) with a rename.

    False when none is left, or it lies on another filesystem: the caller copies. Two callers
    never get the same spare: the rename is atomic, and the loser tries the next."""
    for spare in ready_spares(source):
        try:
            spare.rename(datadir)
        except FileNotFoundError:  # taken by another process first
            continue
        except OSError:  # another filesystem (EXDEV) or no permission: copy instead
            return False
        with contextlib.suppress(OSError):
            spare.parent.rmdir()
        return True
    return False


def materialize(source: Path, datadir: Path) -> bool:
    """``datadir`` as a copy of the template ``source``: a spare taken if one is ready, else a
    copy; either way a background process then makes the spares whole again. False (nothing
    left) if the copy failed."""
    want = spares_wanted()
    made = (want > 0 and take_spare(source, datadir)) or copy_into(source, datadir)
    replenish(source, want=want)
    return made


def spares_wanted() -> int:
    """:data:`SPARES`, or what ``DRILLBOOK_PG_SPARES`` says (a bad value: the default)."""
    try:
        return max(0, int(os.environ.get(SPARES_VARIABLE, SPARES)))
    except ValueError:
        return SPARES


def replenish(source: Path, *, want: int = SPARES) -> None:
    """Start a detached process, at the lowest CPU priority, that copies ``source`` until it
    has ``want`` spares (:func:`refill`); nothing if it has them already."""
    if want <= 0 or len(ready_spares(source)) >= want:
        return
    argv = [sys.executable, "-m", "drillbook.twin.pg_template", "refill", str(source), "--want", str(want)]
    # Lowest CPU priority: the copy's cost is system time (making inodes), kept out of the
    # way of the start that asked for it.
    start_detached(argv, lowest_priority=True)


def refill(source: Path, *, want: int = SPARES) -> int:
    """Copy ``source`` into ``spares/`` until ``want`` are ready; the number made. One refill
    per template at a time (a lock): a second returns at once. A copy appears whole or not at
    all (made aside, then renamed); what a killed refill left aside is removed by the next."""
    home = spares_dir(source)
    if not (source.parent / COMPLETE).is_file():  # gone (a test's cache, deleted): nothing to do
        return 0
    try:
        home.mkdir(exist_ok=True)  # never its parents: a deleted template stays deleted
        spread(home)
        with open(home / ".lock", "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return 0
            return _fill(source, home, want)
    except OSError:
        return 0


def _fill(source: Path, home: Path, want: int) -> int:
    made = 0
    for leftover in home.glob(".making-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    while len(ready_spares(source)) < want and (source.parent / COMPLETE).is_file():
        aside = home / f".making-{uuid.uuid4().hex[:12]}"
        aside.mkdir()
        if not copy_into(source, aside / "data"):
            shutil.rmtree(aside, ignore_errors=True)
            break
        # Named by time, so that the oldest is taken first.
        aside.rename(home / f"{time.time_ns():020d}-{uuid.uuid4().hex[:6]}")
        made += 1
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m drillbook.twin.pg_template",
                                     description="Keep ready copies of a PostgreSQL template.")
    commands = parser.add_subparsers(dest="command", required=True)
    refilling = commands.add_parser("refill", help="copy the template until it has WANT spares")
    refilling.add_argument("source", type=Path, help="the template's data directory")
    refilling.add_argument("--want", type=int, default=SPARES)
    args = parser.parse_args(argv)
    print(f"made {refill(args.source, want=args.want)} spare copies of {args.source}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
