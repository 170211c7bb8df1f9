"""The append path's queries use the indexes they were written for (SQLite's planner).

A query that scans instead of seeking still returns the right rows, so only its cost shows it:
a batch append that slowed from 0.5 s to 14 s at a million entries, because SQLite chose the
kind index for the group's facts. These checks read the plan of each hot query on a ledger
created by the real migrations.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import event

from ledger.store import EntryFilter, LedgerSettings, init_ledger, open_ledger, statements_for

SQL = statements_for("sqlite")


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("plans")
    path = folder / "plans.db"
    store = init_ledger(
        LedgerSettings(database_url=f"sqlite:///{path}", home=folder / "home"),
        origin="plans.example/ledger",
    )
    store.engine.dispose()
    return path


def plan(database: Path, sql: str) -> str:
    with sqlite3.connect(database) as conn:
        rows = conn.execute("EXPLAIN QUERY PLAN " + sql, ["x"] * sql.count("?")).fetchall()
    return " | ".join(str(row[3]) for row in rows)


@pytest.mark.parametrize("pairs", [1, 3, SQL.FACT_PAIRS_PER_QUERY])
def test_group_facts_seek_each_pair_in_the_model_version_index(database: Path, pairs: int) -> None:
    text = plan(database, SQL.group_facts(pairs))
    index = "SEARCH e USING INDEX ix_entries_model_version_kind (model=? AND version=? AND kind=?)"
    assert index in text
    assert "ix_entries_governance_kind" not in text


@pytest.mark.parametrize(
    ("query", "index"),
    [
        ("run_for", "ix_entries_model_version_kind (model=? AND version=? AND kind=?)"),
        ("decisions_for", "ix_entries_model_version_kind (model=? AND version=? AND kind=?)"),
        ("catalogue_payloads", "ix_entries_model_version_kind (model=? AND version=? AND kind=?)"),
        ("catalogue_rows", "ix_entries_model_version_kind (model=? AND version=? AND kind=?)"),
        ("oversight_rows", "ix_entries_model_version_kind (model=? AND version=? AND kind=?)"),
        ("monitoring_rows", "ix_entries_model_version_kind (model=? AND version=? AND kind=?)"),
        ("model_known", "ix_entries_model_version_kind (model=?)"),
        ("retired", "ix_entries_model_version_kind (model=? AND version=? AND kind=?)"),
        ("decision_row", "(decision_id=?)"),
        ("batch_leaves", "(batch_seq=?)"),
        ("signature_seen", "(signature=?)"),
        ("subject_by_hash", "(entry_hash=?)"),
        ("signature_seen", "(statement_digest=?)"),
        ("find_idempotency", "(key=?)"),
    ],
)
def test_admission_queries_seek_an_index(database: Path, query: str, index: str) -> None:
    text = plan(database, getattr(SQL, query))
    assert "SEARCH" in text and index in text, text
    assert "SCAN" not in text, text


@pytest.mark.parametrize(
    ("query", "index"),
    [
        ("key_events", "ix_entries_governance_kind (kind=?)"),
        ("recorded_from", "INTEGER PRIMARY KEY (rowid>?)"),
    ],
)
def test_reads_without_a_time_or_full_kind_index_still_seek(
    database: Path, query: str, index: str
) -> None:
    text = plan(database, getattr(SQL, query))
    assert "SEARCH" in text and index in text, text
    assert "SCAN" not in text, text


def _listing_plan(database: Path, filters: EntryFilter) -> str:
    """The plan of the query `LedgerStore.list_entries` sends for these filters."""
    store = open_ledger(LedgerSettings(database_url=f"sqlite:///{database}", home=database.parent))
    sent: list[tuple[str, tuple[object, ...]]] = []

    def log(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if statement.startswith("SELECT entries.seq, entries.entry_id"):
            sent.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", log)
    try:
        store.list_entries(filters, limit=10)
    finally:
        store.engine.dispose()
    [(statement, parameters)] = sent
    with sqlite3.connect(database) as conn:
        rows = conn.execute("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
    return " | ".join(str(row[3]) for row in rows)


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        (EntryFilter(kind="approval.granted"), "ix_entries_governance_kind (kind=? AND rowid>?)"),
        (EntryFilter(kind="deployment.promoted", actor="olga"), "ix_entries_"),
        (EntryFilter(kind="note"), "INTEGER PRIMARY KEY (rowid>?)"),
        (
            EntryFilter(since="2026-01-01T00:00:00Z", until="2027-01-01T00:00:00Z"),
            "INTEGER PRIMARY KEY (rowid>? AND rowid<?)",
        ),
        (
            EntryFilter(model="m", version="1"),
            "ix_entries_model_version_kind (model=? AND version=?",
        ),
    ],
)
def test_listings_by_rare_kind_and_by_time_seek(
    database: Path, filters: EntryFilter, index: str
) -> None:
    text = _listing_plan(database, filters)
    assert "SEARCH" in text and index in text, text
    assert "SCAN" not in text, text
