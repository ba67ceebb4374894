"""PostgreSQL access with a hard client-side timeout on every call.

libpq's ``connect_timeout`` covers connecting and ``statement_timeout`` covers a
server that is working, but neither ends a call to a server that is frozen or
partitioned away. ``deadline`` shuts the connection's socket down when the time
is up, so the blocked call returns at once with an error.
"""

from __future__ import annotations

import math
import os
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg


def connect(dsn: str, timeout: float = 5.0, **kwargs: Any) -> psycopg.Connection[Any]:
    """Open an autocommit connection; ``timeout`` bounds connecting and each statement."""
    ms = max(1, int(timeout * 1000))
    options = f"-c statement_timeout={ms} -c lock_timeout={ms}"
    # libpq rounds connect_timeout to whole seconds and to at least 2.
    connect_s = max(2, math.ceil(timeout))
    return psycopg.connect(dsn, connect_timeout=connect_s, autocommit=True, options=options, **kwargs)


@contextmanager
def deadline(conn: psycopg.Connection[Any], timeout: float) -> Iterator[None]:
    """Shut ``conn``'s socket down if the block runs longer than ``timeout`` seconds."""
    try:
        fd = conn.fileno()
    except psycopg.Error:
        yield
        return
    fired = threading.Event()

    def cut() -> None:
        fired.set()
        try:
            dup = socket.socket(fileno=os.dup(fd))
        except OSError:
            return
        try:
            dup.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        finally:
            dup.close()

    timer = threading.Timer(timeout, cut)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def execute(
    conn: psycopg.Connection[Any], sql: str, params: Sequence[Any] | None = None, timeout: float = 5.0
) -> list[tuple[Any, ...]]:
    """Run ``sql`` and return its rows (empty for statements without a result)."""
    with deadline(conn, timeout):
        cur = conn.execute(sql, params)  # type: ignore[arg-type]
        return list(cur.fetchall()) if cur.description else []


def query(
    dsn: str, sql: str, params: Sequence[Any] | None = None, timeout: float = 5.0
) -> list[tuple[Any, ...]]:
    """Connect, run one statement, close."""
    with connect(dsn, timeout) as conn:
        return execute(conn, sql, params, timeout)
