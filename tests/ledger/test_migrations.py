"""Migrating a ledger that holds entries: revision 0004 rebuilds SQLite's append-only tables
and replaces the signature constraint; 0005 drops the recorded_at index and narrows the kind
index to the rare kinds; 0006 adds the signed statements (the replay guard), back-filled.
Nothing in the log may change: the same rows, the same root, every proof against a
checkpoint issued before the migration still verifying, the same answers to queries by time
and kind, and the append-only triggers and uniqueness rules still enforced by the database
afterwards. And the one schema module, `ledger.store._tables`, describes exactly the database
the migrations make: autogenerate finds nothing to add, drop or alter."""

from __future__ import annotations

import base64
import functools
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, MetaData, String, Table, exc, inspect, text
from sqlalchemy.engine import Connection

from ledger.errors import ReplayedStatement
from ledger.log import merkle, signing
from ledger.log.entries import Entry
from ledger.store import EntryFilter, LedgerSettings, LedgerStore, init_ledger
from ledger.store import _migrate as migrate
from ledger.store import _tables as tables
from ledger.store._appender import Appender
from ledger.store._transaction_facts import TransactionFacts
from ledger.verify import Problem, verify_ledger
from tests.ledger.factories import Actor, note, training
from tests.ledger.tamper import append_bypassing_admission, reencoded


def _rows(store: LedgerStore, table: str, key: str) -> list[tuple[object, ...]]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY {key}"))]


def _as_before_0006(patch: pytest.MonkeyPatch) -> None:
    """Make the writer behave as it did before revision 0006 created `signed_statements`:
    it neither wrote nor asked that table (replays were refused by signature text only)."""
    patch.setattr(Appender, "_index_signed", lambda self, tx, created: None)
    patch.setattr(TransactionFacts, "signature_seen", lambda self, signature, digest: False)


_real_upgrade = migrate.upgrade


def _upgrade_at_most(target: str, engine: Any, revision: str = "head") -> None:
    """`migrate.upgrade` that never goes past `target` (the release a test starts from)."""
    _real_upgrade(engine, target if revision == "head" or revision > target else revision)


def _filled_at(
    revision: str,
    settings: LedgerSettings,
    monkeypatch: pytest.MonkeyPatch,
    fill: Callable[[LedgerStore], None] | None = None,
) -> LedgerStore:
    """A ledger created and filled by the schema (and writer) of `revision`; `fill` adds
    more entries with that writer."""
    with monkeypatch.context() as patch:
        patch.setattr(migrate, "upgrade", functools.partial(_upgrade_at_most, revision))
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


def _signed_rows(store: LedgerStore) -> list[tuple[int, bytes, bytes]]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT seq, statement_digest, signature FROM signed_statements ORDER BY seq")
        )
        return [(int(seq), bytes(digest), bytes(sig)) for seq, digest, sig in rows]


def test_0006_back_fills_the_signed_statements_keeping_the_first_of_a_replay(
    settings: LedgerSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 0005 ledger holding two replays of an approval, one admitted by the old writer (the
    same statement signed by the actor's second key) and one written around admission (the
    same signature bytes in another base64 spelling), migrates without error; the table keeps
    the first of each, verification reports the first replay, and admission now refuses a
    third copy from the table."""
    second_key = Actor.make("vera")
    written: dict[str, Entry] = {}

    def fill(store: LedgerStore) -> None:
        approval = next(e for e in store.iter_entries() if e.statement.kind == "approval.granted")
        written["approval"] = approval
        written["second key"] = store.append(second_key.register())
        signed = second_key.sign(approval.statement)  # what the old writer admitted (today a
        # repeated decision is refused before its replay is looked at)
        written["same statement"] = append_bypassing_admission(
            store, approval.statement, signature=signed.signature, key_id=signed.key_id
        )
        assert approval.signature is not None
        written["re-encoded"] = append_bypassing_admission(
            store,
            approval.statement,
            signature=reencoded(approval.signature),
            key_id=approval.key_id,
        )

    store = _filled_at("0005", settings, monkeypatch, fill)
    signed_before = [e.seq for e in store.iter_entries() if e.signature is not None]
    rows = _rows(store, "entries", "seq")

    migrate.upgrade(store.engine)

    assert migrate.is_current(store.engine)
    assert _rows(store, "entries", "seq") == rows
    kept = _signed_rows(store)
    replays = {written["same statement"].seq, written["re-encoded"].seq}
    assert [seq for seq, _, _ in kept] == [s for s in signed_before if s not in replays]
    approval = written["approval"]
    assert approval.signature is not None
    assert (
        approval.seq,
        signing.statement_digest(approval.statement.signing_bytes()),
        base64.b64decode(approval.signature),
    ) in kept
    report = verify_ledger(store)
    assert not report.ok
    assert report.problem is Problem.REPLAYED_SIGNATURE
    assert report.first_bad_seq == written["same statement"].seq
    size = store.size()
    with pytest.raises(ReplayedStatement):
        store.append(second_key.sign(approval.statement))
    assert store.size() == size


@pytest.mark.parametrize(
    "sql", ["UPDATE signed_statements SET seq = seq + 100", "DELETE FROM signed_statements"]
)
def test_0006_signed_statements_are_append_only(
    settings: LedgerSettings, monkeypatch: pytest.MonkeyPatch, sql: str
) -> None:
    store = _filled_at("0005", settings, monkeypatch)
    migrate.upgrade(store.engine)
    before = _signed_rows(store)
    assert len(before) == 2  # the key registration and the approval
    with pytest.raises(exc.DBAPIError, match="append-only"):
        with store.engine.begin() as conn:
            conn.execute(text(sql))
    assert _signed_rows(store) == before


def test_only_signed_entries_add_a_signed_statements_row(store: LedgerStore) -> None:
    """The replay guard costs unsigned appends nothing: no row, no index page."""
    vera = Actor.make("vera")
    registered = store.append(vera.register())
    store.append_batch([note(str(i)) for i in range(20)])
    assert [seq for seq, _, _ in _signed_rows(store)] == [registered.seq]


def test_the_database_refuses_a_second_row_with_the_same_signature_bytes(
    store: LedgerStore,
) -> None:
    """Admission refuses a replay first; the UNIQUE constraints are the database's own guard,
    whatever base64 spelling the entry's text uses."""
    signed = store.append(Actor.make("vera").register())
    [(_, digest, signature)] = _signed_rows(store)
    for row in (
        {"digest": bytes(32), "signature": signature},
        {"digest": digest, "signature": bytes(64)},
    ):
        with pytest.raises(exc.IntegrityError):
            with store.engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO signed_statements (seq, statement_digest, signature) "
                        "VALUES (:seq, :digest, :signature)"
                    ),
                    {"seq": signed.seq + 1, **row},
                )
    assert len(_signed_rows(store)) == 1


def _schema_differences(connection: Connection, metadata: MetaData) -> list[Any]:
    """What `alembic revision --autogenerate` would write to make the database match
    `metadata`: tables, columns and their types, server defaults, indexes, unique and
    foreign-key constraints.

    SQLAlchemy's SQLite reflection misses an inline UNIQUE that follows a type with a length
    (`entry_id VARCHAR(36) NOT NULL UNIQUE`, the table migration 0004 rebuilt), so there a
    missing unique constraint counts as a difference only if the database holds no unique
    index on exactly those columns either (`PRAGMA index_list`, which SQLite itself keeps)."""
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    differences = compare_metadata(context, metadata)
    if connection.dialect.name != "sqlite":
        return differences

    def enforced(diff: Any) -> bool:
        if not (isinstance(diff, tuple) and diff[0] == "add_constraint"):
            return False
        constraint = diff[1]
        columns = [c.name for c in constraint.columns]
        for _, name, unique, *_ in connection.exec_driver_sql(
            f"PRAGMA index_list('{constraint.table.name}')"
        ):
            indexed = connection.exec_driver_sql(f"PRAGMA index_info('{name}')").all()
            if unique and [row[2] for row in indexed] == columns:
                return True
        return False

    return [diff for diff in differences if not enforced(diff)]


def _what_changes(diff: Any) -> tuple[str, str]:
    """(operation, what it changes) of one autogenerate difference."""
    if isinstance(diff, list):  # the changes to one column come as a list of tuples
        operation, _, table, column = diff[0][:4]
        return operation, f"{table}.{column}"
    if diff[0] == "add_column":
        return diff[0], f"{diff[2]}.{diff[3].name}"
    return diff[0], diff[1].name


def test_the_schema_module_describes_exactly_the_migrated_database(store: LedgerStore) -> None:
    """Every table the migrations create, and nothing else, is in the one `MetaData`, with
    the same columns, types, keys and indexes; a changed description is a difference."""
    with store.engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) - {"alembic_version"} == set(
            tables.metadata.tables
        )
        assert _schema_differences(conn, tables.metadata) == []

        altered = MetaData()
        for table in tables.metadata.tables.values():
            if table.name != "web_sessions":
                table.to_metadata(altered)
        altered.tables["checkpoints"].append_column(Column("nickname", String(40)))
        altered.tables["ledger_meta"].c.value.type = String(10)
        Table("roles", altered, Column("name", String(40), primary_key=True))
        found = {_what_changes(diff) for diff in _schema_differences(conn, altered)}
    assert found == {
        ("add_table", "roles"),
        ("remove_table", "web_sessions"),
        ("remove_index", "ix_web_sessions_user_name"),
        ("remove_index", "ix_web_sessions_expires_at"),
        ("add_column", "checkpoints.nickname"),
        ("modify_type", "ledger_meta.value"),
    }


@pytest.mark.postgres
def test_alembic_check_through_the_environment_finds_nothing_to_migrate(
    pg_url: str, make_ledger: Callable[..., LedgerStore]
) -> None:
    """`alembic check` (autogenerate with migrations/env.py's `target_metadata`) agrees that
    the migrated database is what `ledger.store._tables` describes. PostgreSQL only: SQLite's
    reflection gap (see `_schema_differences`) would be reported by `alembic check` there."""
    store = make_ledger(pg_url)
    config = Config()
    config.set_main_option("script_location", str(Path(migrate.__file__).parents[2] / "migrations"))
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.check(config)  # raises AutogenerateDiffsDetected, naming each difference


def test_0007_carries_the_access_tables_into_the_log_as_the_initial_access_set(
    settings: LedgerSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 0006 ledger's users and API keys become marked initial entries at `govledger init`;
    the keys issued before keep working, the log before the upgrade is a prefix of the log
    after it, and the tables are gone."""
    from api.service import IdentityStore, Unauthenticated
    from api.service._identity import hash_secret

    store = _filled_at("0006", settings, monkeypatch)
    secret, revoked_secret = "s" * 43, "r" * 43
    with store.engine.begin() as conn:
        for name, roles, disabled in [
            ("adam", "admin", None),
            ("victor", "validator,viewer", None),
            ("gone", "approver", "2026-11-02T00:00:00Z"),
        ]:
            conn.execute(
                text(
                    "INSERT INTO users (name, roles, created_at, disabled_at) "
                    "VALUES (:n, :r, '2026-11-01T00:00:00Z', :d)"
                ),
                {"n": name, "r": roles, "d": disabled},
            )
        for key_id, user, key_secret, revoked in [
            ("0123456789abcdef", "victor", secret, None),
            ("fedcba9876543210", "victor", revoked_secret, "2026-11-03T00:00:00Z"),
            ("00000000000000aa", "gone", secret, None),
        ]:
            conn.execute(
                text(
                    "INSERT INTO api_keys (key_id, user_name, secret_hash, created_at, "
                    "revoked_at) VALUES (:k, :u, :h, '2026-11-01T00:00:00Z', :r)"
                ),
                {"k": key_id, "u": user, "h": hash_secret(key_secret), "r": revoked},
            )
        conn.execute(
            text(
                "INSERT INTO web_sessions (token_hash, user_name, key_id, created_at, "
                "expires_at) VALUES (:t, 'victor', '0123456789abcdef', "
                "'2026-11-01T00:00:00Z', '2999-01-01T00:00:00Z')"
            ),
            {"t": b"\x01" * 32},
        )
    size_before = store.size()
    root_before = store.root_at(size_before)
    store.engine.dispose()

    upgraded = init_ledger(settings)  # the upgrade: 0006 -> carry the access over -> 0007
    with upgraded.engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
        sessions = conn.execute(text("SELECT user_name, key_id FROM web_sessions")).all()
    assert {"users", "api_keys"}.isdisjoint(names)
    assert [tuple(r) for r in sessions] == [("victor", "0123456789abcdef")]
    carried = [upgraded.entry(seq) for seq in range(size_before, upgraded.size())]
    assert {e.statement.actor for e in carried} == {"govledger"}
    assert {e.statement.payload["initial"] for e in carried} == {"migrated"}
    assert sorted(e.statement.kind for e in carried) == sorted(
        ["access.user_created"] * 3
        + ["access.key_issued"]  # victor's live key; the revoked one and gone's are left out
        + ["access.granted"] * 3  # adam admin, victor validator and viewer; gone: none
        + ["policy.proposed"]
    )
    assert upgraded.root_at(size_before) == root_before
    assert verify_ledger(upgraded).ok

    identities = IdentityStore(upgraded)
    victor = identities.authenticate(f"glk_0123456789abcdef_{secret}")
    assert victor.name == "victor" and {r.value for r in victor.roles} == {"validator", "viewer"}
    for token in (f"glk_fedcba9876543210_{revoked_secret}", f"glk_00000000000000aa_{secret}"):
        with pytest.raises(Unauthenticated):
            identities.authenticate(token)
    rules = upgraded.rules()
    assert rules.admins() == ["adam"]
    assert rules.roles_of("gone") == frozenset()
    in_force = rules.policy_for("high", "production")
    assert in_force is not None and in_force.initial == "migrated"
    assert dict(in_force.required) == dict(upgraded.policy.required)

    size_after = upgraded.size()
    upgraded.engine.dispose()
    again = init_ledger(settings)  # a second init carries nothing twice
    assert again.size() == size_after
    again.engine.dispose()


def test_0008_adds_the_webhook_outbox_and_changes_nothing_in_the_log(
    settings: LedgerSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 0007 ledger (the previous release) upgrades to the outbox tables with every entry,
    node and checkpoint as before; no cursor row is made, so the first notifier starts at
    the head and announces nothing of the history; the events of new entries follow."""
    from ledger.store import cursor_seq, record_entry_events

    store = _filled_at("0007", settings, monkeypatch)
    with store.engine.connect() as conn:
        assert "webhook_events" not in inspect(conn).get_table_names()
    before = {
        table: _rows(store, table, key)
        for table, key in (("entries", "seq"), ("merkle_nodes", "node_id"), ("checkpoints", "size"))
    }

    migrate.upgrade(store.engine)

    assert migrate.is_current(store.engine)
    for table, key in (("entries", "seq"), ("merkle_nodes", "node_id"), ("checkpoints", "size")):
        assert _rows(store, table, key) == before[table], table
    assert _rows(store, "webhook_cursor", "id") == []
    assert cursor_seq(store) == store.size() - 1
    assert record_entry_events(store) == 0
    run = store.append(training("2.0"))
    assert record_entry_events(store) == 1
    assert [row[3] for row in _rows(store, "webhook_events", "id")] == [
        f"entry:{run.seq}:approval.requested"
    ]
    assert verify_ledger(store).ok


def test_0009_adds_the_decision_store_and_an_applicant_key_and_changes_nothing_in_the_log(
    settings: LedgerSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 0008 ledger (the previous release, which had no applicant key) upgrades by `govledger
    init` to the detail store of scoring decisions, the (model, version, kind) index and a new
    0600 applicant key, with every entry, node and checkpoint as before; decisions record."""
    from tests.ledger.scoring_story import decisions, record, write_scoring_story

    store = _filled_at("0008", settings, monkeypatch)
    settings.applicant_key_path.unlink()  # 0008's init made none
    store.engine.dispose()
    with store.engine.connect() as conn:
        assert "scoring_decisions" not in inspect(conn).get_table_names()
    before = {
        table: _rows(store, table, key)
        for table, key in (("entries", "seq"), ("merkle_nodes", "node_id"), ("checkpoints", "size"))
    }
    assert "ix_entries_model_version" in _index_names(store)

    upgraded = init_ledger(settings)

    assert migrate.is_current(upgraded.engine)
    for table, key in (("entries", "seq"), ("merkle_nodes", "node_id"), ("checkpoints", "size")):
        assert _rows(upgraded, table, key) == before[table], table
    names = _index_names(upgraded)
    assert "ix_entries_model_version_kind" in names and "ix_entries_model_version" not in names
    assert settings.applicant_key_path.stat().st_mode & 0o777 == 0o600
    write_scoring_story(upgraded, "2.0")
    entry = record(upgraded, decisions(3), version="2.0")
    assert upgraded.decision("d-000001")["batch_seq"] == entry.seq
    assert verify_ledger(upgraded).ok
    upgraded.engine.dispose()


def test_0010_adds_the_witness_cosignatures_and_changes_nothing_in_the_log(
    settings: LedgerSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 0009 ledger (the release before) upgrades to the cosignature table, empty, with
    every entry, node and checkpoint as before; a stored line is served for its size only."""
    from ledger.store import cosignature_lines, cosigned_size, record_cosignature

    store = _filled_at("0009", settings, monkeypatch)
    tables = (("entries", "seq"), ("merkle_nodes", "node_id"), ("checkpoints", "size"))
    before = {table: _rows(store, table, key) for table, key in tables}

    migrate.upgrade(store.engine)

    assert migrate.is_current(store.engine)
    for table, key in tables:
        assert _rows(store, table, key) == before[table], table
    assert cosigned_size(store, "w") == 0
    record_cosignature(store, "w", 3, "\u2014 w AAAA")
    record_cosignature(store, "w", 3, "\u2014 w BBBB")  # the first line kept
    assert cosignature_lines(store, 3) == ["\u2014 w AAAA"] and cosignature_lines(store, 4) == []
    assert cosigned_size(store, "w") == 3
    assert verify_ledger(store).ok


def test_0011_widens_the_signature_columns_for_passkeys_and_changes_nothing_in_the_log(
    settings: LedgerSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 0010 ledger (the release before) upgrades with every entry, node and key as before;
    its Ed25519 keys keep signing, and a passkey registers and signs after the upgrade."""
    from tests.ledger.passkeys import PasskeyActor

    store = _filled_at("0010", settings, monkeypatch)
    tables = (("entries", "seq"), ("merkle_nodes", "node_id"), ("signing_keys", "key_id"))
    before = {table: _rows(store, table, key) for table, key in tables}

    migrate.upgrade(store.engine)

    assert migrate.is_current(store.engine)
    for table, key in tables:
        assert _rows(store, table, key) == before[table], table
    run = next(e for e in store.iter_entries() if e.statement.kind == "run.training")
    approver = PasskeyActor("arjun")
    store.append(approver.register())
    assert store.append(approver.approve(run, role="approver")).key_id == approver.key_id
    store.append(Actor.make("ines").register())
    assert verify_ledger(store).ok


def test_0012_lets_a_session_come_from_single_sign_on_and_keeps_the_key_sessions(
    settings: LedgerSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 0011 ledger's web sessions (each opened with an API key) stay as they were; after
    the upgrade a session may have no key and name an OpenID provider's issuer and subject
    and the roles granted at sign-in; nothing in the log changes. Downgrading drops those
    sessions only."""
    store = _filled_at("0011", settings, monkeypatch)
    tables = (("entries", "seq"), ("merkle_nodes", "node_id"), ("checkpoints", "size"))
    before = {table: _rows(store, table, key) for table, key in tables}
    row = {"t": b"k" * 32, "u": "victor", "k": "0123456789abcdef"}
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO web_sessions (token_hash, user_name, key_id, created_at, "
                "expires_at) VALUES (:t, :u, :k, '2026-12-01T00:00:00Z', '2099-01-01T00:00:00Z')"
            ),
            row,
        )
        with pytest.raises(exc.IntegrityError):  # before 0012 every session names its key
            with conn.begin_nested():
                conn.execute(
                    text(
                        "INSERT INTO web_sessions (token_hash, user_name, created_at, "
                        "expires_at) VALUES (:t, 'rita', '2026-12-01', '2099-01-01')"
                    ),
                    {"t": b"o" * 32},
                )

    migrate.upgrade(store.engine)

    assert migrate.is_current(store.engine)
    for table, key in tables:
        assert _rows(store, table, key) == before[table], table
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO web_sessions (token_hash, user_name, created_at, expires_at, "
                "issuer, subject, roles) VALUES (:t, 'rita', '2026-12-06T00:00:00Z', "
                "'2099-01-01T00:00:00Z', 'https://idp.bank.example', 'a1b2', 'approver,viewer')"
            ),
            {"t": b"o" * 32},
        )
        sessions = conn.execute(
            text("SELECT user_name, key_id, issuer, roles FROM web_sessions ORDER BY user_name")
        ).all()
    assert [tuple(s) for s in sessions] == [
        ("rita", None, "https://idp.bank.example", "approver,viewer"),
        ("victor", "0123456789abcdef", None, None),
    ]
    assert verify_ledger(store).ok

    config = migrate._alembic_config()
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0011")
    store.engine.dispose()
    with store.engine.connect() as conn:
        kept = conn.execute(text("SELECT user_name, key_id FROM web_sessions")).all()
    assert [tuple(s) for s in kept] == [("victor", "0123456789abcdef")]
