"""The supervisor's errors; the control API maps each to an HTTP status."""

from __future__ import annotations

from drillbook.harness.errors import DrillbookError, InvalidDrillConfig


class SupervisorError(DrillbookError):
    status = 500
    code = "internal"


class NotFound(SupervisorError):
    status = 404
    code = "not_found"


class Invalid(SupervisorError, InvalidDrillConfig):
    status = 400
    code = "invalid"


class Conflict(SupervisorError):
    status = 409
    code = "conflict"


class SupervisorUnavailable(SupervisorError):
    """The supervisor is not running or did not answer in time."""

    status = 503
    code = "unavailable"


class DeploymentUnavailable(SupervisorError):
    """A deployment did not become available in time; the message lists its pods."""

    status = 504
    code = "not_available"


ERRORS: dict[str, type[SupervisorError]] = {
    cls.code: cls for cls in (SupervisorError, NotFound, Invalid, Conflict, SupervisorUnavailable,
                              DeploymentUnavailable)
}
