"""A decision's receipt, built from the detail store and the log (format: `ledger.log.receipt`).

One receipt costs a handful of indexed reads however large the ledger: the decision's row
(by the unique decision id), its batch's leaf hashes (one range of the detail store's
primary key) for the inner proof, the batch entry, the catalogue it cites, the promotion
that made the version serve then (the model's serving fold, read by the partial kind
index), the erasure if any, and an RFC 9162 inclusion proof of each entry to the latest
signed checkpoint (O(log n) stored subtrees, `ledger.store._tree_store`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ledger.errors import CheckpointInvalid, LedgerNotInitialised
from ledger.governance import ServingHistory, serving_history
from ledger.log.receipt import FORMAT
from ledger.log.scoring import inner_proof
from ledger.store import _tree_store as tree_store
from ledger.store._cosignatures import witnessed_checkpoint

if TYPE_CHECKING:
    from ledger.store._decisions import DecisionStore
    from ledger.store._ledger_store import LedgerStore


def decision_receipt(
    store: LedgerStore, decisions: DecisionStore, decision_id: str
) -> dict[str, Any]:
    """The "govledger-receipt/v1" document of a decision (UnknownDecision if none)."""
    batch_seq, index, leaf_hash, detail, erased_seq = decisions.row(decision_id)
    leaves = decisions.batch_leaves(batch_seq)
    batch_entry = store.entries_at([batch_seq])[0]
    st = batch_entry.statement
    payload = st.payload
    wanted = {batch_seq}
    catalogue = None
    if payload.get("catalogue"):
        cited = store.seq_of(bytes.fromhex(str(payload["catalogue"])))
        catalogue = {"seq": cited}
        wanted.add(cited)
    decision = None if detail is None else json.loads(detail)
    erased = None
    if decision is not None:
        promotions, retirements = store.serving_events(st.model, before=batch_seq)
        history = serving_history(promotions, retirements, store.policy.shadow_environments)
        promotion = _promotion_seq(history, st.version, str(payload["environment"]), decision)
        if promotion is not None:
            wanted.add(promotion)
    elif erased_seq is not None:
        eraser = store.entries_at([erased_seq])[0]
        erased = {
            "seq": erased_seq,
            "kind": eraser.statement.kind,
            "legal_basis": eraser.statement.payload.get("legal_basis"),
        }
        wanted.add(erased_seq)
    checkpoint = witnessed_checkpoint(store, covers=max(wanted) + 1)
    if checkpoint.size <= max(wanted):
        raise LedgerNotInitialised(
            f"the latest signed checkpoint ({checkpoint.size} entries) predates the batch: open "
            "the ledger with its key (GOVLEDGER_HOME) so that a new checkpoint can be signed"
        )
    seqs = sorted(wanted)
    proofs: dict[str, list[str]] = {}
    with store.engine.connect() as conn:
        for proof in tree_store.inclusion_proofs(conn, seqs, checkpoint.size):
            if proof.root != checkpoint.root:
                raise CheckpointInvalid(
                    "the store's Merkle root differs from its signed checkpoint: run "
                    "`govledger verify` before trusting any receipt from this ledger"
                )
            proofs[str(proof.seq)] = [h.hex() for h in proof.proof]
    entries = store.entries_at(seqs)
    return {
        "format": FORMAT,
        "decision_id": decision_id,
        "decision": decision,
        "erased": erased,
        "leaf": {"index": index, "hash": leaf_hash.hex()},
        "batch": {
            "seq": batch_seq,
            "size": len(leaves),
            "inner_proof": [h.hex() for h in inner_proof(leaves, index)],
        },
        "catalogue": catalogue,
        "evidence": {
            "origin": store.origin,
            "verifier_key": store.meta()["verifier_key"],
            "checkpoint": checkpoint.note,
            "tree_size": checkpoint.size,
            "entries": [e.to_dict() for e in entries],
            "proofs": proofs,
        },
    }


def _promotion_seq(
    history: ServingHistory, version: str, environment: str, decision: dict[str, Any]
) -> int | None:
    """The promotion whose tenure held the decision's time (admission required one)."""
    decided_at = str(decision["decided_at"])
    found = None
    for tenure in history.tenures(environment):
        if tenure.version == version and tenure.promotion.recorded_at <= decided_at:
            found = tenure.promotion.seq
    return found
