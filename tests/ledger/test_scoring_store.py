"""Scoring decisions in the store: admission, the detail rows written with their entry,
receipts that verify offline, erasure and purge (SQLite; the PostgreSQL twin of ingest and
receipt is tests/api/test_scoring_http.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError

from ledger.errors import (
    DecisionErased,
    DecisionIdTaken,
    DecisionNotServing,
    Forbidden,
    IdempotencyKeyReused,
    ReasonNotInCatalogue,
    ReceiptInvalid,
    RetentionNotOver,
    UnknownDecision,
)
from ledger.governance import Principal, Role
from ledger.log.entries import build_statement
from ledger.log.receipt import check_receipt
from ledger.store import LedgerSettings, LedgerStore, init_ledger
from ledger.verify import verify_decisions
from tests.ledger.factories import MODEL
from tests.ledger.scoring_story import (
    COMPLIANCE,
    SCORER,
    ScoringStory,
    decisions,
    record,
    write_scoring_story,
)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[tuple[LedgerStore, ScoringStory]]:
    settings = LedgerSettings(database_url=f"sqlite:///{tmp_path / 'l.db'}", home=tmp_path / "h")
    store = init_ledger(settings, origin="test.example/scoring")
    yield store, write_scoring_story(store)
    store.close()


def _count(store: LedgerStore) -> int:
    with store.engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM scoring_decisions").scalar() or 0)


def _key(store: LedgerStore) -> str:
    return store.meta()["verifier_key"]


def test_a_batch_is_one_entry_with_its_details_and_each_decision_has_a_receipt(
    ledger: tuple[LedgerStore, ScoringStory],
) -> None:
    store, story = ledger
    entry = record(store, decisions(10))
    payload = entry.statement.payload
    assert payload["count"] == 10 and payload["catalogue"] == story.catalogue.entry_hash.hex()
    assert (
        "d-000001" not in entry.statement.payload_json
        and "app-" not in entry.statement.payload_json
    )
    assert _count(store) == 10
    receipt = store.decision_receipt("d-000003")
    checked = check_receipt(receipt, _key(store))
    assert checked.decision is not None and checked.decision["outcome"] == "decline"
    assert checked.reasons == (
        ("R02", "Amount of credit requested"),
        ("R03", "Insufficient savings"),
    )
    assert checked.promotion_seq == story.promotion.seq and checked.batch_seq == entry.seq
    assert "app-d-3" not in str(receipt)
    receipt["decision"]["score"] = 0.99
    with pytest.raises(ReceiptInvalid, match="altered"):
        check_receipt(receipt, _key(store))


def test_a_refused_batch_writes_nothing_and_names_its_first_bad_decision(
    ledger: tuple[LedgerStore, ScoringStory],
) -> None:
    store, story = ledger
    before, size = _count(store), store.size()
    promoted = datetime.fromisoformat(story.promoted_at[:-1]).replace(tzinfo=UTC)
    early = decisions(3, prefix="early")
    early[2]["decided_at"] = (promoted - timedelta(seconds=5)).isoformat().replace("+00:00", "Z")
    with pytest.raises(DecisionNotServing, match="before it was promoted") as refused:
        record(store, early)
    assert refused.value.row == 2
    odd = decisions(4, prefix="odd")
    odd[3]["reasons"] = ["R99"]
    odd[3]["outcome"] = "decline"
    with pytest.raises(ReasonNotInCatalogue, match="R99") as bad_reason:
        record(store, odd)
    assert bad_reason.value.row == 3
    with pytest.raises(Forbidden):
        store.record_decisions(
            Principal("dana", frozenset({Role.DATA_SCIENTIST})), MODEL, "1.0", "production", odd
        )
    assert (_count(store), store.size()) == (before, size)


def test_a_decision_after_the_version_was_replaced_is_refused(
    ledger: tuple[LedgerStore, ScoringStory],
) -> None:
    store, _ = ledger
    write_scoring_story(store, "1.1")  # promotes 1.1 into production: 1.0 is replaced
    with pytest.raises(DecisionNotServing, match=r"replaced by 1\.1") as refused:
        record(store, decisions(2, prefix="late"))
    assert refused.value.row == 0
    assert record(store, decisions(2, prefix="late"), version="1.1").statement.version == "1.1"


def test_a_decision_id_is_recorded_once_and_a_retry_returns_the_first_batch(
    ledger: tuple[LedgerStore, ScoringStory],
) -> None:
    store, _ = ledger
    rows = decisions(5)
    first = record(store, rows, idempotency_key="batch-1")
    again = record(store, rows, idempotency_key="batch-1")  # new salts, same decisions
    assert again.seq == first.seq and again.entry_hash == first.entry_hash
    with pytest.raises(DecisionIdTaken, match=f"seq {first.seq}") as taken:
        record(store, decisions(2, prefix="x") + rows[3:4])
    assert taken.value.row == 2
    with pytest.raises(IdempotencyKeyReused):
        record(store, decisions(5, prefix="other"), idempotency_key="batch-1")
    assert _count(store) == 5


def test_an_erased_decision_still_proves_its_leaf_and_a_purge_waits_for_retention(
    ledger: tuple[LedgerStore, ScoringStory],
) -> None:
    store, _ = ledger
    record(store, decisions(4))
    erase = build_statement(
        kind="scoring.erased",
        actor=COMPLIANCE.name,
        payload={"decision_ids": ["d-000001"], "legal_basis": "GDPR Art. 17(1)(a)"},
    )
    with pytest.raises(Forbidden):
        store.submit(SCORER, [build_statement(**{**_fields(erase), "actor": SCORER.name})])
    erased = store.submit(COMPLIANCE, [erase])[0]
    receipt = store.decision_receipt("d-000001")
    checked = check_receipt(receipt, _key(store))
    assert checked.decision is None and checked.erased == {
        "seq": erased.seq,
        "kind": "scoring.erased",
        "legal_basis": "GDPR Art. 17(1)(a)",
    }
    assert store.decision("d-000001")["decision"] is None
    with pytest.raises(DecisionErased):
        store.submit(COMPLIANCE, [erase])
    with pytest.raises(UnknownDecision):
        store.submit(COMPLIANCE, [build_statement(**{**_fields(erase), "payload": {
            "decision_ids": ["nope"], "legal_basis": "GDPR Art. 17"}})])  # fmt: skip
    soon = build_statement(
        kind="scoring.purged",
        actor=COMPLIANCE.name,
        payload={"before": "2026-01-01T00:00:00.000000Z", "legal_basis": "12 CFR 1002.12(b)"},
    )
    with pytest.raises(RetentionNotOver, match="25 months"):
        store.submit(COMPLIANCE, [soon])


def test_the_database_refuses_to_change_a_decision_but_to_erase_it(
    ledger: tuple[LedgerStore, ScoringStory],
) -> None:
    store, _ = ledger
    record(store, decisions(2))
    with store.engine.begin() as conn:
        for sql in (
            "UPDATE scoring_decisions SET leaf_hash = x'00' WHERE leaf_index = 0",
            "UPDATE scoring_decisions SET detail = '{}' WHERE leaf_index = 0",
            "DELETE FROM scoring_decisions",
            "DELETE FROM scoring_batches",
        ):
            with pytest.raises((DBAPIError, sqlite3.DatabaseError)):
                with conn.begin_nested():
                    conn.exec_driver_sql(sql)


def test_decisions_of_an_applicant_are_found_by_their_keyed_hash(
    ledger: tuple[LedgerStore, ScoringStory],
) -> None:
    store, _ = ledger
    record(store, decisions(6))
    found = store.decisions_of_applicant("app-d-4")
    assert [d["decision_id"] for d in found] == ["d-000004"]
    assert store.decisions_of_applicant("app-nobody") == []


def _fields(statement: object) -> dict[str, object]:
    st = statement
    return {
        "kind": st.kind,  # type: ignore[attr-defined]
        "actor": st.actor,  # type: ignore[attr-defined]
        "payload": st.payload,  # type: ignore[attr-defined]
    }


def test_decisions_in_an_environment_the_version_never_served_are_refused(
    ledger: tuple[LedgerStore, ScoringStory],
) -> None:
    store, _ = ledger
    with pytest.raises(DecisionNotServing, match="never promoted into staging"):
        store.record_decisions(SCORER, MODEL, "1.0", "staging", decisions(1, prefix="s"))


def _tamper(store: LedgerStore, sql: str) -> None:
    """Change the detail store behind the triggers' back (as an intruder with the file)."""
    path = store.engine.url.database
    assert path is not None
    with sqlite3.connect(path) as conn:
        for trigger in ("scoring_decisions_erase_only", "scoring_decisions_no_delete"):
            conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        conn.execute(sql)


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("UPDATE scoring_decisions SET detail = replace(detail, 'decline', 'approve') "
         "WHERE leaf_index = 3", "leaf-mismatch"),
        ("UPDATE scoring_decisions SET detail = NULL WHERE leaf_index = 4", "details-missing"),
        ("UPDATE scoring_decisions SET detail = NULL, erased_seq = 1 WHERE leaf_index = 4",
         "details-missing"),
        ("DELETE FROM scoring_decisions WHERE leaf_index = 7", "decision-missing"),
        ("UPDATE scoring_decisions SET decision_id = 'd-x' WHERE decision_id = 'd-000002'",
         "leaf-mismatch"),
        ("INSERT INTO scoring_decisions SELECT batch_seq + 1000, leaf_index, decision_id || 'z', "
         "leaf_hash, detail, erased_seq FROM scoring_decisions WHERE leaf_index = 0",
         "decision-missing"),
    ],
)  # fmt: skip
def test_verification_finds_every_change_to_the_detail_store(
    ledger: tuple[LedgerStore, ScoringStory], sql: str, problem: str
) -> None:
    store, _ = ledger
    entry = record(store, decisions(9))
    record(store, decisions(3, prefix="e"))
    assert verify_decisions(store).ok
    _tamper(store, sql)
    report = verify_decisions(store)
    assert not report.ok and report.problem == problem, report.summary()
    assert report.first_bad_seq in (entry.seq, entry.seq + 1000)


def test_verification_reports_erased_decisions_as_erased_in_one_or_two_processes(
    ledger: tuple[LedgerStore, ScoringStory],
) -> None:
    store, _ = ledger
    for batch in range(3):
        record(store, decisions(5, prefix=f"b{batch}"))
    erase = build_statement(
        kind="scoring.erased",
        actor=COMPLIANCE.name,
        payload={"decision_ids": ["b1-000002", "b2-000000"], "legal_basis": "GDPR Art. 17(1)(a)"},
    )
    store.submit(COMPLIANCE, [erase])
    for workers in (1, 2):
        report = verify_decisions(store, workers=workers)
        assert report.ok and report.entries_checked == 15, report.summary()
        assert "2 of them erased" in report.summary()
