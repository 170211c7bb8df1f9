"""One write transaction on a bare driver connection checked out of the engine's pool.

An append holds the sequencer lock for about ten tiny statements (head, idempotency,
admission facts, entry, Merkle nodes, new head). Through SQLAlchemy's `Connection` each one
costs some 80 microseconds of Python (events, result metadata, cursor wrapping), several
times what SQLite or PostgreSQL take to run it, and that time is spent *inside* the lock, so
it bounds every writer of the ledger. The write path therefore runs its fixed SQL strings
(`ledger.sql.Statements`) on a DBAPI cursor: the pool still manages the connection (checkout,
pre-ping on PostgreSQL, return), only the per-statement layer is skipped.

Errors stay the driver's (PEP 249 classes of `sqlite3` or `psycopg`); `is_lock_timeout` and
`is_idempotency_conflict` tell the store what a failed transaction means.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import Engine


class DriverCursor:
    """Run fixed SQL strings on a driver cursor (placeholders of the driver)."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def first(self, sql: str, params: Sequence[object] = ()) -> tuple[Any, ...] | None:
        """The first row of a query, or None."""
        self._cursor.execute(sql, params)
        row = self._cursor.fetchone()
        return None if row is None else tuple(row)

    def all(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Every row of a query."""
        self._cursor.execute(sql, params)
        return [tuple(row) for row in self._cursor.fetchall()]

    def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        """Run one statement."""
        self._cursor.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        """Run one statement for each row (nothing when there are no rows)."""
        if rows:
            self._cursor.executemany(sql, rows)


@contextmanager
def write_transaction(engine: Engine) -> Iterator[DriverCursor]:
    """A transaction that takes the database's write lock at once on SQLite.

    `BEGIN IMMEDIATE` on SQLite (the engine turns pysqlite's implicit, deferred BEGIN off),
    so two writers can never read the same head; on PostgreSQL the transaction begins with
    the first statement and the sequencer row is locked `FOR UPDATE`. Commits on a normal
    exit, rolls back on any exception; a connection that cannot even roll back is dropped
    from the pool instead of being handed to the next request.
    """
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
        try:
            yield DriverCursor(cursor)
            raw.commit()
        except BaseException:
            try:
                raw.rollback()
            except Exception:
                raw.invalidate()
            raise
        finally:
            cursor.close()
    finally:
        raw.close()


@contextmanager
def read_cursor(engine: Engine) -> Iterator[DriverCursor]:
    """A driver cursor for reads outside the write lock (a pooled connection)."""
    with engine.connect() as conn:
        cursor = conn.connection.cursor()
        try:
            yield DriverCursor(cursor)
        finally:
            cursor.close()


def database_errors(engine: Engine) -> tuple[type[Exception], ...]:
    """The driver's exception classes a write transaction may fail with (PEP 249)."""
    dbapi = engine.dialect.loaded_dbapi
    return (dbapi.OperationalError, dbapi.IntegrityError, dbapi.DatabaseError)


def is_lock_timeout(exc: Exception) -> bool:
    """True when the database gave up waiting for a lock (SQLite busy, PostgreSQL timeout)."""
    text = str(exc).lower()
    return "locked" in text or "lock timeout" in text or "lock not available" in text


def is_idempotency_conflict(exc: Exception) -> bool:
    """True when a concurrent request with the same Idempotency-Key committed first."""
    return "idempotency" in str(exc).lower() and (
        "unique" in str(exc).lower() or "duplicate" in str(exc).lower()
    )
