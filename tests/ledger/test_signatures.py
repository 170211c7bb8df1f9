"""Signed statements and the approval rules: keys, signatures, replay, freshness, four eyes and
the deployment policy. Every refusal raises its own error and writes nothing."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.errors import (
    Conflict,
    FourEyesViolation,
    GovledgerError,
    InvalidStatement,
    KeyNotOwned,
    KeyRevoked,
    MissingReason,
    NonCanonicalSignature,
    PolicyViolation,
    ReplayedStatement,
    SignatureInvalid,
    SignatureRequired,
    StaleStatement,
    UnknownKey,
    UnknownModelVersion,
    WeakKey,
)
from ledger.governance import Submission
from ledger.log import ed25519_strict, signing
from ledger.log.entries import Entry, Statement, build_statement
from ledger.store import LedgerStore
from ledger.verify import Problem, export_bundle, verify_bundle, verify_ledger
from ledger.verify import _ranges as verify_ranges
from ledger.verify import standalone as standalone_verify
from tests.ledger.factories import BUILDER, MODEL, Actor, deployment, issued_now, note, training
from tests.ledger.tamper import append_bypassing_admission, malleated, reencoded


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


# --- strict Ed25519: weak keys, malleable signatures, replays in another spelling ------------
#
# Edwards25519 in pure Python (RFC 8032 section 5.1: -x^2 + y^2 = 1 + d x^2 y^2 over GF(p)),
# written for these tests so that the small-order list in ledger.ed25519_strict is checked
# against arithmetic that does not come from it.

_P = 2**255 - 19
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)
_ORDER = 2**252 + 27742317777372353535851937790883648493
_IDENTITY = (0, 1)


def _add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    (x1, y1), (x2, y2) = a, b
    t = _D * x1 * x2 * y1 * y2 % _P
    x = (x1 * y2 + x2 * y1) * pow(1 + t, _P - 2, _P) % _P
    y = (y1 * y2 + x1 * x2) * pow(1 - t, _P - 2, _P) % _P
    return x, y


def _times(n: int, point: tuple[int, int]) -> tuple[int, int]:
    result = _IDENTITY
    while n:
        if n & 1:
            result = _add(result, point)
        point, n = _add(point, point), n >> 1
    return result


def _point_with_y(y: int) -> tuple[int, int] | None:
    """The curve point with this y and even x, or None when there is none."""
    u = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    x = pow(u, (_P + 3) // 8, _P)
    if x * x % _P != u:
        x = x * _SQRT_M1 % _P
    if x * x % _P != u:
        return None
    return (_P - x if x & 1 else x), y


def _encode(point: tuple[int, int]) -> bytes:
    x, y = point
    return (y | (x & 1) << 255).to_bytes(32, "little")


def _eight_torsion() -> set[bytes]:
    """Every point P with [8]P = O: the group has order 8 L, so [L]Q lies in the 8-torsion
    subgroup (cyclic of order 8) for any point Q; one of order 8 generates all of it."""
    for y in range(2, 200):
        q = _point_with_y(y)
        if q is None:
            continue
        t = _times(_ORDER, q)
        if _times(4, t) != _IDENTITY:  # order 8
            points = {_encode(_times(i, t)) for i in range(8)}
            assert all(_times(8, _times(i, t)) == _IDENTITY for i in range(8))
            return points
    raise AssertionError("no point of order 8 found")


def test_the_small_order_list_is_exactly_the_eight_torsion_subgroup() -> None:
    derived = _eight_torsion()
    assert len(derived) == 8 and _encode(_IDENTITY) in derived
    assert ed25519_strict.SMALL_ORDER_POINTS == derived
    assert standalone_verify.SMALL_ORDER == derived


IDENTITY_KEY = _encode(_IDENTITY)
UNIVERSAL_SIGNATURE = IDENTITY_KEY + bytes(32)
"""R = O, S = 0: [0]B = O = R + [k]O holds for every k, so every message "verifies"."""


def test_openssl_alone_accepts_the_universal_signature_and_the_ledger_does_not() -> None:
    """Why the strict rule exists: the library under it verifies this for any message."""
    lax = Ed25519PublicKey.from_public_bytes(IDENTITY_KEY)
    for message in (b"approve credit-scoring 1.0", b"anything at all"):
        lax.verify(UNIVERSAL_SIGNATURE, message)  # no exception: "valid"
        assert not signing.verify(_b64(IDENTITY_KEY), message, _b64(UNIVERSAL_SIGNATURE))


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _weak_registration(raw_key: bytes, *, actor: str = "mallory") -> Submission:
    """A key.registered of `raw_key`, "self-signed" with the universal signature."""
    statement = build_statement(
        kind="key.registered",
        actor=actor,
        payload={
            "algorithm": "ed25519",
            "key_id": signing.key_id_for(raw_key),
            "public_key": _b64(raw_key),
        },
        issued_at=issued_now(),
    )
    return Submission(statement, _b64(UNIVERSAL_SIGNATURE), signing.key_id_for(raw_key))


@pytest.mark.parametrize(
    "raw_key", sorted(ed25519_strict.SMALL_ORDER_POINTS), ids=lambda b: b.hex()[:8] + b.hex()[-2:]
)
def test_a_small_order_key_is_refused_at_registration(store: LedgerStore, raw_key: bytes) -> None:
    error = refused(store, WeakKey, _weak_registration(raw_key))
    assert "small order" in error.message and "govledger keys create" in error.message


NON_CANONICAL_KEYS = {
    "y = p (0 unreduced)": _P.to_bytes(32, "little"),
    "y = p + 1 (the identity unreduced)": (_P + 1).to_bytes(32, "little"),
    "y = 2**255 - 1": (2**255 - 1).to_bytes(32, "little"),
    "y = p + 5 with the sign bit": (_P + 5 | 1 << 255).to_bytes(32, "little"),
    "the identity with the sign bit": (1 | 1 << 255).to_bytes(32, "little"),
    "(0, -1) with the sign bit": (_P - 1 | 1 << 255).to_bytes(32, "little"),
}


@pytest.mark.parametrize("raw_key", list(NON_CANONICAL_KEYS.values()), ids=list(NON_CANONICAL_KEYS))
def test_a_non_canonically_encoded_key_is_refused_at_registration(
    store: LedgerStore, raw_key: bytes
) -> None:
    error = refused(store, WeakKey, _weak_registration(raw_key))
    assert "non-canonical" in error.message


def test_a_key_in_another_base64_spelling_is_refused_at_registration(store: LedgerStore) -> None:
    vera = Actor.make("vera")
    statement = vera.registration_statement()
    public_key = statement.payload["public_key"]
    respelt = public_key[:-2] + _next_spelling(public_key[-2]) + "="
    assert base64.b64decode(respelt) == base64.b64decode(public_key)
    forged = dataclasses.replace(
        statement, payload_json=statement.payload_json.replace(public_key, respelt)
    )
    error = refused(store, WeakKey, vera.sign(forged))
    assert "canonical base64" in error.message


def _next_spelling(char: str) -> str:
    """The base64 character one above `char`: the same 6-bit group with the low (padding)
    bit set, for a 32-byte key whose last character carries 2 padding bits."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    index = alphabet.index(char)
    assert index & 0b11 == 0, "a canonical encoding leaves its padding bits zero"
    return alphabet[index | 0b01]


def test_an_approval_with_the_universal_signature_is_refused(review: Review) -> None:
    """By a registered (strong) key, R = O is refused before OpenSSL is asked."""
    signed = review.validator.approve(review.run, role="validator")
    forged = dataclasses.replace(signed, signature=_b64(UNIVERSAL_SIGNATURE))
    error = refused(review.store, NonCanonicalSignature, forged)
    assert "small order" in error.message


def test_an_approval_by_a_weak_key_already_in_the_ledger_is_refused(review: Review) -> None:
    """A ledger written before the rule may hold a small-order key: signing with it now is
    refused with the reason, however the universal signature "verifies"."""
    store = review.store
    registration = _weak_registration(IDENTITY_KEY, actor="mallory")
    assert registration.signature is not None
    append_bypassing_admission(
        store,
        registration.statement,
        signature=registration.signature,
        key_id=registration.key_id,
    )
    mallory = review.validator.decision_statement(review.run, role="validator")
    mallory = dataclasses.replace(mallory, actor="mallory")
    forged = Submission(mallory, _b64(UNIVERSAL_SIGNATURE), signing.key_id_for(IDENTITY_KEY))
    refused(store, WeakKey, forged)


def test_a_malleated_signature_s_plus_l_is_refused(review: Review) -> None:
    signed = review.validator.approve(review.run, role="validator")
    assert signed.signature is not None
    error = refused(
        review.store,
        NonCanonicalSignature,
        dataclasses.replace(signed, signature=malleated(signed.signature)),
    )
    assert "group order L" in error.message


def test_a_replay_in_another_base64_spelling_is_refused(review: Review) -> None:
    signed = review.validator.approve(review.run, role="validator")
    review.store.append(signed)
    assert signed.signature is not None
    replay = dataclasses.replace(signed, signature=reencoded(signed.signature))
    error = refused(review.store, NonCanonicalSignature, replay)
    assert "canonical base64" in error.message


def test_the_same_statement_signed_by_a_second_key_is_a_replay(review: Review) -> None:
    """The statement digest is unique too: one decision cannot be entered twice by signing
    it again with another of the actor's keys."""
    store = review.store
    statement = review.validator.decision_statement(review.run, role="validator")
    second = Actor.make("vera")
    store.append(second.register())
    store.append(review.validator.sign(statement))
    refused(store, ReplayedStatement, second.sign(statement))


def test_a_replay_inside_one_batch_is_refused(review: Review) -> None:
    store = review.store
    statement = review.validator.decision_statement(review.run, role="validator")
    second = Actor.make("vera")
    store.append(second.register())
    size = store.size()
    with pytest.raises(ReplayedStatement, match="statement 1 of the batch"):
        store.append_batch([review.validator.sign(statement), second.sign(statement)])
    assert store.size() == size


def test_a_withdrawn_approval_is_not_resurrected_by_a_respelt_replay(review: Review) -> None:
    store, run = review.store, review.run
    validation = review.validator.approve(run, role="validator")
    store.append(validation)
    store.append(review.approver.approve(run, role="approver"))
    store.append(review.validator.reject(run, role="validator"))
    refused(store, PolicyViolation, deployment())
    assert validation.signature is not None
    for spelling in (validation.signature, reencoded(validation.signature)):
        with pytest.raises((ReplayedStatement, NonCanonicalSignature)):
            store.append(dataclasses.replace(validation, signature=spelling))
    refused(store, PolicyViolation, deployment())


# --- verification of rows written around admission ------------------------------------------


def _weak_key_row(store: LedgerStore) -> int:
    registration = _weak_registration(IDENTITY_KEY)
    return append_bypassing_admission(
        store,
        registration.statement,
        signature=registration.signature,
        key_id=registration.key_id,
    ).seq


def _respelt_row(store: LedgerStore) -> int:
    approval = next(e for e in store.iter_entries() if e.statement.kind == "approval.granted")
    assert approval.signature is not None
    return append_bypassing_admission(
        store,
        approval.statement,
        signature=reencoded(approval.signature),
        key_id=approval.key_id,
    ).seq


def _malleated_row(store: LedgerStore) -> int:
    approval = next(e for e in store.iter_entries() if e.statement.kind == "approval.granted")
    assert approval.signature is not None
    return append_bypassing_admission(
        store,
        approval.statement,
        signature=malleated(approval.signature),
        key_id=approval.key_id,
    ).seq


def _second_key_row(store: LedgerStore) -> int:
    approval = next(e for e in store.iter_entries() if e.statement.kind == "approval.granted")
    second = Actor.make(approval.statement.actor)
    store.append(second.register())
    signed = second.sign(approval.statement)
    return append_bypassing_admission(
        store, approval.statement, signature=signed.signature, key_id=signed.key_id
    ).seq


ROWS_AROUND_ADMISSION = {
    "weak key": (_weak_key_row, Problem.WEAK_KEY),
    "re-encoded signature": (_respelt_row, Problem.NON_CANONICAL_SIGNATURE),
    "malleated S": (_malleated_row, Problem.NON_CANONICAL_SIGNATURE),
    "same statement, second key": (_second_key_row, Problem.REPLAYED_SIGNATURE),
}


@pytest.mark.parametrize(
    ("write", "problem"), list(ROWS_AROUND_ADMISSION.values()), ids=list(ROWS_AROUND_ADMISSION)
)
def test_verification_reports_signed_rows_admission_would_refuse(
    review: Review, tmp_path: Path, write: Callable[[LedgerStore], int], problem: Problem
) -> None:
    """Every verifier (the ledger's, a bundle's, the standalone one) fails at the same seq."""
    store = review.store
    store.append(review.validator.approve(review.run, role="validator"))
    assert verify_ledger(store).ok
    seq = write(store)
    store.append(note("after"))
    report = verify_ledger(store)
    assert (report.ok, report.first_bad_seq, report.problem) == (False, seq, problem), report
    bundle = tmp_path / "ledger.jsonl"
    with open(bundle, "w", encoding="utf-8") as out:
        export_bundle(store, out)
    offline = verify_bundle(bundle)
    assert (offline.ok, offline.first_bad_seq, offline.problem) == (False, seq, problem)
    with pytest.raises(standalone_verify.Failed) as failed:
        standalone_verify.verify_file(bundle, None)
    assert failed.value.seq == seq


def test_a_replay_in_a_later_range_is_found_by_verification_in_ranges(
    review: Review, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers verify ranges apart; the stitching must still see a signed statement of one
    range again in another, and name the seq the sequential verifier names."""
    store = review.store
    store.append(review.validator.approve(review.run, role="validator"))
    store.append_batch([note(f"filler {i}") for i in range(40)])
    seq = _second_key_row(store)
    store.append_batch([note(f"after {i}") for i in range(20)])
    monkeypatch.setattr(verify_ranges, "RANGE_SIZE", 16)
    one, ranged = verify_ledger(store, workers=1), verify_ledger(store, workers=2)
    assert (one.first_bad_seq, one.problem) == (seq, Problem.REPLAYED_SIGNATURE)
    assert (ranged.ok, ranged.first_bad_seq, ranged.problem) == (False, seq, one.problem)
