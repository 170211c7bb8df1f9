"""The rules in force, read from the stored access and policy entries.

Rule entries are few (a handful per user and per policy) and found by the kind index, so
the state is folded from them (`ledger.governance.RulesState`) rather than kept in tables
that could drift from the log: nothing but the entries says who holds a role. `RulesReader`
keeps the state of one process up to date by reading only the rule entries written since
its last read, which is what authentication does on every request (a revoked key stops
working at once, whichever replica recorded the revocation).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ledger.governance import RulesState
from ledger.log.entries import ROW_SEQ, entry_from_row
from ledger.store._sql import Statements

Fetch = Callable[[str, tuple[Any, ...]], list[tuple[Any, ...]]]


class RulesReader:
    """The current `RulesState` of a store, refreshed incrementally; thread-safe."""

    def __init__(self, fetch: Fetch, sql: Statements) -> None:
        self._fetch = fetch
        self._sql = sql
        self._state = RulesState()
        self._lock = threading.Lock()

    def current(self) -> RulesState:
        """The rules as of every stored entry. Never changed once returned (new rule entries
        make a new state), so callers may keep it but must not change it."""
        with self._lock:
            rows = self._fetch(self._sql.rule_entries_after, (self._state.upto,))
            if rows:
                self._state = fold(self._state.copy(), rows)
            return self._state

    def before(self, seq: int) -> RulesState:
        """The rules in force for the entry at `seq`: every rule entry before it applied."""
        state = RulesState()
        rows = self._fetch(self._sql.rule_entries_after, (-1,))
        fold(state, [row for row in rows if int(row[ROW_SEQ]) < seq])
        return state


def fold(state: RulesState, rows: list[tuple[Any, ...]]) -> RulesState:
    """Apply entry rows (`ROW_FIELDS` order, seq order) to `state`; return it."""
    for row in rows:
        entry = entry_from_row(row)
        state.apply(entry.seq, entry.entry_hash, entry.statement)
    return state
