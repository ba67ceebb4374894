"""Readiness and liveness probes: HTTP GETs on a pod's port, with a timeout.

The liveness probe is sent only when readiness fails: a pod that answers its
readiness endpoint is evidently alive.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass


@dataclass(frozen=True)
class ProbeOutcome:
    pid: int
    ready: bool
    alive: bool
    detail: str


def probe(base_url: str, pid: int, *, readiness: str, liveness: str, timeout: float) -> ProbeOutcome:
    ready, detail = _get(base_url + readiness, timeout)
    if ready:
        return ProbeOutcome(pid, True, True, "")
    alive, _ = _get(base_url + liveness, timeout)
    return ProbeOutcome(pid, False, alive, detail)


def _get(url: str, timeout: float) -> tuple[bool, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # loopback only
            return response.status == 200, f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return False, f"HTTP {exc.code}{_failed_checks(exc.read())}"
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return False, f"{type(reason).__name__}: {reason}"[:300]


def _failed_checks(body: bytes) -> str:
    """The failing dependencies named in a /api/health answer, for `describe pod`."""
    try:
        checks = json.loads(body).get("checks", {})
    except (ValueError, AttributeError):
        return ""
    failing = [f"{name}: {c.get('error', 'failed')}" for name, c in checks.items()
               if isinstance(c, dict) and not c.get("ok")]
    return f" ({'; '.join(failing)})"[:300] if failing else ""
