"""Directories whose subdirectories the file system places apart: ext4's TOPDIR flag.

ext4 puts a new directory's files in the block group of the directory, and a new directory
near its parent's. On an ext4 without a journal (these machines' root file system) a new
inode is looked for past every inode of its group freed a short while ago, one block lookup
each: where PostgreSQL data directories (1,300 files each) are made and removed all day, in
the same few groups, making one took 0.5-1.5 s of system time instead of 0.05 s. With the
TOPDIR flag (``chattr +T``) on the directory that holds them, ext4 spreads its subdirectories
over groups with free inodes as it does top-level directories: each new data directory,
snapshot or spare copy starts in a group of its own. Harmless elsewhere; best effort (a file
system without the flag, or another owner, leaves the directory as it is).
"""

from __future__ import annotations

import array
import fcntl
import os
from pathlib import Path

# linux/fs.h (the _IOR/_IOW('f', 1/2, long) encoding of 64-bit Linux).
FS_IOC_GETFLAGS = 0x80086601
FS_IOC_SETFLAGS = 0x40086602
FS_TOPDIR_FL = 0x00020000


def spread(directory: Path) -> Path:
    """Create ``directory`` if needed and set its TOPDIR flag; the directory."""
    directory.mkdir(parents=True, exist_ok=True)
    flags = _flags(directory)
    if flags is not None and not flags & FS_TOPDIR_FL:
        _flags(directory, flags | FS_TOPDIR_FL)
    return directory


def is_spread(directory: Path) -> bool:
    """Whether ``directory`` has the TOPDIR flag (False where flags cannot be read)."""
    return bool((_flags(directory) or 0) & FS_TOPDIR_FL)


def _flags(directory: Path, new: int | None = None) -> int | None:
    """The directory's inode flags (after setting them to ``new``, if given); None where the
    file system has none, or the directory cannot be opened or changed."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None
    try:
        flags = array.array("i", [0 if new is None else new])
        fcntl.ioctl(fd, FS_IOC_GETFLAGS if new is None else FS_IOC_SETFLAGS, flags, True)
        return flags[0]
    except OSError:
        return None
    finally:
        os.close(fd)


def supported(directory: Path) -> bool:
    """Whether ``directory``'s file system keeps the flag (a probe made and removed in it)."""
    probe = spread(directory / f".spread-probe-{os.getpid()}")
    try:
        return is_spread(probe)
    finally:
        probe.rmdir()
