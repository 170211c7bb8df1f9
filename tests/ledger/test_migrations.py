"""Migrating a ledger that holds entries: revision 0004 rebuilds SQLite's append-only tables
and replaces the signature constraint; 0005 drops the recorded_at index and narrows the kind
index to the rare kinds. Nothing in the log may change: the same rows, the same root, every
proof against a checkpoint issued before the migration still verifying, the same answers to
queries by time and kind, and the append-only triggers and uniqueness rules still enforced
by the database afterwards."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable

import pytest
from sqlalchemy import exc, text

from ledger import merkle, migrate
from ledger.appender import Appender
from ledger.bootstrap import init_ledger
from ledger.facts import TransactionFacts
from ledger.settings import LedgerSettings
from ledger.store import EntryFilter, LedgerStore
from ledger.verify import verify_ledger
from tests.ledger.factories import Actor, note, training


def _rows(store: LedgerStore, table: str, key: str) -> list[tuple[object, ...]]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY {key}"))]


def _as_before_0006(patch: pytest.MonkeyPatch) -> None:
    """Make the writer behave as it did before revision 0006 created `signed_statements`:
    it neither wrote nor asked that table (replays were refused by signature text only)."""
    patch.setattr(Appender, "_index_signed", lambda self, tx, created: None)
    patch.setattr(TransactionFacts, "signature_seen", lambda self, signature, digest: False)


def _filled_at(
    revision: str,
    settings: LedgerSettings,
    monkeypatch: pytest.MonkeyPatch,
    fill: Callable[[LedgerStore], None] | None = None,
) -> LedgerStore:
    """A ledger created and filled by the schema (and writer) of `revision`; `fill` adds
    more entries with that writer."""
    with monkeypatch.context() as patch:
        patch.setattr(migrate, "upgrade", functools.partial(migrate.upgrade, revision=revision))
        store = init_ledger(settings, origin="migrations.example/ledger")
    with monkeypatch.context() as patch:
        if revision < "0006":
            _as_before_0006(patch)
        validator = Actor.make("vera")
        store.append(validator.register())
        run = store.append(training("1.0"))
        store.append(validator.approve(run, role="validator"))
        for batch in range(3):  # three batches, three recorded_at times
            store.append_batch([note(f"before {batch}.{i}") for i in range(13)])
        if fill is not None:
            fill(store)
        store.checkpoint()
    return store


@pytest.fixture
def ledger_at_0003(
    settings: LedgerSettings, monkeypatch: pytest.MonkeyPatch
) -> Callable[[], LedgerStore]:
    """A ledger created and filled by the schema of revision 0003 (before 0004 existed)."""
    return functools.partial(_filled_at, "0003", settings, monkeypatch)


def _index_names(store: LedgerStore) -> set[str]:
    with store.engine.connect() as conn:
        if store.engine.dialect.name == "sqlite":
            query = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'entries'"
        else:
            query = "SELECT indexname FROM pg_indexes WHERE tablename = 'entries'"
        return {str(name) for (name,) in conn.execute(text(query))}


def _answers(store: LedgerStore) -> list[list[int]]:
    """The seqs of a few queries by time and by kind."""
    times = sorted({e.recorded_at for e in store.iter_entries()})
    queries = [
        EntryFilter(since=times[1]),
        EntryFilter(until=times[2]),
        EntryFilter(since=times[1], until=times[-1], kind="note"),
        EntryFilter(kind="approval.granted"),
        EntryFilter(kind="key.registered", actor="vera"),
        EntryFilter(kind="note", model=""),
    ]
    return [[e.seq for e in store.list_entries(q, limit=1000)] for q in queries]


def test_0005_drops_two_indexes_and_keeps_every_row_and_answer(
    settings: LedgerSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _filled_at("0004", settings, monkeypatch)
    assert {"ix_entries_recorded_at", "ix_entries_kind"} <= _index_names(store)
    rows = _rows(store, "entries", "seq")
    answers = _answers(store)
    assert all(answers) and answers[0] != answers[1]

    migrate.upgrade(store.engine)

    indexes = _index_names(store)
    assert "ix_entries_governance_kind" in indexes
    assert not {"ix_entries_recorded_at", "ix_entries_kind"} & indexes
    assert _rows(store, "entries", "seq") == rows
    assert _answers(store) == answers
    assert verify_ledger(store).ok


def test_0004_keeps_every_row_root_and_proof_of_a_filled_ledger(
    ledger_at_0003: Callable[[], LedgerStore],
) -> None:
    store = ledger_at_0003()
    checkpoint = store.latest_checkpoint()
    assert checkpoint is not None
    before = {
        table: _rows(store, table, key)
        for table, key in (("entries", "seq"), ("merkle_nodes", "node_id"), ("checkpoints", "size"))
    }

    migrate.upgrade(store.engine)

    assert migrate.is_current(store.engine)
    for table, key in (("entries", "seq"), ("merkle_nodes", "node_id"), ("checkpoints", "size")):
        assert _rows(store, table, key) == before[table], table
    for seq in (0, 2, checkpoint.size - 1):
        proof = store.inclusion_proof(seq, checkpoint.size)
        assert proof.root == checkpoint.root
        assert merkle.verify_inclusion(proof.leaf, seq, checkpoint.size, proof.proof, proof.root)
    store.append_batch([note(f"after {i}") for i in range(5)])
    newer = store.checkpoint()
    consistency = store.consistency_proof(checkpoint.size, newer.size)
    assert merkle.verify_consistency(
        checkpoint.size, newer.size, checkpoint.root, newer.root, consistency.proof
    )
    report = verify_ledger(store)
    assert report.ok, report
    assert report.size == checkpoint.size + 5


@pytest.mark.parametrize(
    ("table", "sql"),
    [
        ("entries", "UPDATE entries SET reason = 'rewritten'"),
        ("entries", "DELETE FROM entries WHERE seq = 1"),
        ("merkle_nodes", "DELETE FROM merkle_nodes"),
        ("checkpoints", "UPDATE checkpoints SET note = 'forged'"),
    ],
)
def test_0004_reinstalls_the_append_only_triggers(
    ledger_at_0003: Callable[[], LedgerStore], table: str, sql: str
) -> None:
    store = ledger_at_0003()
    migrate.upgrade(store.engine)
    key = {"entries": "seq", "merkle_nodes": "node_id", "checkpoints": "size"}[table]
    before = _rows(store, table, key)
    with pytest.raises(exc.DBAPIError, match="append-only"):
        with store.engine.begin() as conn:
            conn.execute(text(sql))
    assert _rows(store, table, key) == before


def _copy_of(seq: int, *, new_seq: int, signature: str) -> str:
    """SQL inserting a copy of entry `seq` under a new seq, id and hash, with `signature`."""
    columns = (
        "seq, entry_id, recorded_at, kind, model, version, actor, reason, payload, "
        "issued_at, signature, key_id, prev_hash, entry_hash"
    )
    return (
        f"INSERT INTO entries ({columns}) SELECT {new_seq}, 'copy-{new_seq}', recorded_at, "
        f"kind, model, version, actor, reason, payload, issued_at, {signature}, key_id, "
        f"prev_hash, :entry_hash FROM entries WHERE seq = {seq}"
    )


def test_a_signature_is_still_unique_in_the_database(store: LedgerStore) -> None:
    """Admission refuses a replayed signature first; the index is the database's own guard.
    Unsigned rows (NULL) are outside the partial index, and any number may exist."""
    signed = store.append(Actor.make("vera").register())
    with pytest.raises(exc.IntegrityError):
        with store.engine.begin() as conn:
            conn.execute(
                text(_copy_of(signed.seq, new_seq=1000, signature="signature")),
                {"entry_hash": bytes(32)},
            )
    with store.engine.begin() as conn:
        for new_seq in (1001, 1002):
            conn.execute(
                text(_copy_of(signed.seq, new_seq=new_seq, signature="NULL")),
                {"entry_hash": new_seq.to_bytes(32, "big")},
            )
    assert [row[0] for row in _rows(store, "entries", "seq")] == [signed.seq, 1001, 1002]


def test_sqlite_entries_are_keyed_by_seq_alone(store: LedgerStore) -> None:
    """`seq` is the rowid: no second tree per append-only table, and unsigned entries stay
    out of the signature index (fewer pages written by each append)."""
    if store.engine.dialect.name != "sqlite":
        pytest.skip("the rowid layout is SQLite's")
    store.append_batch([note(str(i)) for i in range(20)])
    path = store.engine.url.database
    assert path
    with sqlite3.connect(path) as conn:
        for table in ("entries", "merkle_nodes", "checkpoints"):
            automatic = conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                "AND name LIKE 'sqlite_autoindex_%'",
                (table,),
            ).fetchall()
            unique_columns = {
                conn.execute(f"PRAGMA index_info('{name}')").fetchone()[2] for (name,) in automatic
            }
            assert unique_columns <= {"entry_id", "entry_hash"}, table
        partial = {row[1]: row[4] for row in conn.execute("PRAGMA index_list('entries')")}
        assert partial["ux_entries_signature"] == 1
        assert "SEARCH entries USING INTEGER PRIMARY KEY (rowid=?)" in " ".join(
            str(row[3])
            for row in conn.execute("EXPLAIN QUERY PLAN SELECT * FROM entries WHERE seq = 5")
        )
