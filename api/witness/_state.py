"""The witness's memory: the latest checkpoint it cosigned of each log, in one SQLite file.

tlog-witness requires the check of the old size against this state and the write of the new
state to be one atomic step, persisted before the witness answers: otherwise two concurrent
requests could roll the state back. Each add-checkpoint holds `BEGIN IMMEDIATE` (SQLite's
write lock, across processes) from the read to the commit, with synchronous=FULL.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS witness_state (
    origin TEXT PRIMARY KEY,
    size INTEGER NOT NULL CHECK (size >= 0),
    root BLOB NOT NULL CHECK (length(root) = 32),
    note TEXT NOT NULL,
    updated_at INTEGER NOT NULL
)
"""


class WitnessState:
    """Latest cosigned (size, root) per origin; `update` runs a check-and-set atomically."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.execute(_SCHEMA)
        self._lock = threading.Lock()

    def held(self, origin: str) -> tuple[int, bytes] | None:
        """The (size, root) last cosigned for the origin, or None if it never was."""
        row = self._db.execute(
            "SELECT size, root FROM witness_state WHERE origin = ?", (origin,)
        ).fetchone()
        return None if row is None else (int(row[0]), bytes(row[1]))

    def update(
        self,
        origin: str,
        decide: Callable[[tuple[int, bytes] | None], tuple[int, bytes, str, int]],
    ) -> None:
        """Read the origin's state, let `decide` check it (it raises to refuse) and return
        the new (size, root, note, time), and write that, all in one write transaction."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                size, root, note, now = decide(self.held(origin))
                self._db.execute(
                    "INSERT INTO witness_state (origin, size, root, note, updated_at) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (origin) DO UPDATE SET "
                    "size = excluded.size, root = excluded.root, note = excluded.note, "
                    "updated_at = excluded.updated_at",
                    (origin, size, root, note, now),
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        """Close the database file."""
        self._db.close()
