"""Send a page: one JSON POST to the webhook, with a timeout and retries.

A 2xx answer is a delivery. 5xx, 408, 429, timeouts and connection errors are
retried with exponential back-off; any other 4xx is not (the request itself is
wrong). Error texts are redacted: neither the token nor a secret URL ever
reaches the output or the journal.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from drillbook.harness.paging.policy import Webhook
from drillbook.harness.redact import redact_text

RETRIABLE = {408, 425, 429}


@dataclass(frozen=True)
class Delivery:
    delivered: bool
    attempts: int
    status: int | None
    error: str
    duration_s: float


def send(webhook: Webhook, payload: dict[str, Any]) -> Delivery:
    url = webhook.resolve_url()
    headers = {"Content-Type": "application/json", "User-Agent": "drillbook-paging/1"}
    token = webhook.token()
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps(payload, sort_keys=True).encode()
    began = time.monotonic()
    status: int | None = None
    error = ""
    attempts = 0
    for attempt in range(webhook.retries + 1):
        attempts = attempt + 1
        if attempt:
            time.sleep(webhook.backoff_s * 2 ** (attempt - 1))
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=webhook.timeout_s) as response:
                status = int(response.status)
                response.read(65536)
            return Delivery(True, attempts, status, "", time.monotonic() - began)
        except urllib.error.HTTPError as exc:
            status = exc.code
            error = f"HTTP {exc.code} {exc.reason}"
            exc.close()
            if 400 <= exc.code < 500 and exc.code not in RETRIABLE:
                break
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            status = None
            reason = getattr(exc, "reason", exc)
            error = f"{type(exc).__name__}: {reason}"
    return Delivery(
        False,
        attempts,
        status,
        redact_text(f"webhook {webhook.describe()}: {error}"),
        time.monotonic() - began,
    )
