"""Deleting a directory tree without waiting for the disk.

A restored cluster is 40 MB or more of files, and deleting them took from 0.3 s to
over 2 s here (the filesystem is mounted with ``discard``, which trims freed blocks):
time a drill's revert spent waiting for nothing. :func:`discard_tree` renames the
tree aside at once, so its path is free and nothing can use the old files, and
leaves the deleting to a detached ``rm -rf`` that finishes even when this process
is killed. Trees left behind by an ``rm`` that never ran are deleted by the next
discard in the same directory (or when the environment is removed).
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from drillbook.twin.detached import start_detached

MARK = ".discarded-"


def discard_tree(path: Path) -> None:
    """Make ``path`` disappear now and delete its files in the background."""
    if not path.exists() and not path.is_symlink():
        sweep(path.parent)
        return
    aside = path.with_name(f".{path.name}{MARK}{uuid.uuid4().hex[:12]}")
    try:
        path.rename(aside)
    except OSError:
        shutil.rmtree(path, ignore_errors=True)  # e.g. a mount point: delete in place
        return
    sweep(path.parent)


def sweep(directory: Path) -> None:
    """Delete, in the background, every tree :func:`discard_tree` set aside in ``directory``."""
    leftovers = [str(p) for p in pending(directory)]
    if not leftovers:
        return
    if not start_detached(["rm", "-rf", "--", *leftovers]):
        for leftover in leftovers:
            shutil.rmtree(leftover, ignore_errors=True)


def pending(directory: Path) -> list[Path]:
    """Trees set aside in ``directory`` and not deleted yet."""
    try:
        return [p for p in directory.iterdir() if p.name.startswith(".") and MARK in p.name]
    except OSError:
        return []
