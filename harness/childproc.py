"""Run a drill session (pytest) as a child and wait for it to end, whatever signals come.

``subprocess.call`` kills its child with SIGKILL a quarter of a second after a Ctrl-C:
a drill session killed so cannot revert its faults. Here a Ctrl-C (which the terminal
delivers to the child too) only makes this process keep waiting, and a SIGTERM sent to
this process alone is passed on, so the child reverts its faults, journals the run and
exits on its own; its exit code is returned.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from types import FrameType


def run_child(
    argv: Sequence[str], *, env: Mapping[str, str] | None = None, pass_fds: Sequence[int] = ()
) -> int:
    proc = subprocess.Popen(list(argv), env=None if env is None else dict(env), pass_fds=tuple(pass_fds))

    def forward(signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signum)

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, forward) if main else None
    try:
        while True:
            try:
                return proc.wait()
            except KeyboardInterrupt:
                continue  # the child got the Ctrl-C as well: it is reverting; wait for it
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)
