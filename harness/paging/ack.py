"""Acknowledge a page from the command line: POST to the engagement's ack server."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

from drillbook.harness.errors import DrillbookError
from drillbook.harness.paging.ackfile import read

TIMEOUT = 5.0


class AckFailed(DrillbookError):
    pass


def acknowledge(state_dir: Path, run_id: str, by: str, *, timeout: float = TIMEOUT) -> bool:
    """True when this was the first acknowledgement, False when someone acknowledged before."""
    target = read(state_dir, run_id)
    body = json.dumps({"by": by, "source": "cli"}).encode()
    request = urllib.request.Request(
        f"{target.url}/ack/{run_id}",
        data=body,
        headers={"Content-Type": "application/json", "X-Drillbook-Ack-Key": target.key},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read(65536) or b"{}")
    except urllib.error.HTTPError as exc:
        raise AckFailed(
            f"the engagement of run {run_id} refused the acknowledgement: HTTP {exc.code}"
        ) from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise AckFailed(
            f"the engagement of run {run_id} did not answer ({exc}); it may have ended: "
            "check the run's output"
        ) from exc
    return bool(answer.get("first", False))
