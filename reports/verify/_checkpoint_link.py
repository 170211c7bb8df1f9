"""Link a card's checkpoint to a checkpoint the reader already holds (`verify-card --checkpoint`).

A card proves its entries against the checkpoint it carries. A forger who holds the ledger
key can rewrite the ledger and sign a new checkpoint, so that a re-forged card verifies on
its own. A checkpoint held from elsewhere (an earlier audit's checkpoint.txt, one fetched
from the service, a witness's copy) exposes that: two checkpoints of one log must describe
one history (RFC 9162 section 2.1.4, C2SP tlog-checkpoint):

- same tree size: the roots must be equal (a different root is a split view);
- different sizes: a consistency proof from the smaller tree to the larger must verify
  (`GET /v1/proofs/consistency?old_size=M&new_size=N`, or an audit's consistency-proof.json,
  given as a file: verification stays offline). Without a proof the two cannot be linked,
  and that is a failure unless the caller explicitly accepts it (`allow_unlinked`).

The held checkpoint's signature is checked with the same key as the card's (pinned, or the
card's own when none is pinned): a re-forged card signed with a new key fails here too. The
answer is the one `VerificationReport` (subject `checkpoints`): its `checkpoint` is the held
one, its `size` and `root` the card's tree, and its note says how they were linked.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ledger.errors import CheckpointInvalid
from ledger.log import merkle
from ledger.log.checkpoint import Checkpoint, verify_checkpoint
from ledger.verify import Failed, Problem, Subject, VerificationReport

_HEX32 = re.compile(r"^[0-9a-f]{64}$")


def read_consistency_proof(data: bytes) -> tuple[int, int, list[bytes]]:
    """(old_size, new_size, hashes) from the service's or an audit's consistency-proof JSON.

    Raises ValueError when the file is not such a proof."""
    doc: Any = json.loads(data.decode("utf-8"))
    if not isinstance(doc, dict):
        raise ValueError("a consistency proof is a JSON object")
    hashes = doc.get("hashes", doc.get("proof"))
    old, new = doc.get("old_size"), doc.get("new_size")
    if not (isinstance(old, int) and isinstance(new, int) and isinstance(hashes, list)):
        raise ValueError("a consistency proof needs old_size, new_size and hashes (or proof)")
    if not all(isinstance(h, str) and _HEX32.match(h) for h in hashes):
        raise ValueError("consistency proof hashes must be 64 lowercase hex digits")
    return old, new, [bytes.fromhex(h) for h in hashes]


def link_checkpoints(
    card: Checkpoint,
    held_note: str,
    verifier_key: str,
    *,
    proof: tuple[int, int, list[bytes]] | None = None,
    allow_unlinked: bool = False,
) -> VerificationReport:
    """Compare the card's (already verified) checkpoint with a held signed checkpoint."""
    facts: dict[str, Any] = {"size": card.size, "root": card.root}
    try:
        held = verify_checkpoint(held_note, verifier_key)
    except CheckpointInvalid as exc:
        failed = Failed(
            Problem.CHECKPOINT_INVALID, f"the held checkpoint does not verify: {exc.message}"
        )
        return VerificationReport.failure(Subject.CHECKPOINTS, failed, **facts)
    facts["checkpoint"] = held
    try:
        note = _link(card, held, proof, allow_unlinked)
    except Failed as failed:
        return VerificationReport.failure(Subject.CHECKPOINTS, failed, **facts)
    return VerificationReport(subject=Subject.CHECKPOINTS, ok=True, notes=(note,), **facts)


def _link(
    card: Checkpoint,
    held: Checkpoint,
    proof: tuple[int, int, list[bytes]] | None,
    allow_unlinked: bool,
) -> str:
    """How the two verified checkpoints are one history; Failed when they are not."""
    if held.origin != card.origin:
        raise Failed(
            Problem.CHECKPOINT_CONFLICT,
            f"the held checkpoint is of log {held.origin!r}, the card's of {card.origin!r}",
        )
    if held.size == card.size:
        if held.root != card.root:
            raise Failed(
                Problem.CHECKPOINT_CONFLICT,
                f"the held checkpoint of tree size {held.size} has root {held.root.hex()}, the "
                f"card's has {card.root.hex()}: two histories signed with one key (a rewritten "
                "ledger)",
            )
        return f"the held checkpoint is the card's (tree size {held.size})"
    old, new = (held, card) if held.size < card.size else (card, held)
    if proof is None:
        message = (
            f"cannot link the card's checkpoint (tree size {card.size}) to the held one "
            f"(tree size {held.size}) without a consistency proof: pass "
            f"--consistency-proof (GET /v1/proofs/consistency?old_size={old.size}&new_size="
            f"{new.size})"
        )
        if allow_unlinked:
            return f"NOT linked, as allowed: {message}"
        raise Failed(Problem.CHECKPOINT_CONFLICT, message + ", or --allow-unlinked to accept that")
    old_size, new_size, hashes = proof
    if (old_size, new_size) != (old.size, new.size):
        raise Failed(
            Problem.CHECKPOINT_CONFLICT,
            f"the consistency proof is from tree size {old_size} to {new_size}, not from "
            f"{old.size} to {new.size}",
        )
    if not merkle.verify_consistency(old.size, new.size, old.root, new.root, hashes):
        raise Failed(
            Problem.CHECKPOINT_CONFLICT,
            f"the consistency proof does not show the tree of {old.size} entries to be a prefix "
            f"of the tree of {new.size}: the history was rewritten",
        )
    return (
        f"the held checkpoint (tree size {held.size}) and the card's (tree size {card.size}) "
        "are one history (consistency proof verified)"
    )
