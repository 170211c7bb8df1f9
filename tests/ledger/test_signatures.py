"""Signed statements and the approval rules: keys, signatures, replay, freshness, four eyes and
the deployment policy. Every refusal raises its own error and writes nothing."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from ledger.admission import Submission
from ledger.errors import (
    Conflict,
    FourEyesViolation,
    GovledgerError,
    InvalidStatement,
    KeyNotOwned,
    KeyRevoked,
    MissingReason,
    PolicyViolation,
    ReplayedStatement,
    SignatureInvalid,
    SignatureRequired,
    StaleStatement,
    UnknownKey,
    UnknownModelVersion,
)
from ledger.records import Entry, Statement, build_statement
from ledger.store import LedgerStore
from tests.ledger.factories import BUILDER, MODEL, Actor, deployment, issued_now, training


def refused(
    store: LedgerStore, error: type[GovledgerError], submission: Submission | Statement
) -> GovledgerError:
    """Submit, expect exactly this refusal, and check that nothing was written."""
    size = store.size()
    with pytest.raises(error) as caught:
        store.append(submission)
    assert type(caught.value) is error, f"expected {error.__name__}, got {caught.value!r}"
    assert store.size() == size
    return caught.value


@dataclasses.dataclass
class Review:
    """A ledger with a logged run and two registered reviewers."""

    store: LedgerStore
    run: Entry
    validator: Actor
    approver: Actor


@pytest.fixture
def review(store: LedgerStore) -> Review:
    validator, approver = Actor.make("vera"), Actor.make("arjun")
    store.append(validator.register())
    store.append(approver.register())
    run = store.append(training("1.0"))
    return Review(store, run, validator, approver)


def resign(actor: Actor, statement: Statement, **changes: Any) -> Submission:
    """A submission whose statement was changed after the actor signed the original."""
    signed = actor.sign(statement)
    return Submission(dataclasses.replace(statement, **changes), signed.signature, signed.key_id)


# --- key registration ------------------------------------------------------------------------


def test_a_self_signed_key_registration_is_accepted(store: LedgerStore) -> None:
    vera = Actor.make("vera")
    entry = store.append(vera.register())
    assert entry.key_id == vera.key_id
    assert entry.statement.payload["key_id"] == vera.key_id


def test_a_key_registration_signed_by_another_key_is_refused(store: LedgerStore) -> None:
    vera, mallory = Actor.make("vera"), Actor.make("mallory")
    store.append(mallory.register())
    refused(store, SignatureInvalid, vera.sign(vera.registration_statement(), key=mallory.key))


def test_a_key_registration_claiming_its_key_id_with_another_keys_signature_is_refused(
    store: LedgerStore,
) -> None:
    vera, mallory = Actor.make("vera"), Actor.make("mallory")
    forged = mallory.sign(vera.registration_statement())
    refused(store, SignatureInvalid, dataclasses.replace(forged, key_id=vera.key_id))


def test_an_unsigned_key_registration_is_refused(store: LedgerStore) -> None:
    refused(store, SignatureRequired, Actor.make("vera").registration_statement())


def test_a_key_cannot_be_registered_twice(store: LedgerStore) -> None:
    vera = Actor.make("vera")
    store.append(vera.register())
    refused(store, Conflict, vera.register())


def test_a_key_registration_whose_key_id_is_not_its_public_keys_hash_is_refused(
    store: LedgerStore,
) -> None:
    vera, other = Actor.make("vera"), Actor.make("other")
    statement = vera.registration_statement()
    wrong = dataclasses.replace(
        statement, payload_json=statement.payload_json.replace(vera.key_id, other.key_id)
    )
    refused(store, InvalidStatement, vera.sign(wrong))


# --- what an approval needs ------------------------------------------------------------------


def test_a_signed_approval_by_a_registered_reviewer_is_accepted(review: Review) -> None:
    entry = review.store.append(review.validator.approve(review.run, role="validator"))
    assert entry.signature is not None
    assert entry.key_id == review.validator.key_id


@pytest.mark.parametrize("granted", [True, False], ids=["approval", "rejection"])
def test_an_unsigned_decision_is_refused(review: Review, granted: bool) -> None:
    statement = review.validator.decision_statement(review.run, role="validator", granted=granted)
    refused(review.store, SignatureRequired, statement)


@pytest.mark.parametrize("kind", ["approval.granted", "approval.rejected"])
@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_decision_without_a_reason_is_refused(kind: str, reason: object) -> None:
    with pytest.raises(MissingReason):
        build_statement(
            kind=kind,
            model=MODEL,
            version="1.0",
            actor="vera",
            reason=reason,  # type: ignore[arg-type]
            payload={"role": "validator", "run": "ab" * 32},
            issued_at=issued_now(),
        )


def test_a_decision_signed_by_an_unregistered_key_is_refused(review: Review) -> None:
    stranger = Actor.make("vera")  # same name, key never registered
    refused(review.store, UnknownKey, stranger.approve(review.run, role="validator"))


def test_a_decision_signed_by_a_revoked_key_is_refused(review: Review) -> None:
    review.store.append(review.validator.revoke())
    refused(review.store, KeyRevoked, review.validator.approve(review.run, role="validator"))


def test_a_decision_signed_with_someone_elses_key_is_refused(review: Review) -> None:
    statement = review.validator.decision_statement(review.run, role="validator")
    borrowed = review.approver.sign(statement)  # arjun's key on vera's statement
    refused(review.store, KeyNotOwned, borrowed)


@pytest.mark.parametrize(
    ("offset", "error"),
    [
        (timedelta(hours=-25), StaleStatement),
        (timedelta(minutes=10), StaleStatement),
        (timedelta(hours=-23), None),
        (timedelta(minutes=4), None),
    ],
    ids=["25h-old", "10min-ahead", "23h-old", "4min-ahead"],
)
def test_issued_at_must_be_within_the_freshness_window(
    review: Review, offset: timedelta, error: type[GovledgerError] | None
) -> None:
    signed = review.validator.approve(review.run, role="validator", issued_at=issued_now(offset))
    if error is None:
        assert review.store.append(signed).seq == 3
    else:
        refused(review.store, error, signed)


def test_a_signed_statement_without_issued_at_is_refused(review: Review) -> None:
    statement = review.validator.decision_statement(review.run, role="validator")
    refused(
        review.store,
        InvalidStatement,
        review.validator.sign(dataclasses.replace(statement, issued_at=None)),
    )


# --- signatures bind the statement ------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"model": "fraud-scoring"},
        {"version": "2.0"},
        {"kind": "approval.rejected"},
        {"reason": "rubber-stamped"},
        {"issued_at": "a minute earlier"},
        {"payload_json": '{"role":"approver","run":"RUN"}'},
    ],
    ids=["model", "version", "kind", "reason", "issued_at", "payload"],
)
def test_a_signature_made_for_another_statement_is_refused(
    review: Review, changes: dict[str, str]
) -> None:
    review.store.append(training("2.0"))
    statement = review.validator.decision_statement(review.run, role="validator")
    if "payload_json" in changes:
        run = review.run.entry_hash.hex()
        changes = {"payload_json": changes["payload_json"].replace("RUN", run)}
    if "issued_at" in changes:
        changes = {"issued_at": issued_now(timedelta(minutes=-1))}
    refused(review.store, SignatureInvalid, resign(review.validator, statement, **changes))


def test_a_malformed_signature_is_refused(review: Review) -> None:
    signed = review.validator.approve(review.run, role="validator")
    for bad in ("not base64!", "AAAA", signed.signature[:-4] + "AAA="):  # type: ignore[index]
        refused(review.store, SignatureInvalid, dataclasses.replace(signed, signature=bad))
    refused(review.store, SignatureInvalid, dataclasses.replace(signed, key_id=None))


def test_a_replayed_signed_statement_is_refused(review: Review) -> None:
    approval = review.validator.approve(review.run, role="validator")
    review.store.append(approval)
    refused(review.store, ReplayedStatement, approval)


def test_a_replayed_key_registration_is_refused(store: LedgerStore) -> None:
    registration = Actor.make("vera").register()
    store.append(registration)
    refused(store, Conflict, registration)


# --- what an approval is about -----------------------------------------------------------------


def test_an_approval_over_another_run_than_the_versions_is_refused(review: Review) -> None:
    other = review.store.append(training("2.0"))
    cross = review.validator.approve(other, role="validator", version="1.0")
    error = refused(review.store, InvalidStatement, cross)
    assert review.run.entry_hash.hex() in error.message


def test_an_approval_over_a_hash_that_is_no_run_is_refused(review: Review) -> None:
    made_up = "ab" * 32
    approval = review.validator.approve(made_up, role="validator", version="1.0")
    refused(review.store, InvalidStatement, approval)


def test_an_approval_of_an_unknown_version_is_refused(review: Review) -> None:
    approval = review.validator.approve(review.run, role="validator", version="9.9")
    refused(review.store, UnknownModelVersion, approval)


def test_an_approval_of_an_unknown_model_is_refused(review: Review) -> None:
    approval = review.validator.approve(review.run, role="validator", model="fraud-scoring")
    refused(review.store, UnknownModelVersion, approval)


@pytest.mark.parametrize("granted", [True, False], ids=["approve", "reject"])
def test_the_actor_who_logged_a_version_cannot_decide_on_it(review: Review, granted: bool) -> None:
    builder = Actor.make(BUILDER)
    review.store.append(builder.register())
    decision = builder.sign(
        builder.decision_statement(review.run, role="validator", granted=granted)
    )
    refused(review.store, FourEyesViolation, decision)


# --- the deployment policy ---------------------------------------------------------------------


def test_deployment_needs_the_validator_and_the_approver(review: Review) -> None:
    store = review.store
    refused(store, PolicyViolation, deployment("1.0"))
    store.append(review.validator.approve(review.run, role="validator"))
    error = refused(store, PolicyViolation, deployment("1.0"))
    assert "1 more approver" in error.message
    store.append(review.approver.approve(review.run, role="approver"))
    assert store.append(deployment("1.0")).statement.kind == "deployment.promoted"


def test_one_person_cannot_fill_both_roles(review: Review) -> None:
    store = review.store
    store.append(review.validator.approve(review.run, role="validator"))
    store.append(review.validator.approve(review.run, role="approver"))
    refused(store, PolicyViolation, deployment("1.0"))


def test_a_rejection_blocks_deployment(review: Review) -> None:
    store = review.store
    store.append(review.validator.approve(review.run, role="validator"))
    store.append(review.approver.reject(review.run, role="approver"))
    error = refused(store, PolicyViolation, deployment("1.0"))
    assert "rejected by arjun" in error.message


def test_a_rejection_after_approvals_blocks_deployment_until_superseded(review: Review) -> None:
    store = review.store
    store.append(review.validator.approve(review.run, role="validator"))
    store.append(review.approver.approve(review.run, role="approver"))
    store.append(review.approver.reject(review.run, role="approver"))
    refused(store, PolicyViolation, deployment("1.0"))
    store.append(review.approver.approve(review.run, role="approver"))
    assert store.append(deployment("1.0")).seq == store.size() - 1


def test_deployment_of_an_unknown_version_is_refused(review: Review) -> None:
    refused(review.store, UnknownModelVersion, deployment("9.9"))


def test_approvals_in_the_same_batch_count_for_the_deployment(review: Review) -> None:
    entries = review.store.append_batch(
        [
            review.validator.approve(review.run, role="validator"),
            review.approver.approve(review.run, role="approver"),
            deployment("1.0"),
        ]
    )
    assert [e.statement.kind for e in entries][-1] == "deployment.promoted"


def test_a_configured_policy_is_enforced(review: Review) -> None:
    review.store.policy = dataclasses.replace(review.store.policy, required={"validator": 1})
    review.store.append(review.validator.approve(review.run, role="validator"))
    assert review.store.append(deployment("1.0")).statement.version == "1.0"
