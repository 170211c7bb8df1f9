"""evidence.json verifies offline, and any change to it (one byte) makes verification fail."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pikepdf

from ledger.log.canonical import canonical_json
from ledger.log.checkpoint import verifier_key
from ledger.log.entries import build_statement
from ledger.log.signing import generate_private_key
from ledger.verify import Problem
from reports.card._data import build_card
from reports.card._evidence import build_evidence, verify_evidence
from reports.verify._card import verify_card
from tests.reports.builders import ORIGIN, CreditLedger, SmallLedger
from tests.reports.conftest import RenderedFile


def _pinned(credit: CreditLedger) -> str:
    return credit.store.meta()["verifier_key"]


def test_card_verifies_offline_with_the_pinned_ledger_key(
    card_file: RenderedFile, credit: CreditLedger
) -> None:
    report = verify_card(card_file.path, verifier_key=_pinned(credit))
    assert report.ok, report.summary()
    assert report.key_pinned
    assert report.entries_checked == len(json.loads(card_file.rendered.evidence)["entries"])
    assert report.signatures_checked == 4  # two approvals, two self-signed key registrations
    assert report.checkpoint is not None
    assert report.checkpoint.size == report.size == card_file.rendered.card.evidence.checkpoint_size
    assert report.summary().startswith("OK: ")


def test_evidence_is_canonical_and_holds_proofs_and_keys(card_file: RenderedFile) -> None:
    data = card_file.rendered.evidence
    doc = json.loads(data)
    assert canonical_json(doc) == data
    assert doc["format"] == "govledger-evidence/1" and doc["origin"] == ORIGIN
    assert {
        e["statement"]["actor"]
        for e in doc["entries"]
        if e["statement"]["kind"] == "key.registered"
    } == {"vera", "arjun"}
    assert set(doc["public_keys"]) == {
        e["key_id"]
        for e in doc["entries"]
        if e["signature"] and e["statement"]["kind"] != "key.registered"
    }
    assert "roc_curve.json" in doc["artifacts"].values()
    assert all(isinstance(e["inclusion_proof"], list) for e in doc["entries"])


def _rewrite(pdf_path: Path, out: Path, data: bytes) -> None:
    with pikepdf.open(pdf_path) as pdf:
        pdf.attachments["evidence.json"] = pikepdf.AttachedFileSpec(
            pdf, data, mime_type="application/json"
        )
        pdf.save(out)


def test_flipping_one_byte_of_the_attached_evidence_fails_verification(
    card_file: RenderedFile, tmp_path: Path
) -> None:
    data = bytearray(card_file.rendered.evidence)
    position = data.index(b'"reason":"Validation report') + 12
    data[position] ^= 0x01
    tampered = tmp_path / "tampered.pdf"
    _rewrite(card_file.path, tampered, bytes(data))
    report = verify_card(tampered)
    assert not report.ok
    assert report.problem is Problem.HASH_MISMATCH
    assert report.summary().startswith("FAILED at seq ")


def test_any_single_byte_change_is_detected(card_file: RenderedFile) -> None:
    data = card_file.rendered.evidence
    rng = random.Random(5)
    positions = sorted(rng.sample(range(len(data)), 300))
    for position in positions:
        changed = bytearray(data)
        changed[position] ^= 1 << rng.randrange(7)
        report = verify_evidence(bytes(changed))
        assert not report.ok, (position, data[max(0, position - 30) : position + 30])


def test_an_edited_entry_recanonicalised_fails_on_its_hash(card_file: RenderedFile) -> None:
    doc = json.loads(card_file.rendered.evidence)
    approval = next(e for e in doc["entries"] if e["statement"]["kind"] == "approval.granted")
    approval["statement"]["reason"] = "approved without conditions"
    report = verify_evidence(canonical_json(doc))
    assert report.problem is Problem.HASH_MISMATCH and report.first_bad_seq == approval["seq"]


def test_a_wrong_inclusion_proof_fails(card_file: RenderedFile) -> None:
    doc = json.loads(card_file.rendered.evidence)
    doc["entries"][2]["inclusion_proof"][0] = "00" * 32
    report = verify_evidence(canonical_json(doc))
    assert report.problem is Problem.NOT_INCLUDED


def test_dropping_a_signers_key_registration_fails(card_file: RenderedFile) -> None:
    doc = json.loads(card_file.rendered.evidence)
    doc["entries"] = [
        e
        for e in doc["entries"]
        if not (e["statement"]["kind"] == "key.registered" and e["statement"]["actor"] == "vera")
    ]
    report = verify_evidence(canonical_json(doc))
    assert report.problem is Problem.KEY_NOT_PROVEN


def test_evidence_from_another_ledger_key_is_refused(card_file: RenderedFile) -> None:
    other = verifier_key(ORIGIN, generate_private_key())
    report = verify_evidence(card_file.rendered.evidence, verifier_key=other)
    assert not report.ok and report.problem is Problem.KEY_MISMATCH
    doc = json.loads(card_file.rendered.evidence)
    doc["verifier_key"] = other
    forged = verify_evidence(canonical_json(doc))
    assert forged.problem is Problem.CHECKPOINT_INVALID


def test_a_pdf_without_evidence_or_not_a_pdf_fails_cleanly(tmp_path: Path) -> None:
    blank = tmp_path / "blank.pdf"
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.save(blank)
    assert verify_card(blank).problem is Problem.NO_EVIDENCE
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"not a pdf at all")
    assert verify_card(junk).problem is Problem.MALFORMED


def test_a_key_revoked_after_it_signed_still_verifies_and_the_revocation_is_carried(
    small: SmallLedger,
) -> None:
    key_id = small.approval.key_id
    revoked = small.store.append(
        build_statement(
            kind="key.revoked", actor="vera", reason="laptop replaced", payload={"key_id": key_id}
        )
    )
    card = build_card(small.store, small.artifacts, small.model, "0.1")
    assert [a.signature_status for a in card.approvals] == ["verified"]
    data = build_evidence(small.store, card)
    assert revoked.seq in [e["seq"] for e in json.loads(data)["entries"]]
    report = verify_evidence(data, verifier_key=small.store.meta()["verifier_key"])
    assert report.ok, report.summary()
    doc = json.loads(data)
    revocation = next(e for e in doc["entries"] if e["seq"] == revoked.seq)
    approval = next(e for e in doc["entries"] if e["seq"] == small.approval.seq)
    revocation["seq"], approval["seq"] = approval["seq"], revocation["seq"]
    assert not verify_evidence(canonical_json(doc)).ok
