"""The Kubernetes API's errors: each one answered as a ``Status`` object with its HTTP code and
reason, which ``kubectl`` prints as ``Error from server (<reason>): <message>``."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    code = 500
    reason = "InternalError"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def status(self) -> dict[str, Any]:
        return status_object(self.code, self.reason, self.message, self.details)


class BadRequest(ApiError):
    code, reason = 400, "BadRequest"


class Forbidden(ApiError):
    code, reason = 403, "Forbidden"


class NotFound(ApiError):
    code, reason = 404, "NotFound"


class MethodNotAllowed(ApiError):
    code, reason = 405, "MethodNotAllowed"


class NotAcceptable(ApiError):
    code, reason = 406, "NotAcceptable"


class AlreadyExists(ApiError):
    code, reason = 409, "AlreadyExists"


class Conflict(ApiError):
    code, reason = 409, "Conflict"


class Gone(ApiError):
    code, reason = 410, "Expired"


class UnsupportedMediaType(ApiError):
    code, reason = 415, "UnsupportedMediaType"


class Invalid(ApiError):
    code, reason = 422, "Invalid"


def status_object(
    code: int, reason: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    status: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure" if code >= 300 else "Success",
        "message": message,
        "reason": reason,
    }
    if details:  # kubectl words an error with details from them, else from the message
        status["details"] = details
    status["code"] = code
    return status


def forbidden_field(kind: str, group: str, name: str, field: str, why: str) -> Invalid:
    """A change the twin cannot carry out, as ``kubectl`` prints a field error:
    ``The Deployment "api" is invalid: spec.paused: Forbidden: <why>``."""
    cause = f"Forbidden: {why}"
    return Invalid(
        f'{kind}.{group or "core"} "{name}" is invalid: {field}: {cause}',
        details={
            "name": name,
            "group": group,
            "kind": kind,
            "causes": [{"reason": "FieldValueForbidden", "message": cause, "field": field}],
        },
    )


def not_found(resource: str, group: str, name: str) -> NotFound:
    """``pods "x" not found``, as the API server words it."""
    qualified = f"{resource}.{group}" if group else resource
    return NotFound(
        f'{qualified} "{name}" not found', details={"name": name, "group": group, "kind": resource}
    )


def unknown_path() -> NotFound:
    return NotFound("the server could not find the requested resource")


def conflict(resource: str, group: str, name: str) -> Conflict:
    qualified = f"{resource}.{group}" if group else resource
    return Conflict(
        f'Operation cannot be fulfilled on {qualified} "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again",
        details={"name": name, "group": group, "kind": resource},
    )


def not_emulated(what: str) -> MethodNotAllowed:
    return MethodNotAllowed(
        f"{what} is not emulated by drillbook's twin (docs/local-environment.md lists "
        "what its Kubernetes API serves)"
    )
