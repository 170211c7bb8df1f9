"""Statements signed with a passkey: a `key.registered` of algorithm `webauthn`, then
approvals whose signature is the passkey's assertion over the statement's challenge. Admission,
the ledger's verifier, bundles and the standalone verifier accept exactly the same ones."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from ledger.errors import (
    Conflict,
    GovledgerError,
    InvalidStatement,
    KeyNotOwned,
    KeyRevoked,
    ReplayedStatement,
    SignatureInvalid,
)
from ledger.governance import Submission
from ledger.log.entries import Entry, build_statement
from ledger.store import LedgerStore
from ledger.verify import Problem, export_bundle, verify_bundle, verify_ledger
from ledger.verify import standalone as standalone_verify
from tests.ledger.factories import Actor, note, training
from tests.ledger.passkeys import PasskeyActor, SoftwarePasskey
from tests.ledger.tamper import append_bypassing_admission


def refused(store: LedgerStore, error: type[GovledgerError], submission: Submission) -> str:
    """Submit, expect exactly this refusal, check nothing was written; the message."""
    size = store.size()
    with pytest.raises(error) as caught:
        store.append(submission)
    assert type(caught.value) is error, f"expected {error.__name__}, got {caught.value!r}"
    assert store.size() == size
    return caught.value.message


@pytest.fixture(params=["ES256", "EdDSA"])
def approver(request: pytest.FixtureRequest) -> PasskeyActor:
    return PasskeyActor("arjun", SoftwarePasskey(algorithm=request.param))


@pytest.fixture
def run(store: LedgerStore) -> Entry:
    return store.append(training("1.0"))


def _verified_everywhere(store: LedgerStore, tmp_path: Path) -> None:
    assert verify_ledger(store).ok
    bundle = tmp_path / "ledger.jsonl"
    with open(bundle, "w", encoding="utf-8") as out:
        export_bundle(store, out)
    assert verify_bundle(bundle).ok
    standalone_verify.verify_file(bundle, None)


def test_a_passkey_registers_itself_and_signs_an_approval_every_verifier_accepts(
    store: LedgerStore, run: Entry, approver: PasskeyActor, tmp_path: Path
) -> None:
    registration = store.append(approver.register())
    assert registration.key_id == approver.key_id
    assert registration.signature is not None and registration.signature.startswith("webauthn.")
    approval = store.append(approver.approve(run, role="approver"))
    assert approval.key_id == approver.key_id
    # an Ed25519 key file of the same person keeps working beside the passkey
    laptop = Actor("arjun")
    store.append(laptop.register())
    store.append(laptop.approve(run, role="validator"))
    _verified_everywhere(store, tmp_path)


def test_the_key_index_survives_a_restart(
    store: LedgerStore, run: Entry, approver: PasskeyActor
) -> None:
    """Admission reads a passkey registered in an earlier transaction from the key index."""
    store.append(approver.register())
    store.append(note("a later transaction"))
    assert store.append(approver.approve(run, role="approver")).key_id == approver.key_id


def test_an_assertion_for_another_statement_is_refused(
    store: LedgerStore, run: Entry, approver: PasskeyActor
) -> None:
    store.append(approver.register())
    approval = approver.approve(run, role="approver")
    other = approver.approve(run, role="approver", granted=False)
    forged = dataclasses.replace(other, statement=approval.statement)
    message = refused(store, SignatureInvalid, forged)
    assert "for another statement" in message


def test_a_replayed_assertion_is_refused(
    store: LedgerStore, run: Entry, approver: PasskeyActor
) -> None:
    store.append(approver.register())
    approval = approver.approve(run, role="approver")
    store.append(approval)
    refused(store, ReplayedStatement, approval)


@pytest.mark.parametrize(
    ("bend", "message"),
    [
        ({"origin": "https://evil.example"}, "was used on"),
        ({"rp_id": "evil.example"}, "another relying party"),
        ({"flags": 0x01}, "did not verify the user"),
    ],
)
def test_an_assertion_from_another_origin_party_or_without_the_user_is_refused(
    store: LedgerStore, run: Entry, approver: PasskeyActor, bend: dict[str, object], message: str
) -> None:
    store.append(approver.register())
    statement = approver.approve(run, role="approver").statement
    assert message in refused(store, SignatureInvalid, approver.sign(statement, **bend))


def test_a_registration_must_be_signed_by_the_passkey_it_registers(
    store: LedgerStore, approver: PasskeyActor
) -> None:
    mallory = PasskeyActor("arjun", SoftwarePasskey(algorithm=approver.passkey.algorithm))
    forged = mallory.sign(approver.registration_statement())
    refused(store, SignatureInvalid, dataclasses.replace(forged, key_id=approver.key_id))
    refused(store, SignatureInvalid, mallory.sign(approver.registration_statement()))
    store.append(approver.register())
    refused(store, Conflict, approver.sign(approver.registration_statement()))


def test_a_registration_with_a_key_of_another_algorithm_or_no_passkey_fields_is_refused(
    store: LedgerStore, approver: PasskeyActor
) -> None:
    statement = approver.registration_statement()
    payload = json.loads(statement.payload_json)
    other = "EdDSA" if approver.passkey.algorithm == "ES256" else "ES256"
    payload["passkey"]["algorithm"] = other
    bent = build_statement(
        kind="key.registered", actor="arjun", payload=payload, issued_at=statement.issued_at
    )
    message = refused(store, InvalidStatement, approver.sign(bent))
    assert f"{other} passkey's public key must be" in message
    del payload["passkey"]
    with pytest.raises(InvalidStatement, match="needs its passkey fields"):
        build_statement(kind="key.registered", actor="arjun", payload=payload)
    payload.update(algorithm="ed25519")
    with pytest.raises(InvalidStatement, match="44 characters"):
        build_statement(kind="key.registered", actor="arjun", payload=payload)


def test_a_passkey_signs_for_its_owner_only_and_not_after_its_revocation(
    store: LedgerStore, run: Entry, approver: PasskeyActor
) -> None:
    store.append(approver.register())
    vera = Actor("vera").decision_statement(run, role="validator")
    refused(store, KeyNotOwned, approver.sign(vera))
    revoked = build_statement(
        kind="key.revoked", actor="arjun", reason="phone lost", payload={"key_id": approver.key_id}
    )
    store.append(revoked)
    refused(store, KeyRevoked, approver.approve(run, role="approver"))


def test_verifiers_report_a_passkey_row_admission_would_refuse(
    store: LedgerStore, run: Entry, approver: PasskeyActor, tmp_path: Path
) -> None:
    """A row written around admission with an assertion over another statement: every
    verifier (the ledger's, a bundle's, the standalone one) fails at its seq."""
    store.append(approver.register())
    genuine = approver.approve(run, role="approver")
    other = approver.approve(run, role="approver", granted=False)
    seq = append_bypassing_admission(
        store, genuine.statement, signature=other.signature, key_id=other.key_id
    ).seq
    store.append(note("after"))
    report = verify_ledger(store)
    assert (report.ok, report.first_bad_seq, report.problem) == (False, seq, Problem.BAD_SIGNATURE)
    bundle = tmp_path / "ledger.jsonl"
    with open(bundle, "w", encoding="utf-8") as out:
        export_bundle(store, out)
    offline = verify_bundle(bundle)
    assert (offline.ok, offline.first_bad_seq) == (False, seq)
    with pytest.raises(standalone_verify.Failed) as failed:
        standalone_verify.verify_file(bundle, None)
    assert failed.value.seq == seq


def test_documents_show_a_passkey_signature_as_verified_by_its_kind(
    store: LedgerStore, run: Entry, approver: PasskeyActor
) -> None:
    """Cards and audit reports check each decision's signature from the key entries alone
    (`reports.signatures.KeyBook`): a passkey's assertion is named as one."""
    from reports.signatures import KeyBook

    store.append(approver.register())
    approval = store.append(approver.approve(run, role="approver"))
    check = KeyBook.from_store(store).check(approval)
    assert check.ok, check.detail
    assert f"passkey assertion ({approver.passkey.algorithm}, govledger.test)" in check.detail
    assert check.key_entry is not None and check.key_entry.key_id == approver.key_id
