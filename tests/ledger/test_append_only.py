"""Append-only in the database: UPDATE, DELETE (and on PostgreSQL TRUNCATE) of entries, Merkle
nodes and checkpoints are refused by the triggers the migrations install, whoever asks."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import exc, text

from ledger.store import LedgerStore
from tests.ledger.factories import note, training

# (table, key column, a column to change, the new value)
TABLES = [
    ("entries", "seq", "reason", "'rewritten'"),
    ("merkle_nodes", "node_id", "hash", "hash"),
    ("checkpoints", "size", "note", "'forged'"),
]


@pytest.fixture
def filled(store: LedgerStore) -> LedgerStore:
    """A ledger with entries, Merkle nodes (the store keeps subtrees of 16 leaves and more)
    and a checkpoint."""
    store.append(training())
    store.append_batch([note(str(i)) for i in range(40)])
    store.checkpoint()
    return store


def _snapshot(store: LedgerStore, table: str, key: str) -> list[tuple[object, ...]]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY {key}"))]


def _refused(store: LedgerStore, sql: str) -> None:
    with pytest.raises(exc.DBAPIError, match="append-only"):
        with store.engine.begin() as conn:
            conn.execute(text(sql))


@pytest.mark.parametrize(("table", "key", "column", "value"), TABLES)
def test_update_is_refused_by_the_database(
    filled: LedgerStore, table: str, key: str, column: str, value: str
) -> None:
    before = _snapshot(filled, table, key)
    assert before
    if table == "merkle_nodes":  # change the hash to another valid-looking one
        value = "(SELECT hash FROM merkle_nodes ORDER BY node_id DESC LIMIT 1)"
    _refused(filled, f"UPDATE {table} SET {column} = {value}")
    _refused(
        filled,
        f"UPDATE {table} SET {column} = {value} WHERE {key} = (SELECT min({key}) FROM {table})",
    )
    assert _snapshot(filled, table, key) == before


@pytest.mark.parametrize(("table", "key"), [(t[0], t[1]) for t in TABLES])
def test_delete_is_refused_by_the_database(filled: LedgerStore, table: str, key: str) -> None:
    before = _snapshot(filled, table, key)
    assert before
    _refused(filled, f"DELETE FROM {table} WHERE {key} = (SELECT max({key}) FROM {table})")
    _refused(filled, f"DELETE FROM {table}")
    assert _snapshot(filled, table, key) == before


def test_the_seq_of_an_entry_cannot_be_moved(filled: LedgerStore) -> None:
    before = _snapshot(filled, "entries", "seq")
    _refused(filled, "UPDATE entries SET seq = seq + 100 WHERE seq = 4")
    assert _snapshot(filled, "entries", "seq") == before


@pytest.mark.postgres
@pytest.mark.parametrize("table", [t[0] for t in TABLES])
def test_truncate_is_refused_by_postgresql(
    pg_url: str, make_ledger: Callable[..., LedgerStore], table: str
) -> None:
    store = make_ledger(pg_url)
    store.append(training())
    store.append_batch([note(str(i)) for i in range(20)])
    store.checkpoint()
    key = {t[0]: t[1] for t in TABLES}[table]
    before = _snapshot(store, table, key)
    assert before
    _refused(store, f"TRUNCATE {table}")
    _refused(store, f"TRUNCATE {table} CASCADE")
    assert _snapshot(store, table, key) == before


def test_appends_still_work_after_refused_changes(filled: LedgerStore) -> None:
    _refused(filled, "DELETE FROM entries")
    entry = filled.append(note("after"))
    assert entry.seq == 41
