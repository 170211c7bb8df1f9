"""Decision receipts: both verifiers (`ledger.verify.verify_receipt`, the rule of
`ledger.log.receipt`, and `standalone.py receipt`) accept an honest receipt, an erased one
too, and reject the same tampering with the same reason."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.log import signing
from ledger.log.checkpoint import verifier_key
from ledger.log.entries import build_statement
from ledger.store import LedgerSettings, LedgerStore, init_ledger
from ledger.verify import Problem, verify_receipt
from tests.ledger.scoring_story import COMPLIANCE, decisions, record, write_scoring_story
from tests.ledger.test_serving_answer import sv


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LedgerStore]:
    tmp = tmp_path_factory.mktemp("receipts")
    settings = LedgerSettings(database_url=f"sqlite:///{tmp / 'l.db'}", home=tmp / "h")
    store = init_ledger(settings, origin="test.example/receipts")
    write_scoring_story(store)
    record(store, decisions(7))
    store.submit(
        COMPLIANCE,
        [
            build_statement(
                kind="scoring.erased",
                actor=COMPLIANCE.name,
                payload={"decision_ids": ["d-000005"], "legal_basis": "GDPR Art. 17(1)(a)"},
            )
        ],
    )
    yield store
    store.close()


def _key(store: LedgerStore) -> str:
    return store.meta()["verifier_key"]


def _both_accept(receipt: dict[str, Any], key: str) -> str:
    report = verify_receipt(receipt, key)
    assert report.ok, report.summary()
    line = sv.verify_receipt(json.dumps(receipt).encode(), key)
    assert line.startswith("OK: ")
    return str(line)


def _both_reject(receipt: dict[str, Any], key: str, problem: Problem, why: str) -> None:
    report = verify_receipt(receipt, key)
    assert not report.ok and report.problem is problem, report.summary()
    with pytest.raises(sv.Failed, match=why):
        sv.verify_receipt(json.dumps(receipt).encode(), key)


def test_a_decline_and_an_erased_decision_verify_in_both_verifiers(ledger: LedgerStore) -> None:
    decline = ledger.decision_receipt("d-000003")
    assert "R02, R03" in _both_accept(decline, _key(ledger))
    erased = ledger.decision_receipt("d-000005")
    assert erased["decision"] is None
    assert "erased by seq" in _both_accept(erased, _key(ledger))
    assert "erased by seq" in verify_receipt(erased, _key(ledger)).summary()


def _tampered(receipt: dict[str, Any], change: str) -> dict[str, Any]:
    bad = copy.deepcopy(receipt)
    entries = {e["seq"]: e for e in bad["evidence"]["entries"]}
    if change == "score":
        bad["decision"]["score"] = 0.999
    elif change == "inner":
        first = bad["batch"]["inner_proof"][0]
        bad["batch"]["inner_proof"][0] = ("00" if first[:2] != "00" else "11") + first[2:]
    elif change == "reason":
        bad["decision"]["reasons"] = ["R01", "R03"]
        bad["leaf"]["hash"] = _leaf(bad["decision"])
    elif change == "entry":
        entries[bad["batch"]["seq"]]["statement"]["payload"]["count"] = 8
    elif change == "promotion":
        promoted = [
            s for s, e in entries.items() if e["statement"]["kind"] == "deployment.promoted"
        ]
        bad["evidence"]["entries"] = [
            e for e in bad["evidence"]["entries"] if e["seq"] != promoted[0]
        ]
        del bad["evidence"]["proofs"][str(promoted[0])]
    return bad


def _leaf(decision: dict[str, Any]) -> str:
    from ledger.log.canonical import canonical_json
    from ledger.log.merkle import leaf_hash
    from ledger.log.scoring import LEAF_PREFIX

    return leaf_hash(LEAF_PREFIX + canonical_json(decision)).hex()


@pytest.mark.parametrize(
    ("change", "problem", "why"),
    [
        ("score", Problem.HASH_MISMATCH, "do not hash to its leaf"),
        ("inner", Problem.NOT_INCLUDED, "inner proof does not place"),
        ("reason", Problem.NOT_INCLUDED, "inner proof does not place"),
        ("entry", Problem.HASH_MISMATCH, "altered"),
        ("promotion", Problem.CLAIM_NOT_PROVEN, "no promotion"),
    ],
)
def test_a_tampered_receipt_is_rejected_by_both_verifiers(
    ledger: LedgerStore, change: str, problem: Problem, why: str
) -> None:
    receipt = ledger.decision_receipt("d-000003")
    _both_reject(_tampered(receipt, change), _key(ledger), problem, why)


def test_a_receipt_checked_with_another_ledgers_key_is_rejected(ledger: LedgerStore) -> None:
    other = verifier_key(ledger.origin, signing.generate_private_key())
    receipt = ledger.decision_receipt("d-000001")
    _both_reject(receipt, other, Problem.KEY_MISMATCH, "another ledger key")


def test_the_standalone_command_line_checks_a_receipt_file(
    ledger: LedgerStore, tmp_path: Path
) -> None:
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(ledger.decision_receipt("d-000000")))
    assert sv.main(["receipt", str(path), "--key", _key(ledger)]) == 0
    assert sv.main([str(path), "--key", _key(ledger)]) == 0  # recognised by its format
    path.write_text(json.dumps(_tampered(ledger.decision_receipt("d-000000"), "score")))
    assert sv.main(["receipt", str(path), "--key", _key(ledger)]) == 1
