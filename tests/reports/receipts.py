"""Decision receipts in the govledger-receipt/v1 shape, with real proofs, for the notice tests.

A five-entry log made with the log's own functions (entries and their hashes, RFC 9162 trees
and inclusion proofs, a C2SP checkpoint signed with a fresh Ed25519 key): a note, the
version's approved-to-be reason catalogue, its promotion into production, one batch of
scoring decisions (its entry holds the batch's Merkle root over domain-separated leaves) and
an erasure. Nothing is mocked: a receipt from here passes the ledger's receipt check.
"""

from __future__ import annotations

import hmac
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from ledger.log import merkle, signing
from ledger.log.canonical import canonical_json
from ledger.log.checkpoint import sign_checkpoint, verifier_key
from ledger.log.entries import Entry, Statement, build_statement, compute_entry_hash

ORIGIN = "bank.example/govledger"
MODEL = "retail-credit-pd"
VERSION = "2.1"
ENVIRONMENT = "production"
LEAF_PREFIX = b"govledger/scoring-decision/v1\n"
LEGAL_BASIS = "GDPR Art. 17(1)(a)"
APPLICANT_KEY = bytes(range(32))

CATALOGUE = [
    ("checking_account", ["little"], "CHK01", "Insufficient balance in your checking account"),
    ("duration", None, "DUR01", "The length of the credit term you asked for"),
    ("credit_history", None, "HIS01", "Delinquent past or present credit obligations with others"),
    ("savings", None, "SAV01", "Insufficient savings"),
]
DECLINED = "app-2026-03-04-0042"
"""A declined applicant: three reasons, principal first (not in catalogue order)."""
REASONS = ["HIS01", "CHK01", "DUR01"]


def _decision(decision_id: str, outcome: str, reasons: list[str], score: float) -> dict[str, Any]:
    return {
        "decision_id": decision_id,
        "applicant": "hmac-sha256:"
        + hmac.new(APPLICANT_KEY, decision_id.encode(), "sha256").hexdigest(),
        "model": MODEL,
        "version": VERSION,
        "environment": ENVIRONMENT,
        "decided_at": "2026-03-04T10:15:07.000000Z",
        "score": score,
        "outcome": outcome,
        "reasons": reasons,
        "salt": uuid.uuid5(uuid.NAMESPACE_URL, decision_id).hex,
    }


DECISIONS = [
    _decision("app-2026-03-04-0041", "approve", [], 0.12),
    _decision(DECLINED, "decline", REASONS, 0.71),
    _decision("app-2026-03-04-0043", "refer", ["SAV01"], 0.48),
    _decision("app-2026-03-04-0044", "decline", ["SAV01", "ZZZ99"], 0.83),  # not catalogued
    _decision("app-2026-03-04-0045", "decline", ["DUR01"], 0.66),  # erased at seq 4
]
ERASED = "app-2026-03-04-0045"


@dataclass
class ReceiptLedger:
    """The log, its signed checkpoint and the key that pins it."""

    key: Any = field(default_factory=signing.generate_private_key)
    entries: list[Entry] = field(default_factory=list)

    def __post_init__(self) -> None:
        leaves = [LEAF_PREFIX + canonical_json(d) for d in DECISIONS]
        self.leaves = leaves
        catalogue = {
            "catalogue_version": "2026-02",
            "entries": [
                {"feature": f, "values": v, "code": c, "statement": s} for f, v, c, s in CATALOGUE
            ],
        }
        batch = {
            "environment": ENVIRONMENT,
            "count": len(DECISIONS),
            "first_decided_at": DECISIONS[0]["decided_at"],
            "last_decided_at": DECISIONS[-1]["decided_at"],
            "root": merkle.root_hash(leaves).hex(),
            "outcomes": {"approve": 1, "decline": 3, "refer": 1},
            "leaf_format": "govledger/scoring-decision/v1",
        }
        erasure = {"decision_ids": [ERASED], "legal_basis": LEGAL_BASIS}
        self._append(build_statement(kind="note", actor="dana", payload={"text": "start"}))
        self._append(
            build_statement(
                kind="catalogue.recorded",
                model=MODEL,
                version=VERSION,
                actor="dana",
                reason="reasons for version 2.1's adverse-action notices",
                payload=catalogue,
            )
        )
        self._append(
            build_statement(
                kind="deployment.promoted",
                model=MODEL,
                version=VERSION,
                actor="ops",
                reason="approved by validation and the credit committee",
                payload={"environment": ENVIRONMENT, "model_sha256": "ab" * 32},
            )
        )
        batch["catalogue"] = self.entries[1].entry_hash.hex()  # the catalogue its reasons use
        self._append(_statement("scoring.batch", batch, MODEL, VERSION))
        self._append(_statement("scoring.erased", erasure))
        hashes = [e.entry_hash for e in self.entries]
        self.checkpoint = sign_checkpoint(ORIGIN, len(hashes), merkle.root_hash(hashes), self.key)
        self.verifier_key = verifier_key(ORIGIN, self.key)

    def _append(self, statement: Statement) -> None:
        seq = len(self.entries)
        prev = self.entries[-1].entry_hash if self.entries else bytes(32)
        fields = {
            "seq": seq,
            "entry_id": str(uuid.uuid5(uuid.NAMESPACE_OID, str(seq))),
            "recorded_at": f"2026-03-0{seq + 1}T09:00:00.000000Z",
            "prev_hash": prev,
            "signature": None,
            "key_id": None,
        }
        digest = compute_entry_hash(statement=statement, **fields)  # type: ignore[arg-type]
        self.entries.append(Entry(statement=statement, entry_hash=digest, **fields))  # type: ignore[arg-type]

    def receipt(self, decision_id: str = DECLINED) -> dict[str, Any]:
        """The receipt of one decision, as `govledger receipt` writes it."""
        index = next(i for i, d in enumerate(DECISIONS) if d["decision_id"] == decision_id)
        hashes = [e.entry_hash for e in self.entries]
        cited = [1, 2, 3]
        erased = decision_id == ERASED
        return {
            "format": "govledger-receipt/v1",
            "decision_id": decision_id,
            "decision": None if erased else DECISIONS[index],
            "erased": (
                {"seq": 4, "kind": "scoring.erased", "legal_basis": LEGAL_BASIS} if erased else None
            ),
            "leaf": {"index": index, "hash": merkle.leaf_hash(self.leaves[index]).hex()},
            "batch": {
                "seq": 3,
                "size": len(self.leaves),
                "inner_proof": [h.hex() for h in merkle.inclusion_proof(self.leaves, index)],
            },
            "catalogue": {"seq": 1},
            "evidence": {
                "origin": ORIGIN,
                "verifier_key": self.verifier_key,
                "checkpoint": self.checkpoint.note,
                "tree_size": len(hashes),
                "entries": [self.entries[s].to_dict() for s in cited],
                "proofs": {
                    str(s): [h.hex() for h in merkle.inclusion_proof(hashes, s)] for s in cited
                },
            },
        }

    def receipt_bytes(self, decision_id: str = DECLINED) -> bytes:
        """The receipt file's bytes (indented JSON, as a person would save it)."""
        return json.dumps(self.receipt(decision_id), indent=2).encode("utf-8")


def _statement(kind: str, payload: dict[str, Any], model: str = "", version: str = "") -> Statement:
    """A statement of a kind this branch's log does not list yet (the scoring kinds)."""
    return Statement(
        kind=kind,
        model=model,
        version=version,
        actor="scoring-service",
        reason="",
        payload_json=canonical_json(payload).decode("utf-8"),
    )
