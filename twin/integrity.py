"""Data integrity checks of a PostgreSQL server: ``pg_amcheck`` (online) and
``pg_checksums`` (offline), the DR procedures' "check for corruption".

Both use the data checksums the primary is created with: a page overwritten
behind PostgreSQL's back fails its checksum when it is next read from disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from drillbook.harness.errors import DrillbookError
from drillbook.twin.postgres import PostgresCluster


class IntegrityError(DrillbookError):
    pass


@dataclass(frozen=True)
class IntegrityReport:
    tool: str
    passed: bool
    detail: str


def amcheck(cluster: PostgresCluster, dbname: str | None = None, *,
            timeout: float = 600.0) -> IntegrityReport:
    """Check every heap and B-tree index of ``dbname`` (all databases when None) on a running server.

    Installs the ``amcheck`` extension where it is missing (it is part of PostgreSQL).
    """
    if not cluster.running():
        raise IntegrityError(f"{cluster.name} is not running; pg_amcheck needs a running server")
    target = ["--database", dbname] if dbname else ["--all"]
    done = cluster.run_tool(
        [str(cluster.tool("pg_amcheck")), "-h", cluster.host, "-p", str(cluster.port), "-U", "postgres",
         "--install-missing", "--heapallindexed", "--no-password", *target],
        timeout=timeout, check=False)
    output = (done.stdout + done.stderr).strip()
    return IntegrityReport("pg_amcheck", done.returncode == 0, output[-4000:] or "no corruption found")


def checksums(cluster: PostgresCluster, *, timeout: float = 600.0) -> IntegrityReport:
    """Verify every page's checksum; the server must be stopped (PostgreSQL requires it)."""
    if cluster.running():
        raise IntegrityError(f"{cluster.name} is running; pg_checksums checks a stopped server: "
                             "stop it first (stop('fast'))")
    done = cluster.run_tool([str(cluster.tool("pg_checksums")), "--check", "-D", str(cluster.datadir)],
                            timeout=timeout, check=False)
    output = (done.stdout + done.stderr).strip()
    return IntegrityReport("pg_checksums", done.returncode == 0, output[-4000:])


def relation_file(cluster: PostgresCluster, table: str, dbname: str | None = None) -> Path:
    """The first segment file of ``table``'s heap in the data directory."""
    rows = cluster.sql("SELECT pg_relation_filepath(to_regclass(%s))", (table,),
                       dbname=dbname or cluster.dbname)
    if not rows or rows[0][0] is None:
        raise IntegrityError(f"no table {table!r} in database {dbname or cluster.dbname}")
    return cluster.datadir / str(rows[0][0])
