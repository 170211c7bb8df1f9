"""Engines for the ledger database: SQLite (default, WAL) and PostgreSQL (psycopg 3).

SQLite writers take the database lock at BEGIN (`BEGIN IMMEDIATE`), so two appends can never
interleave and the chain has one total order; `synchronous=FULL` (the default) makes every
committed append durable across power loss, not only process crashes. That costs one fsync
per commit, which bounds a single writer to a few thousand appends a second on a fast SSD
and a few hundred on a busy virtual disk; `synchronous=NORMAL` (setting
GOVLEDGER_SQLITE_SYNCHRONOUS) syncs only at WAL checkpoints: still never corrupt and still
durable across a crash of the process, but a power cut may lose the last commits.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine

SQLITE_BUSY_TIMEOUT_MS = 60_000

SQLITE_WRITER_MMAP_BYTES = 2**31
"""The writer reads the database through a memory map (SQLite caps it at 2 GiB): every append
reads a leaf of each index it writes, the entry-hash index's at random, each from the OS
cache with a syscall and a copy; with the map and the cache below, single durable appends
at 100k entries went from about 1,940 to 2,060-2,120 a second. Only the writer's connection
maps the file: a mapped page counts in a process's RSS, and a verifier streaming the whole
log must keep its memory flat."""

SQLITE_WRITER_CACHE_KIB = 16_384
"""The writer's page cache (SQLite's default is 2 MiB): keeps the pages it dirties and
re-reads at every append (index tails, the head row, the Merkle tail) in process."""


POSTGRESQL_OPTIONS = "-c plan_cache_mode=force_custom_plan"
"""Every PostgreSQL connection plans each statement with its parameters, never with a cached
generic plan. psycopg prepares a statement on its fifth execution, and PostgreSQL may then
keep one generic plan for it until the table is next analyzed: a plan chosen while the
ledger held a handful of entries is a sequential scan, and without autovacuum (or before
its first ANALYZE) every admission query went on scanning the whole table, its cost growing
with every entry (3.8 ms per append at 4,000 entries, measured with auto_explain). A custom
plan of these small indexed statements costs tens of microseconds."""


def is_sqlite(engine: Engine) -> bool:
    """True for a SQLite engine."""
    return engine.dialect.name == "sqlite"


SQLITE_SYNCHRONOUS_MODES = ("FULL", "NORMAL")


def make_engine(url: str, *, sqlite_synchronous: str = "FULL", **kwargs: Any) -> Engine:
    """Create an engine for a database URL with the settings the ledger relies on.

    `sqlite_synchronous` is FULL or NORMAL (see the module docstring); PostgreSQL ignores it.
    """
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        if sqlite_synchronous not in SQLITE_SYNCHRONOUS_MODES:
            raise ValueError(
                f"sqlite_synchronous must be FULL or NORMAL, not {sqlite_synchronous!r}"
            )
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            **kwargs,
        )
        _configure_sqlite(engine, sqlite_synchronous)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 5)
    kwargs.setdefault("max_overflow", 10)
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args.setdefault("options", POSTGRESQL_OPTIONS)
    return create_engine(url, connect_args=connect_args, **kwargs)


def tune_sqlite_writer(dbapi_connection: sqlite3.Connection) -> None:
    """Settings for the one connection a process appends with (see `ledger.write_tx`)."""
    dbapi_connection.execute(f"PRAGMA mmap_size={SQLITE_WRITER_MMAP_BYTES}").close()
    dbapi_connection.execute(f"PRAGMA cache_size=-{SQLITE_WRITER_CACHE_KIB}").close()


def _configure_sqlite(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's implicit BEGIN
        # is DEFERRED, which lets two writers read the same head and fork the chain).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Deferred: readers never block writers. The append path (ledger.write_tx) takes
        # the write lock up front with BEGIN IMMEDIATE on its own driver cursor.
        connection.exec_driver_sql("BEGIN")
