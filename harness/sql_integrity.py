"""Integrity checks through SQL alone: amcheck on any PostgreSQL URL (RDS included).

``pg_amcheck`` is a client binary over the same functions; calling them through SQL needs
no file access and no binary, only the ``amcheck`` extension (part of PostgreSQL; RDS allows
it). B-tree indexes are checked with ``bt_index_check(index, heapallindexed => true)``
(every heap tuple has its index entry), heaps with ``verify_heapam`` (PostgreSQL 14+).
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from drillbook.harness import pg

USER_RELATIONS = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"
INDEXES = f"""
SELECT c.oid::regclass::text FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE a.amname = 'btree' AND i.indisvalid AND c.relpersistence <> 't' AND {USER_RELATIONS}
ORDER BY 1
"""
HEAPS = f"""
SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'm') AND c.relpersistence <> 't' AND {USER_RELATIONS}
ORDER BY 1
"""


@dataclass(frozen=True)
class AmcheckReport:
    passed: bool
    indexes: int
    heaps: int
    problems: tuple[str, ...]

    @property
    def detail(self) -> str:
        checked = f"{self.indexes} B-tree indexes and {self.heaps} heaps checked"
        return checked + (": " + "; ".join(self.problems[:10]) if self.problems else ", no corruption")


def amcheck(dsn: str, *, timeout: float = 600.0) -> AmcheckReport:
    """Check every user B-tree index and heap of the database ``dsn`` names."""
    problems: list[str] = []
    with pg.connect(dsn, timeout) as conn:
        pg.execute(conn, "CREATE EXTENSION IF NOT EXISTS amcheck", timeout=timeout)
        indexes = [str(r[0]) for r in pg.execute(conn, INDEXES, timeout=timeout)]
        heaps = [str(r[0]) for r in pg.execute(conn, HEAPS, timeout=timeout)]
        for index in indexes:
            try:
                pg.execute(conn, "SELECT bt_index_check(%s::regclass, true)", (index,), timeout=timeout)
            except psycopg.Error as exc:  # corruption is reported as an error naming the index
                problems.append(f"{index}: {str(exc).strip().splitlines()[0]}")
        for heap in heaps:
            rows = pg.execute(
                conn, "SELECT blkno, offnum, msg FROM verify_heapam(%s::regclass)", (heap,), timeout=timeout
            )
            problems += [f"{heap} block {r[0]} item {r[1]}: {r[2]}" for r in rows]
    return AmcheckReport(not problems, len(indexes), len(heaps), tuple(problems))
