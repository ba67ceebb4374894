"""Capabilities: what an environment's platform can do beyond its roles' common API.

RDS gives no file access to a database's data directory and ``rds_superuser``
instead of a superuser; a drill, or a part of one, that needs either cannot run
there. Such a need is said once, as a capability the environment declares,
never discovered by a caller's exception or decided by an environment's name:
the local environment has every capability; a staging profile has none unless it
grants them (``capabilities = [...]`` in ``[environments.<name>]``).

A drill names what it needs with ``@pytest.mark.requires_capability(...)`` (it is
skipped, naming the capability, where one is missing); a runbook step with
``Step(requires=...)`` (it is reported as not run, with why, and the rest runs).
"""

from __future__ import annotations

from collections.abc import Iterable

from drillbook.harness.errors import InvalidDrillConfig

DATA_DIRECTORY = "database.data_directory"
SUPERUSER = "database.superuser"

#: Every capability, with what having it means (``pytest --markers`` and the docs list these).
KNOWN: dict[str, str] = {
    DATA_DIRECTORY: "files of the database's data directory can be read and written "
    "(pg_checksums, a heap page overwritten); RDS has no such access",
    SUPERUSER: "SQL as a PostgreSQL superuser (RDS gives rds_superuser only)",
}
#: The local environment (the twin) can do everything.
LOCAL = frozenset(KNOWN)


def check_names(names: Iterable[str], *, where: str) -> frozenset[str]:
    """``names`` as a set; an unknown name raises InvalidDrillConfig listing the known ones."""
    found = frozenset(names)
    for name in sorted(found):
        if name not in KNOWN:
            raise InvalidDrillConfig(
                f"{where}: unknown capability {name!r}; capabilities are {', '.join(sorted(KNOWN))}"
            )
    return found


def missing(needed: Iterable[str], have: Iterable[str]) -> list[str]:
    """The capabilities of ``needed`` not in ``have``, in the order needed."""
    present = set(have)
    return [name for name in needed if name not in present]


def why_missing(capability: str, env_name: str) -> str:
    """The reason a skipped drill or a part not run gives."""
    return (
        f"needs capability {capability!r}, which environment {env_name!r} lacks "
        f'(grant it with capabilities = ["{capability}"] in [environments.{env_name}] if the platform has it)'
    )
