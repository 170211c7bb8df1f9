"""The witness policy itself, and `verify_ledger` under it on SQLite and PostgreSQL.

`WitnessPolicy` refuses a policy that cannot mean what was asked; `check` passes with K
cosignatures, fails with fewer or with a tampered line. `verify_ledger` finds the largest
stored checkpoint that K witnesses cosigned and that matches the recomputed tree, and fails
when there is none, including for a split view: a fork signed with the same ledger key that
carries the other fork's cosignature.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ledger.errors import NotWitnessed, WitnessPolicyInvalid
from ledger.log.witness_policy import WitnessPolicy
from ledger.store import LedgerSettings, LedgerStore, init_ledger, record_cosignature
from ledger.verify import Problem, verify_ledger
from tests.ledger.factories import note
from tests.witness.witnessed import Cosigner, cosigned, tampered_line

W1, W2, W3 = (Cosigner.make(f"audit.example/w{i}") for i in (1, 2, 3))


def _note(size: int = 3) -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ledger.log.checkpoint import sign_checkpoint

    key = Ed25519PrivateKey.generate()
    return sign_checkpoint("bank.example/ledger", size, bytes(32), key).note


# --- the policy ---------------------------------------------------------------------------


def test_the_empty_policy_is_falsy_and_checks_nothing() -> None:
    assert not WitnessPolicy.none() and not WitnessPolicy.of([])
    assert WitnessPolicy.none().check(_note()) == []


def test_one_cosignature_is_required_by_default_and_names_the_witness() -> None:
    policy = WitnessPolicy.of([W1.vkey, W2.vkey])
    assert policy and policy.required == 1
    found = policy.check(cosigned(_note(), W2))
    assert found == [W2.vkey]
    assert policy.describe(found) == "cosigned by witness audit.example/w2 (1 of 2, 1 required)"


@pytest.mark.parametrize(
    ("vkeys", "required", "message"),
    [
        ([W1.vkey], 2, "must be between 1 and 1"),
        ([W1.vkey, W2.vkey], 0, "must be between 1 and 2"),
        ([], 1, "no witness key is given"),
        ([W1.vkey, W1.vkey], 1, "given twice"),
        (["audit.example/w1+zz+AAAA"], 1, "must look like name+hexkeyid+base64key"),
    ],
)
def test_a_policy_that_cannot_mean_what_was_asked_is_refused(
    vkeys: list[str], required: int, message: str
) -> None:
    with pytest.raises(WitnessPolicyInvalid, match=re.escape(message)):
        WitnessPolicy.of(vkeys, required)


def test_a_ledger_key_cannot_stand_for_a_witness() -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ledger.log.checkpoint import verifier_key

    ledger_key = verifier_key("bank.example/ledger", Ed25519PrivateKey.generate())
    with pytest.raises(WitnessPolicyInvalid, match=r"type 0x01\) cannot stand for a witness"):
        WitnessPolicy.of([ledger_key])


def test_k_of_n_passes_and_fewer_fail_naming_how_many_of_how_many() -> None:
    note = cosigned(_note(), W1, W2)
    assert WitnessPolicy.of([W1.vkey, W2.vkey, W3.vkey], 2).check(note) == sorted(
        [W1.vkey, W2.vkey]
    )
    with pytest.raises(NotWitnessed, match="cosigned by 2 of the 3 witnesses given, 3 required"):
        WitnessPolicy.of([W1.vkey, W2.vkey, W3.vkey], 3).check(note)


def test_a_tampered_cosignature_line_fails_even_when_others_suffice() -> None:
    plain = _note()
    note = plain + tampered_line(W1.line(plain)) + W2.line(plain)
    with pytest.raises(NotWitnessed, match=r"by witness 'audit\.example/w1' does not verify"):
        WitnessPolicy.of([W1.vkey, W2.vkey], 1).check(note)


# --- the live store ----------------------------------------------------------------------


def _grow(store: LedgerStore, count: int) -> int:
    for i in range(count):
        store.append(note(f"note {store.size()} {i}"))
    return store.checkpoint().size


def _cosign_stored(store: LedgerStore, size: int, *witnesses: Cosigner) -> None:
    cp = store.checkpoints_after(size - 1)[0]
    assert cp.size == size
    for witness in witnesses:
        record_cosignature(store, witness.vkey, size, witness.line(cp.note))


def test_verify_reports_witnessed_up_to_size_n_of_m(store: LedgerStore) -> None:
    size = _grow(store, 3)
    _cosign_stored(store, size, W1)
    grown = _grow(store, 2)
    report = verify_ledger(store, witnesses=WitnessPolicy.of([W1.vkey]))
    assert report.ok, report.summary()
    assert f"witnessed up to size {size} of {grown}: cosigned by witness audit.example/w1" in (
        report.summary()
    )
    assert verify_ledger(store).ok  # no policy: nothing asked of witnesses


def test_verify_fails_without_k_cosignatures_or_with_a_tampered_stored_line(
    store: LedgerStore,
) -> None:
    size = _grow(store, 2)
    none_yet = verify_ledger(store, witnesses=WitnessPolicy.of([W1.vkey]))
    assert not none_yet.ok and none_yet.problem is Problem.NOT_WITNESSED
    assert "no witness cosigned any checkpoint the ledger stores" in none_yet.message
    _cosign_stored(store, size, W1)
    two = verify_ledger(store, witnesses=WitnessPolicy.of([W1.vkey, W2.vkey], 2))
    assert not two.ok and two.problem is Problem.NOT_WITNESSED
    assert "cosigned by 1 of the 2 witnesses given, 2 required" in two.message

    cp = store.checkpoint()
    record_cosignature(store, W2.vkey, size, tampered_line(W2.line(cp.note)))
    tampered = verify_ledger(store, witnesses=WitnessPolicy.of([W2.vkey]))
    assert not tampered.ok and tampered.problem is Problem.NOT_WITNESSED
    assert "by witness 'audit.example/w2' does not verify" in tampered.message


def test_a_split_view_of_the_live_store_is_not_witnessed(
    store: LedgerStore, settings: LedgerSettings, tmp_path: Path
) -> None:
    """Fork A and the test's store (fork B) share the ledger key and origin; the witness
    cosigned A's checkpoint. B carrying A's cosignature line fails; A passes."""
    fork_a = init_ledger(
        LedgerSettings(database_url=f"sqlite:///{tmp_path / 'a.db'}", home=settings.home),
        origin=store.origin,
    )
    assert fork_a.meta()["verifier_key"] == store.meta()["verifier_key"]
    size = _grow(fork_a, 3)
    assert _grow(store, 3) == size and store.checkpoint().root != fork_a.checkpoint().root
    a_line = W1.line(fork_a.checkpoint().note)
    record_cosignature(fork_a, W1.vkey, size, a_line)
    record_cosignature(store, W1.vkey, size, a_line)  # pasted onto fork B
    policy = WitnessPolicy.of([W1.vkey])
    assert verify_ledger(fork_a, witnesses=policy).ok
    split = verify_ledger(store, witnesses=policy)
    assert not split.ok and split.problem is Problem.NOT_WITNESSED
    assert "does not verify" in split.message
    fork_a.engine.dispose()
