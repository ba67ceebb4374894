"""Is there a Docker engine, and is testcontainers installed? A clear answer either way."""

from __future__ import annotations

from drillbook.harness.errors import DrillbookError


class ContainersUnavailable(DrillbookError):
    """The containers profile cannot run here (no Docker engine, or testcontainers missing)."""


def engine_problem(timeout: float = 3.0) -> str | None:
    """None when a Docker engine answers and testcontainers is importable, else why not."""
    try:
        import docker  # type: ignore[import-untyped]
        import testcontainers  # noqa: F401
    except ImportError as exc:
        return f"testcontainers is not installed ({exc.name}): pip install 'drillbook[containers]'"
    try:
        client = docker.from_env(timeout=max(1, int(timeout)))
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # the docker SDK raises many kinds; all mean "no engine"
        return (
            f"no Docker engine answers ({type(exc).__name__}: {exc}); start one (or set DOCKER_HOST), "
            "or use --env local, which needs no Docker"
        )
    return None


def require_engine(timeout: float = 3.0) -> None:
    problem = engine_problem(timeout)
    if problem is not None:
        raise ContainersUnavailable(f"the containers environment needs Docker: {problem}")
