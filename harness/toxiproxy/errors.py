"""Errors of the toxiproxy server and client.

The server's errors are one flat table with toxiproxy's own messages and status
codes (``api.go``), so any toxiproxy client sees what it expects:
``{"error": "proxy not found", "status": 404}``.
"""

from __future__ import annotations

from dataclasses import dataclass

from drillbook.harness.errors import DrillbookError


class ApiError(DrillbookError):
    """An API call failed; rendered as toxiproxy's error JSON with ``status``."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def to_json(self) -> dict[str, object]:
        return {"error": self.message, "status": self.status}


@dataclass(frozen=True)
class ErrorKind:
    message: str
    status: int

    def __call__(self, detail: str | None = None) -> ApiError:
        return ApiError(f"{self.message}: {detail}" if detail else self.message, self.status)


BAD_REQUEST_BODY = ErrorKind("bad request body", 400)
MISSING_FIELD = ErrorKind("missing required field", 400)
PROXY_NOT_FOUND = ErrorKind("proxy not found", 404)
PROXY_ALREADY_EXISTS = ErrorKind("proxy already exists", 409)
INVALID_STREAM = ErrorKind("stream was invalid, can be either upstream or downstream", 400)
INVALID_TOXIC_TYPE = ErrorKind("invalid toxic type", 400)
TOXIC_ALREADY_EXISTS = ErrorKind("toxic already exists", 409)
TOXIC_NOT_FOUND = ErrorKind("toxic not found", 404)
#: Binding a proxy's listen address failed; toxiproxy answers 500 with the OS error.
LISTEN_FAILED = ErrorKind("listen failed", 500)


class ServerStartError(DrillbookError):
    """The toxiproxy server could not start (its API port is taken, ...)."""


class ToxiproxyError(DrillbookError):
    """A toxiproxy API call answered an error (``status`` is its HTTP status)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ToxiproxyNotFound(ToxiproxyError, LookupError):
    """404: no such proxy or toxic."""


class ToxiproxyConflict(ToxiproxyError):
    """409: a proxy or toxic of that name exists already."""


class ToxiproxyBadRequest(ToxiproxyError, ValueError):
    """400: toxiproxy refused the request body."""


class ToxiproxyUnavailable(ToxiproxyError):
    """The API did not answer (refused, timed out, not toxiproxy)."""
