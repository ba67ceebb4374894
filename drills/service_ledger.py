"""The acknowledged-write ledger written through the service's own path.

Each write is ``POST /api/projects`` through the front door, so it is acknowledged
only when the platform itself committed it (with its audit row). What survived is
read from the database the application uses *now* (after a switchover, the
restored or promoted one).
"""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Callable

from drillbook.harness import pg
from drillbook.harness.ledger.store import WriteFailed, WriteIndeterminate

# The service's error codes that mean "certainly not written": it refused before writing.
REFUSED = {
    "read_only",
    "unauthorized",
    "cache_unavailable",
    "account_suspended",
    "bad_request",
    "invalid_credentials",
    "not_found",
}


class ServiceLedgerStore:
    """Writes ledger rows as projects named ``ledger:<run>:<seq>`` through the API."""

    def __init__(self, base_url: str, app_dsn: Callable[[], str], *, email: str, password: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.app_dsn = app_dsn
        self.email = email
        self._password = password
        self._token: str | None = None
        self._lock = threading.Lock()

    def prepare(self, run_id: str) -> None:
        self._login(5.0)

    def _login(self, timeout: float) -> str:
        body = json.dumps({"email": self.email, "password": self._password}).encode()
        request = urllib.request.Request(
            f"{self.base_url}/api/auth/login",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            token = str(json.loads(response.read())["token"])
        with self._lock:
            self._token = token
        return token

    def write(self, run_id: str, seq: int, timeout: float) -> None:
        token = self._token
        if token is None:
            try:
                token = self._login(timeout)
            except (OSError, urllib.error.HTTPError, ValueError, KeyError) as exc:
                raise WriteFailed(f"cannot log in: {exc}") from exc
        body = json.dumps({"name": f"ledger:{run_id}:{seq}", "description": "drillbook ledger"}).encode()
        request = urllib.request.Request(
            f"{self.base_url}/api/projects",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                if response.status == 201:
                    return
                raise WriteIndeterminate(f"unexpected HTTP {response.status}")
        except urllib.error.HTTPError as exc:
            code = _error_code(exc)
            if exc.code == 401:
                self._token = None  # sessions were revoked: log in again next time
            if code in REFUSED or (400 <= exc.code < 500 and exc.code != 408):
                raise WriteFailed(f"HTTP {exc.code} {code}") from exc
            raise WriteIndeterminate(f"HTTP {exc.code} {code}") from exc
        except ConnectionRefusedError as exc:
            raise WriteFailed("connection refused") from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, ConnectionRefusedError):
                raise WriteFailed("connection refused") from exc
            raise WriteIndeterminate(str(exc.reason)) from exc
        except OSError as exc:  # reset or timeout after the request was sent
            raise WriteIndeterminate(str(exc)) from exc

    def present(self, run_id: str, timeout: float) -> set[int]:
        pattern = f"ledger:{run_id}:%"
        rows = pg.query(self.app_dsn(), "SELECT name FROM projects WHERE name LIKE %s", (pattern,), timeout)
        found = set()
        for (name,) in rows:
            match = re.fullmatch(rf"ledger:{re.escape(run_id)}:(\d+)", str(name))
            if match:
                found.add(int(match.group(1)))
        return found

    def close(self) -> None:
        pass


def _error_code(exc: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(exc.read()).get("error", ""))
    except (ValueError, OSError, AttributeError):
        return ""
