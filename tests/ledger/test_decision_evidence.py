"""The evidence a decision cites (EU AI Act Annex IV 2(g): test reports signed by the
responsible persons) must be entries of the decided model already in the ledger."""

from __future__ import annotations

import pytest

from ledger.admission import Submission
from ledger.errors import GovledgerError, InvalidStatement, UnknownEntry
from ledger.records import Entry, build_statement
from ledger.store import LedgerStore
from tests.ledger.factories import MODEL, Actor, evaluation, issued_now, training


def approval(actor: Actor, run: Entry, evidence: list[str]) -> Submission:
    return actor.sign(
        build_statement(
            kind="approval.granted",
            model=MODEL,
            version=run.statement.version,
            actor=actor.name,
            reason="validation report reviewed",
            payload={"role": "validator", "run": run.entry_hash.hex(), "evidence": evidence},
            issued_at=issued_now(),
        )
    )


@pytest.fixture
def vera(store: LedgerStore) -> Actor:
    actor = Actor.make("vera")
    store.append(actor.register())
    return actor


def _refused(store: LedgerStore, error: type[GovledgerError], submission: Submission) -> str:
    size = store.size()
    with pytest.raises(error) as caught:
        store.append(submission)
    assert store.size() == size
    return caught.value.message


def test_an_approval_citing_its_models_evaluation_is_accepted(
    store: LedgerStore, vera: Actor
) -> None:
    run = store.append(training("1.0"))
    report = store.append(evaluation("1.0"))
    entry = store.append(approval(vera, run, [report.entry_hash.hex()]))
    assert entry.statement.payload["evidence"] == [report.entry_hash.hex()]


def test_an_approval_citing_evidence_that_is_no_entry_is_refused(
    store: LedgerStore, vera: Actor
) -> None:
    run = store.append(training("1.0"))
    message = _refused(store, UnknownEntry, approval(vera, run, ["cd" * 32]))
    assert "cd" * 32 in message and "evaluation entries you reviewed" in message


def test_an_approval_citing_another_models_evaluation_is_refused(
    store: LedgerStore, vera: Actor
) -> None:
    store.append(training("1.0", model="fraud-scoring"))
    foreign = store.append(
        build_statement(
            kind="evaluation.recorded",
            model="fraud-scoring",
            version="1.0",
            actor="dana",
            payload={"evaluation": "performance", "summary": {"auc": 0.7}},
        )
    )
    run = store.append(training("1.0"))
    message = _refused(store, InvalidStatement, approval(vera, run, [foreign.entry_hash.hex()]))
    assert "fraud-scoring" in message and MODEL in message
