"""Write transactions on bare driver connections: the pool's, or on SQLite one the writer keeps.

An append holds the sequencer lock for about ten tiny statements (head, idempotency,
admission facts, entry, Merkle nodes, new head). Through SQLAlchemy's `Connection` each one
costs some 80 microseconds of Python (events, result metadata, cursor wrapping), several
times what SQLite or PostgreSQL take to run it, and that time is spent *inside* the lock, so
it bounds every writer of the ledger. The write path therefore runs its fixed SQL strings
(`ledger.sql.Statements`) on a DBAPI cursor: SQLAlchemy still opens and pools the connections
(pre-ping on PostgreSQL), only the per-statement layer is skipped (see `WriteConnections`).

Errors stay the driver's (PEP 249 classes of `sqlite3` or `psycopg`); `is_lock_timeout` and
`is_idempotency_conflict` tell the store what a failed transaction means.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from ledger.database import tune_sqlite_writer

_IN_ORDER = nullcontext()
"""`DriverCursor.batch` where there is no pipeline: the statements simply run in order."""


class DriverCursor:
    """Run fixed SQL strings on a driver cursor (placeholders of the driver)."""

    __slots__ = ("_connection", "_cursor", "_pipelined")

    def __init__(self, cursor: Any, connection: Any = None, *, pipelined: bool = False) -> None:
        self._cursor = cursor
        self._connection = connection
        self._pipelined = pipelined

    def batch(self) -> AbstractContextManager[Any]:
        """Send the statements of the block together, without waiting for each result.

        On PostgreSQL this is psycopg's pipeline mode: a group's reads (head, idempotency,
        admission facts) cost one network round trip instead of one each, and so do its
        writes with the COMMIT. Every round trip is time the sequencer lock is held, so it
        bounds the throughput of all writers. Results of `later` queries are read after the
        block. On SQLite (in-process) statements simply run in order.
        """
        if not self._pipelined:
            return _IN_ORDER
        pipeline: AbstractContextManager[Any] = self._connection.pipeline()
        return pipeline

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


class WriteConnections:
    """Where write transactions get their connection: the engine's pool, or on SQLite a
    connection the writer keeps.

    Checking a connection out of SQLAlchemy's pool and back in (with its reset) cost about
    0.04 ms of a 0.5 ms single-entry append on SQLite, whose commit is otherwise all local
    work plus one fsync. SQLite has no server that could drop a connection, so the writer keeps
    one for itself; a second writer in the same process at the same moment (the service's
    writer thread and a direct caller) simply takes one from the pool. On PostgreSQL every
    transaction checks out a pooled connection, so the pool's pre-ping still replaces a
    connection the server closed.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        self._pipelined = _can_pipeline(engine)
        self._kept: Any = None
        self._kept_free = threading.Lock()
        if self._sqlite:  # `engine.dispose()` closes every connection, this one too
            event.listen(engine, "engine_disposed", lambda _engine: self.close())

    @contextmanager
    def transaction(self) -> Iterator[DriverCursor]:
        """A transaction that takes the database's write lock at once on SQLite.

        `BEGIN IMMEDIATE` on SQLite (the engine turns pysqlite's implicit, deferred BEGIN
        off), so two writers can never read the same head; on PostgreSQL the transaction
        begins with the first statement and the sequencer row is locked `FOR UPDATE`.
        Commits on a normal exit, rolls back on any exception; a connection that cannot even
        roll back is dropped instead of being used again.
        """
        if self._sqlite and self._kept_free.acquire(blocking=False):
            try:
                if self._kept is None:
                    self._kept = self.engine.raw_connection()
                    tune_sqlite_writer(self._kept.driver_connection)
                raw = self._kept
                try:
                    with self._run(raw) as tx:
                        yield tx
                except BaseException:
                    if not raw.is_valid:
                        self._kept = None
                    raise
            finally:
                self._kept_free.release()
            return
        raw = self.engine.raw_connection()
        try:
            with self._run(raw) as tx:
                yield tx
        finally:
            raw.close()

    @contextmanager
    def _run(self, raw: Any) -> Iterator[DriverCursor]:
        cursor = raw.cursor()
        try:
            if self._sqlite:
                cursor.execute("BEGIN IMMEDIATE")
            yield DriverCursor(cursor, raw.driver_connection, pipelined=self._pipelined)
            raw.commit()
        except BaseException:
            try:
                raw.rollback()
            except Exception:
                raw.invalidate()
            raise
        finally:
            cursor.close()

    def close(self) -> None:
        """Close the kept connection (waiting for its transaction); opened again when needed."""
        with self._kept_free:
            kept, self._kept = self._kept, None
        if kept is not None:
            kept.invalidate()  # closes the driver connection, not only the pool's handle


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
