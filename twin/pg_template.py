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
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from drillbook.twin.postgres import PostgresCluster

VARIABLE = "DRILLBOOK_PG_TEMPLATES"
#: Written into a template's directory once its copy is complete (a partial one is never used).
COMPLETE = "complete"


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
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=root))
        try:
            if not copy_into(datadir, staging / "data"):
                return
            (staging / COMPLETE).write_text("")
            with contextlib.suppress(OSError):  # another process kept one first: theirs stays
                staging.rename(root / name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
