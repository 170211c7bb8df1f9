"""The receipt check a notice relies on, behind one function (`check_receipt`).

The rule that a "govledger-receipt/v1" file proves its decision belongs to the log's floor
(`ledger.log.scoring.check_receipt(receipt, verifier_key)`, applied by verification, the
client and the CLI alike). Until that module is on this branch, this one restates the
checks the notice depends on, in the same order and with the same meaning: the decision's
leaf and its inner proof to the batch root, each evidence entry's hash and its RFC 9162
inclusion proof to the checkpoint signed by the pinned key, the batch entry naming the
decision's model, version and environment, its reasons among the codes of the receipt's
catalogue entry, and a promotion of that version into that environment at or before the
decision. When `ledger.log.scoring` lands, `check_receipt` becomes a call to it and this
module's private helpers go.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.errors import CheckpointInvalid, GovledgerError, VerificationError
from ledger.log import merkle
from ledger.log.canonical import canonical_json
from ledger.log.checkpoint import verify_checkpoint
from ledger.log.entries import Entry, recompute_hash
from ledger.log.payloads import DEFAULT_ENVIRONMENT
from ledger.log.timestamps import parse_rfc3339

FORMAT = "govledger-receipt/v1"
LEAF_FORMAT = "govledger/scoring-decision/v1"
FIELDS = frozenset(
    {"format", "decision_id", "decision", "erased", "leaf", "batch", "catalogue", "evidence"}
)
EVIDENCE_FIELDS = frozenset(
    {"origin", "verifier_key", "checkpoint", "tree_size", "entries", "proofs"}
)


def decision_leaf(decision: Mapping[str, Any]) -> bytes:
    """The leaf bytes of a decision: the domain prefix, then its RFC 8785 canonical JSON."""
    return LEAF_FORMAT.encode("ascii") + b"\n" + canonical_json(dict(decision))


def check_receipt(receipt: Mapping[str, Any], verifier_key: str) -> None:
    """Check a receipt against the ledger's pinned verifier key; raise a VerificationError
    naming the first failure (and its seq, when an entry fails)."""
    if not isinstance(receipt, Mapping) or receipt.get("format") != FORMAT:
        raise VerificationError(f"not a {FORMAT} document")
    if set(receipt) != FIELDS:
        raise VerificationError(f"a {FORMAT} document has exactly the fields {sorted(FIELDS)}")
    evidence = receipt["evidence"]
    if not isinstance(evidence, Mapping) or set(evidence) != EVIDENCE_FIELDS:
        raise VerificationError(f"evidence has exactly the fields {sorted(EVIDENCE_FIELDS)}")
    if str(evidence["verifier_key"]).strip() != verifier_key.strip():
        raise VerificationError("the receipt names another ledger key than the one you pinned")
    try:
        checkpoint = verify_checkpoint(str(evidence["checkpoint"]), verifier_key)
    except CheckpointInvalid as exc:
        raise VerificationError(exc.message) from None
    if checkpoint.origin != evidence["origin"] or checkpoint.size != evidence["tree_size"]:
        raise VerificationError("the checkpoint is not the one the evidence names")
    by_seq = _proven_entries(evidence["entries"], evidence["proofs"], checkpoint)
    decision, leaf, batch = receipt["decision"], receipt["leaf"], receipt["batch"]
    try:
        seq, size, index = int(batch["seq"]), int(batch["size"]), int(leaf["index"])
        inner = [bytes.fromhex(h) for h in batch["inner_proof"]]
        leaf_hash = bytes.fromhex(leaf["hash"])
    except (KeyError, TypeError, ValueError):
        raise VerificationError(
            "leaf and batch must give index, hash, seq, size and inner_proof"
        ) from None
    entry = by_seq.get(seq)
    if entry is None or entry.statement.kind != "scoring.batch":
        raise VerificationError(f"the batch entry (seq {seq}) is not in the evidence", seq)
    payload = entry.statement.payload
    if payload.get("count") != size:
        raise VerificationError(f"the batch holds {payload.get('count')}, not {size}", seq)
    if decision is None:
        return  # erased: the notice refuses it; the membership proof is the log's check
    if not isinstance(decision, Mapping) or decision.get("decision_id") != receipt["decision_id"]:
        raise VerificationError("the decision is not the receipt's decision_id")
    leaf_bytes = decision_leaf(decision)
    if merkle.leaf_hash(leaf_bytes) != leaf_hash:
        raise VerificationError("the decision does not hash to its leaf: it was altered")
    root = bytes.fromhex(str(payload.get("root")))
    if not merkle.verify_inclusion(leaf_bytes, index, size, inner, root):
        raise VerificationError("the inner proof does not place the leaf in the batch", seq)
    said = (decision.get("model"), decision.get("version"), decision.get("environment"))
    if said != (entry.statement.model, entry.statement.version, payload.get("environment")):
        raise VerificationError("the decision's model, version or environment is not the batch's")
    _check_catalogue(receipt["catalogue"], decision, by_seq)
    _check_promotion(decision, by_seq)


def _proven_entries(items: Any, proofs: Any, checkpoint: Any) -> dict[int, Entry]:
    if not isinstance(items, list) or not isinstance(proofs, Mapping):
        raise VerificationError("evidence must hold entries and their proofs")
    found: dict[int, Entry] = {}
    for item in items:
        try:
            entry = Entry.from_dict(dict(item))
            hashes = [bytes.fromhex(h) for h in proofs[str(entry.seq)]]
        except (GovledgerError, KeyError, TypeError, ValueError):
            raise VerificationError(
                "an evidence entry or its inclusion proof is malformed"
            ) from None
        if entry.to_dict() != item or recompute_hash(entry) != entry.entry_hash:
            raise VerificationError("entry_hash is not the hash of the entry", entry.seq)
        if not merkle.verify_inclusion(
            entry.entry_hash, entry.seq, checkpoint.size, hashes, checkpoint.root
        ):
            raise VerificationError("the inclusion proof does not reach the checkpoint", entry.seq)
        found[entry.seq] = entry
    return found


def _check_catalogue(
    catalogue: Any, decision: Mapping[str, Any], by_seq: Mapping[int, Entry]
) -> None:
    reasons = decision.get("reasons") or []
    if catalogue is None:
        if reasons:
            raise VerificationError("the decision gives reasons but the receipt no catalogue")
        return
    seq = catalogue.get("seq") if isinstance(catalogue, Mapping) else None
    entry = by_seq.get(seq) if isinstance(seq, int) else None
    st = None if entry is None else entry.statement
    if st is None or (st.kind, st.model, st.version) != (
        "catalogue.recorded",
        decision.get("model"),
        decision.get("version"),
    ):
        raise VerificationError("the receipt's catalogue entry is not in the evidence")
    codes = {e.get("code") for e in st.payload.get("entries") or []}
    if not set(reasons) <= codes:
        raise VerificationError("a reason of the decision is not a code of the catalogue")


def _check_promotion(decision: Mapping[str, Any], by_seq: Mapping[int, Entry]) -> None:
    decided = parse_rfc3339(str(decision.get("decided_at")), "decided_at")
    for entry in by_seq.values():
        st = entry.statement
        if (
            st.kind == "deployment.promoted"
            and (st.model, st.version) == (decision.get("model"), decision.get("version"))
            and (st.payload.get("environment") or DEFAULT_ENVIRONMENT)
            == decision.get("environment")
            and parse_rfc3339(entry.recorded_at) <= decided
        ):
            return
    raise VerificationError("no promotion in the evidence put that version there by then")
