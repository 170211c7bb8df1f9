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

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import Engine


class DriverCursor:
    """Run fixed SQL strings on a driver cursor (placeholders of the driver)."""

    __slots__ = ("_connection", "_cursor", "_pipelined")

    def __init__(self, cursor: Any, connection: Any = None, *, pipelined: bool = False) -> None:
        self._cursor = cursor
        self._connection = connection
        self._pipelined = pipelined

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Send the statements of the block together, without waiting for each result.

        On PostgreSQL this is psycopg's pipeline mode: a group's reads (head, idempotency,
        admission facts) cost one network round trip instead of one each, and so do its
        writes with the COMMIT. Every round trip is time the sequencer lock is held, so it
        bounds the throughput of all writers. Results of `later` queries are read after the
        block. On SQLite (in-process) statements simply run in order.
        """
        if not self._pipelined:
            yield
            return
        with self._connection.pipeline():
            yield

    def later(self, sql: str, params: Sequence[object] = ()) -> Callable[[], list[tuple[Any, ...]]]:
        """Queue a query (see `batch`); the returned function gives its rows."""
        if self._connection is None or not self._pipelined:
            ready = self.all(sql, params)
            return lambda: ready
        cursor = self._connection.cursor()
        cursor.execute(sql, params)

        def fetch() -> list[tuple[Any, ...]]:
            try:
                return [tuple(row) for row in cursor.fetchall()]
            finally:
                cursor.close()

        return fetch

    def commit(self) -> None:
        """Commit now (inside a `batch`, the COMMIT travels with the batch's writes)."""
        if self._connection is not None:
            self._connection.commit()

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
            yield DriverCursor(cursor, raw.driver_connection, pipelined=_can_pipeline(engine))
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


def _can_pipeline(engine: Engine) -> bool:
    """psycopg's pipeline mode is there (libpq 14 or later); SQLite has no network to save."""
    if engine.dialect.name != "postgresql":
        return False
    supported: bool = engine.dialect.loaded_dbapi.Pipeline.is_supported()
    return supported


def database_errors(engine: Engine) -> tuple[type[Exception], ...]:
    """The driver's exception classes a write transaction may fail with (PEP 249: its
    DatabaseError covers OperationalError, IntegrityError and DataError)."""
    dbapi = engine.dialect.loaded_dbapi
    return (dbapi.DatabaseError,)


def is_lock_timeout(exc: Exception) -> bool:
    """True when the database gave up waiting for a lock (SQLite busy, PostgreSQL timeout)."""
    text = str(exc).lower()
    return "locked" in text or "lock timeout" in text or "lock not available" in text


def is_idempotency_conflict(exc: Exception) -> bool:
    """True when a concurrent request with the same Idempotency-Key committed first."""
    return "idempotency" in str(exc).lower() and (
        "unique" in str(exc).lower() or "duplicate" in str(exc).lower()
    )
