"""Write transactions on bare driver connections: one the writer keeps, or the pool's.

An append holds the sequencer lock for about ten tiny statements (head, idempotency,
admission facts, entry, Merkle nodes, new head). Through SQLAlchemy's `Connection` each one
costs some 80 microseconds of Python (events, result metadata, cursor wrapping), several
times what SQLite or PostgreSQL take to run it, and that time is spent *inside* the lock, so
it bounds every writer of the ledger. The write path therefore runs its fixed SQL strings
(`ledger.sql.Statements`) on a DBAPI cursor: SQLAlchemy still opens and pools the connections,
only the per-statement layer is skipped (see `WriteConnections`).

Errors stay the driver's (PEP 249 classes of `sqlite3` or `psycopg`); `is_lock_timeout` and
`is_idempotency_conflict` tell the store what a failed transaction means.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from ledger.store._database import tune_sqlite_writer

MULTI_ROW_INSERT_MAX = 64
"""The most rows `DriverCursor.insert` sends as one multi-row INSERT on PostgreSQL."""

_IN_ORDER = nullcontext()
"""`DriverCursor.batch` where there is no pipeline: the statements simply run in order."""


class ConnectionLost(Exception):
    """The writer's kept connection was found closed before its transaction wrote anything.

    Raised instead of the driver's error so that the caller may run the transaction again
    on a new connection: nothing was sent but reads, so nothing can be written twice.
    """


class DriverCursor:
    """Run fixed SQL strings on a driver cursor (placeholders of the driver).

    On PostgreSQL the connection is in autocommit mode and the transaction is explicit:
    `BEGIN` goes out with the first statement (inside the first `batch`, in its pipeline)
    and `commit` sends `COMMIT` into the current batch. psycopg's own transaction handling
    costs a round trip of its own for the BEGIN and another for the COMMIT in pipeline mode
    (measured with strace: five round trips per group instead of two), each of them spent
    holding the sequencer lock.
    """

    __slots__ = ("_begin", "_connection", "_cursor", "_pipelined", "wrote")

    def __init__(
        self,
        cursor: Any,
        connection: Any = None,
        *,
        pipelined: bool = False,
        explicit_transaction: bool = False,
    ) -> None:
        self._cursor = cursor
        self._connection = connection
        self._pipelined = pipelined
        self._begin = explicit_transaction
        self.wrote = False
        """Whether a write (or the COMMIT) was sent: before that a lost connection can be
        retried."""

    def _start(self) -> None:
        if self._begin:
            self._begin = False
            self._cursor.execute("BEGIN")

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
        return _Pipeline(self)

    def later(self, sql: str, params: Sequence[object] = ()) -> Callable[[], list[tuple[Any, ...]]]:
        """Queue a query (see `batch`); the returned function gives its rows."""
        if self._connection is None or not self._pipelined:
            ready = self.all(sql, params)
            return lambda: ready
        self._start()
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
        self.wrote = True
        if self._pipelined:
            self._start()
            self._cursor.execute("COMMIT")
        elif self._connection is not None:
            self._connection.commit()

    def first(self, sql: str, params: Sequence[object] = ()) -> tuple[Any, ...] | None:
        """The first row of a query, or None."""
        self._start()
        self._cursor.execute(sql, params)
        row = self._cursor.fetchone()
        return None if row is None else tuple(row)

    def all(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Every row of a query."""
        self._start()
        self._cursor.execute(sql, params)
        return [tuple(row) for row in self._cursor.fetchall()]

    def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        """Run one statement (a write)."""
        self._start()
        self.wrote = True
        self._cursor.execute(sql, params)

    def insert(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        """Insert rows with an `INSERT ... VALUES (...)` statement (nothing when there are none).

        On PostgreSQL up to `MULTI_ROW_INSERT_MAX` rows go as one multi-row INSERT: inside a
        pipeline, psycopg's executemany queues one command per row and flushes each to the
        socket on its own (a send and two polls per row, measured with strace), most of the
        writer's system calls for the small groups of a busy service. Larger batches keep
        executemany, which beat multi-row statements of a thousand rows by about 15% for
        batches of 10,000 entries (their parameters' parsing and planning). SQLite runs in
        process: executemany there reuses one prepared statement.
        """
        if not rows:
            return
        self._start()
        self.wrote = True
        if not self._pipelined or len(rows) > MULTI_ROW_INSERT_MAX:
            self._cursor.executemany(sql, rows)
        else:
            self._cursor.execute(_multi_row(sql, len(rows)), [v for row in rows for v in row])


class _Pipeline:
    """psycopg's pipeline around a block, with the pending BEGIN as its first command."""

    __slots__ = ("_pipeline", "_tx")

    def __init__(self, tx: DriverCursor) -> None:
        self._tx = tx
        self._pipeline = tx._connection.pipeline()

    def __enter__(self) -> None:
        self._pipeline.__enter__()
        self._tx._start()

    def __exit__(self, *exc: Any) -> Any:
        return self._pipeline.__exit__(*exc)


class WriteConnections:
    """Where write transactions get their connection: one the writer keeps, or the pool's.

    Checking a connection out of SQLAlchemy's pool and back in (with its reset) cost about
    0.04 ms of a 0.5 ms single-entry append on SQLite, and on PostgreSQL the pool's pre-ping
    is one more network round trip per transaction. So the writer keeps one connection for
    itself; a write beside the writer thread in the same process (a bundle import) simply
    takes one from the pool. On PostgreSQL the server may
    close the kept connection (a restart, an administrator): the transaction then fails on
    its first reads, and `ConnectionLost` tells the caller to run it again on a new one.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        self._pipelined = _can_pipeline(engine)
        self._kept: Any = None
        self._kept_free = threading.Lock()
        # `engine.dispose()` closes every connection, this one too
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
        if self._kept_free.acquire(blocking=False):
            try:
                if self._kept is None:
                    self._kept = self._open_kept()
                raw = self._kept
                tx = self._cursor_for(raw)
                try:
                    with self._run(raw, tx):
                        yield tx
                except BaseException as exc:
                    if not raw.is_valid or _is_closed(raw):
                        self._kept = None
                        if raw.is_valid:
                            raw.invalidate()
                        if not tx.wrote and isinstance(exc, Exception) and not self._sqlite:
                            raise ConnectionLost(str(exc)) from exc
                    raise
            finally:
                self._kept_free.release()
            return
        pooled: Any = self.engine.raw_connection()
        try:
            if not self._sqlite:
                pooled.driver_connection.autocommit = True
            tx = self._cursor_for(pooled)
            with self._run(pooled, tx):
                yield tx
        finally:
            if not self._sqlite and pooled.is_valid:
                try:  # back to the pool as it came: SQLAlchemy's own transactions need it
                    pooled.driver_connection.autocommit = False
                except Exception:
                    pooled.invalidate()
            pooled.close()

    def _open_kept(self) -> Any:
        raw: Any = self.engine.raw_connection()
        if self._sqlite:
            tune_sqlite_writer(raw.driver_connection)
        else:
            raw.driver_connection.autocommit = True
        return raw

    def _cursor_for(self, raw: Any) -> DriverCursor:
        return DriverCursor(
            raw.cursor(),
            raw.driver_connection,
            pipelined=self._pipelined,
            explicit_transaction=not self._sqlite,
        )

    @contextmanager
    def _run(self, raw: Any, tx: DriverCursor) -> Iterator[None]:
        cursor = tx._cursor
        try:
            if self._sqlite:
                cursor.execute("BEGIN IMMEDIATE")
            yield
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


def _is_closed(raw: Any) -> bool:
    """True when the driver connection is closed or broken (psycopg), so useless."""
    driver = raw.driver_connection
    return bool(getattr(driver, "closed", False) or getattr(driver, "broken", False))


@functools.lru_cache(maxsize=4 * MULTI_ROW_INSERT_MAX)
def _multi_row(sql: str, rows: int) -> str:
    """`INSERT ... VALUES (%s, ...)` made into an INSERT of `rows` rows."""
    head, values = sql.split(" VALUES ", 1)
    return f"{head} VALUES {', '.join([values] * rows)}"


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
