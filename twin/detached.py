"""Fire-and-forget processes: started in the background, nobody's child, never waited for.

A shell starts the command in the background and exits at once, so the command outlives
this process, is reaped by init, and leaves no zombie behind in a long-lived one (a
discarded ``Popen`` stays one until the next subprocess call). For work that nobody waits
for: deleting trees set aside (``trash.py``), making a template's spare copies
(``pg_template.py``). Components that are recorded, labelled and stopped go through
``processes.spawn``.
"""

from __future__ import annotations

import subprocess


def start_detached(argv: list[str], *, lowest_priority: bool = False) -> bool:
    """Start ``argv`` in the background (at CPU niceness 19 with ``lowest_priority``); False
    if it could not be started."""
    command = 'nice -n 19 "$@" &' if lowest_priority else '"$@" &'
    try:
        subprocess.run(
            ["sh", "-c", command, "sh", *argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return True
