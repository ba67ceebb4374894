"""The primary: the server the platform writes to.

Data checksums on (so a torn or overwritten page is detected), ``wal_level``
replica with WAL senders and slots for the DR replica, every segment archived,
commit timestamps tracked (so a point-in-time target can be checked against
what committed when). The application's database and role are created here.
"""

from __future__ import annotations

import hashlib
from importlib.resources import files
from typing import Any

from psycopg import sql

from drillbook.harness import pg
from drillbook.harness.reference_app import APP_DATABASE as APP_DATABASE
from drillbook.harness.reference_app import APP_USER as APP_USER
from drillbook.twin import pg_template
from drillbook.twin.archive import WalArchive
from drillbook.twin.passwords import scram_sha256_verifier
from drillbook.twin.postgres import PostgresCluster

#: WAL segment size (``initdb --wal-segsize``). PostgreSQL's 16 MB is sized for busy
#: servers; this one writes a little, and ``archive_timeout`` closes a segment every few
#: seconds, each zero-filled, archived (copied and fsynced) and later replayed in full:
#: with 1 MB segments a monthly drill run writes 401 MB to disk instead of 1,545 MB.
WAL_SEGMENT_MB = 1


def primary_settings(archive: WalArchive, *, archive_timeout_s: float) -> dict[str, Any]:
    return {
        "wal_level": "replica",
        "max_wal_senders": 10,
        "max_replication_slots": 10,
        # A slot whose standby is gone must not fill the disk.
        "max_slot_wal_keep_size": "'1GB'",
        "wal_keep_size": "'64MB'",
        "hot_standby": "on",
        "track_commit_timestamp": "on",
        "wal_sender_timeout": "'10s'",
        **archive.primary_settings(timeout_s=archive_timeout_s),
    }


def init_primary(cluster: PostgresCluster, archive: WalArchive, *,
                 archive_timeout_s: float) -> PostgresCluster:
    """``initdb`` with data checksums, configured as the primary (not started). It begins as a
    kept template that already holds the application's role, database and schema
    (:func:`app_seed`) where the template cache is on; :func:`create_app_database` completes it."""
    cluster.init(checksums=True, conf=primary_settings(archive, archive_timeout_s=archive_timeout_s),
                 wal_segment_mb=WAL_SEGMENT_MB, seed=app_seed())
    return cluster


def schema_sql() -> str:
    return files("drillbook.twin").joinpath("schema.sql").read_text()


def app_seed() -> pg_template.Seed:
    """The application's role (no password: each environment sets its own), database and
    schema, for the primary's template; keyed by the names and the schema's text."""
    digest = hashlib.sha256(f"{APP_USER}\0{APP_DATABASE}\0{schema_sql()}".encode()).hexdigest()
    return pg_template.Seed(key=f"app-{digest[:16]}", apply=create_app_objects)


def create_app_objects(cluster: PostgresCluster, timeout: float = 30.0) -> None:
    """The ``compliant_app`` role, the ``compliant`` database and the schema, where missing."""
    with pg.connect(cluster.dsn("postgres"), timeout) as conn:
        exists = pg.execute(conn, "SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_USER,), timeout)
        if not exists:
            pg.execute(conn, sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(APP_USER)).as_string(conn),
                       timeout=timeout)
    cluster.create_database(APP_DATABASE)
    with pg.connect(cluster.dsn(APP_DATABASE), timeout) as conn:
        pg.execute(conn, schema_sql(), timeout=timeout)


def create_app_database(cluster: PostgresCluster, password: str, timeout: float = 30.0) -> None:
    """The ``compliant`` database, the ``compliant_app`` role (scram) and the schema; on a
    primary made from the seeded template only the password is new."""
    create_app_objects(cluster, timeout)
    set_app_password(cluster, password, timeout=timeout)


def set_app_password(cluster: PostgresCluster, password: str, *, user: str = APP_USER,
                     timeout: float = 10.0) -> None:
    """Set the role's password from its SCRAM verifier: the clear text never reaches the server."""
    with pg.connect(cluster.dsn("postgres"), timeout) as conn:
        statement = sql.SQL("ALTER ROLE {} PASSWORD {}").format(
            sql.Identifier(user), sql.Literal(scram_sha256_verifier(password)))
        pg.execute(conn, statement.as_string(conn), timeout=timeout)
