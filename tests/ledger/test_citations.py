"""What a statement cites by entry_hash (`ledger.citations`) must be an earlier entry of the
right model and kind: the evidence a decision cites (EU AI Act Annex IV 2(g): test reports
signed by the responsible persons), a deployment's approvals, what a note, an oversight
record or a catalogue refers to. Refused at admission with nothing written; caught by
verification when written around it (tests/ledger/test_verify.py)."""

from __future__ import annotations

import pytest

from ledger.errors import GovledgerError, InvalidStatement, UnknownEntry
from ledger.governance import Submission
from ledger.log.entries import Entry, Statement, build_statement
from ledger.store import LedgerStore
from tests.ledger.factories import MODEL, Actor, evaluation, issued_now, model_file, note, training


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
    assert "cd" * 32 in message and "names no earlier entry" in message


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


def _cite(kind: str, version: str, actor: str = "carol", **payload: object) -> Statement:
    reason = "" if kind == "note" else "because"
    return build_statement(
        kind=kind, model=MODEL, version=version, actor=actor, reason=reason, payload=payload
    )


def test_a_deployment_naming_a_note_as_an_approval_is_refused(
    store: LedgerStore, vera: Actor
) -> None:
    arjun = Actor.make("arjun")
    store.append(arjun.register())
    run = store.append(training("1.0"))
    store.append(vera.approve(run, role="validator"))
    store.append(arjun.approve(run, role="approver"))
    remark = store.append(note("looks fine"))
    deployment = _cite(
        "deployment.promoted",
        "1.0",
        approvals=[remark.entry_hash.hex()],
        model_sha256=model_file("1.0"),
    )
    with pytest.raises(InvalidStatement, match=r"approvals .* not an approval of"):
        store.append(deployment)


@pytest.mark.parametrize(
    ("kind", "field", "payload"),
    [
        ("note", "refers_to", {"text": "see"}),
        ("oversight.recorded", "refers_to", {"action": "resume"}),
    ],
)
def test_what_a_record_refers_to_must_be_in_the_ledger(
    store: LedgerStore, kind: str, field: str, payload: dict[str, object]
) -> None:
    store.append(training("1.0"))
    if kind == "oversight.recorded":
        store.append(_cite(kind, "1.0", action="stop"))  # so that a resume is in order
    size, version = store.size(), "1.0" if kind != "note" else ""
    with pytest.raises(UnknownEntry, match=rf"{field} .* names no earlier entry"):
        store.append(_cite(kind, version, **payload, **{field: ["ef" * 32]}))
    assert store.size() == size


def test_an_oversight_record_may_not_refer_to_another_models_entries(store: LedgerStore) -> None:
    store.append(training("1.0"))
    foreign = store.append(training("1.0", model="fraud-scoring"))
    stop = _cite("oversight.recorded", "1.0", action="stop", refers_to=[foreign.entry_hash.hex()])
    with pytest.raises(InvalidStatement, match="fraud-scoring"):
        store.append(stop)


def test_a_note_may_refer_to_any_earlier_entry(store: LedgerStore) -> None:
    foreign = store.append(training("1.0", model="fraud-scoring"))
    remark = store.append(_cite("note", "", text="compare", refers_to=[foreign.entry_hash.hex()]))
    assert remark.statement.payload["refers_to"] == [foreign.entry_hash.hex()]
