"""The one verification report: ok, or the first thing that is wrong, what is wrong and why.

Every verifier of govledger answers with a `VerificationReport`, after sigstore-python's
verification API: the answer is ok or it is not, never "maybe", and `raise_for_problem`
turns a failure into the error of its problem. What was verified is its `subject`:

- `LEDGER`: a whole log, in the database (`ledger.verify.verify_ledger`) or in an export
  bundle (`ledger.verify._bundle.verify_bundle`);
- `TREE`: the stored Merkle nodes proofs are served from (`ledger.verify._tree`);
- `EVIDENCE`: a model card's evidence.json and, for a card PDF, its pages and a held
  checkpoint (`reports.card._evidence`, `reports.verify._card`);
- `PAGES`: what a card's visible pages state against its proven entries
  (`reports.verify._binding`);
- `CHECKPOINTS`: two signed checkpoints of one log, one history or two
  (`reports.verify._checkpoint_link`, the audit report's consistency with the previous one);
- `SIGNATURE`: one entry's signature, as a document shows it (`reports.signatures`);
- `SERVING`: an as-of serving answer and its proofs (`ledger.verify._serving_answer`);
- `DECISIONS`: the detail store of scoring decisions against the log's batch entries
  (`ledger.verify._decisions`);
- `RECEIPT`: one decision's receipt (`ledger.verify._receipt`).

A failed report names the first bad `seq` (or, for what is not an entry, the `item`: a
stored node), one `Problem` and a message for a person. Inside a verifier the first problem
is raised as `Failed` and caught where the report is made, so that each check is one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ledger.errors import (
    ArtifactTampered,
    ChainBroken,
    CheckpointInvalid,
    CheckpointMismatch,
    HashMismatch,
    NotWitnessed,
    ServingAnswerInvalid,
    VerificationError,
)
from ledger.log.checkpoint import Checkpoint


class Problem(StrEnum):
    """What verification can find wrong; the value is the name the JSON and the CLI print."""

    GAP = "gap"
    BROKEN_LINK = "broken-link"
    HASH_MISMATCH = "hash-mismatch"
    BAD_SIGNATURE = "bad-signature"
    UNKNOWN_KEY = "unknown-key"
    CHECKPOINT_MISMATCH = "checkpoint-mismatch"
    CHECKPOINT_INVALID = "checkpoint-invalid"
    TRUNCATED = "truncated"
    HEAD_MISMATCH = "head-mismatch"
    ARTIFACT_TAMPERED = "artifact-tampered"
    ARTIFACT_MISSING = "artifact-missing"
    MALFORMED = "malformed"
    TIME_REVERSED = "time-reversed"
    TREE_MISMATCH = "tree-mismatch"
    BAD_REFERENCE = "bad-reference"
    """An entry cites (`ledger.governance._citations`) no earlier entry, or one of another
    model or kind (for example a run rewritten after it was approved: the signed approval
    still names the run's old hash)."""
    WEAK_KEY = "weak-key"
    NON_CANONICAL_SIGNATURE = "non-canonical-signature"
    REPLAYED_SIGNATURE = "replayed-signature"
    TREE_NODE_MISSING = "tree-node-missing"
    """A stored Merkle node that proofs need is not in the store."""
    NOT_CANONICAL = "not-canonical"
    """evidence.json is not in RFC 8785 canonical form (it was edited)."""
    KEY_MISMATCH = "verifier-key-mismatch"
    """The document names another ledger key than the one the verifier pinned."""
    NOT_INCLUDED = "inclusion-proof-failed"
    """An entry's RFC 9162 inclusion proof does not place it in the signed tree."""
    KEY_NOT_PROVEN = "key-not-proven"
    """A signature's key has no registration among the entries the document proves."""
    ARTIFACTS_MISMATCH = "artifacts-mismatch"
    NO_EVIDENCE = "no-evidence"
    PAGES_NOT_BOUND = "pages-not-bound"
    """A card's visible pages do not state what its proven entries determine."""
    CHECKPOINT_CONFLICT = "checkpoint-conflict"
    """Two checkpoints of one log, signed with its key, do not describe one history."""
    UNSIGNED = "unsigned"
    """The entry carries no signature (for a document that shows whether one is signed)."""
    CLAIM_NOT_PROVEN = "claim-not-proven"
    """A serving answer claims what its proven entries do not show."""
    LEAF_MISMATCH = "leaf-mismatch"
    """A scoring decision's stored details do not hash to its leaf (they were altered)."""
    BATCH_ROOT_MISMATCH = "batch-root-mismatch"
    """A batch's leaves do not give the root its `scoring.batch` entry records."""
    DECISION_MISSING = "decision-missing"
    """A batch has fewer or more detail rows than its entry counts."""
    DETAILS_MISSING = "details-missing"
    """A decision lost its details and no erasure or purge entry of the log erased them."""
    NOT_WITNESSED = "not-witnessed"
    """The checkpoint lacks the witness cosignatures the verifier requires
    (`ledger.log.witness_policy`): it may be one side of a split view."""


class Subject(StrEnum):
    """What a report is about (it decides the report's OK line)."""

    LEDGER = "ledger"
    TREE = "stored tree"
    EVIDENCE = "evidence"
    PAGES = "pages"
    CHECKPOINTS = "checkpoints"
    SIGNATURE = "signature"
    SERVING = "serving answer"
    DECISIONS = "scoring decisions"
    RECEIPT = "receipt"


_ERRORS: dict[Problem, type[VerificationError]] = {
    Problem.GAP: ChainBroken,
    Problem.BROKEN_LINK: ChainBroken,
    Problem.HASH_MISMATCH: HashMismatch,
    Problem.CHECKPOINT_MISMATCH: CheckpointMismatch,
    Problem.CHECKPOINT_CONFLICT: CheckpointMismatch,
    Problem.CHECKPOINT_INVALID: CheckpointInvalid,
    Problem.NOT_WITNESSED: NotWitnessed,
    Problem.ARTIFACT_TAMPERED: ArtifactTampered,
    Problem.CLAIM_NOT_PROVEN: ServingAnswerInvalid,
}
"""The error `raise_for_problem` raises for a problem (VerificationError for the others)."""


class Failed(Exception):
    """The first problem a verifier found, raised inside it and turned into its report."""

    def __init__(
        self, problem: Problem, message: str, *, seq: int | None = None, item: str | None = None
    ) -> None:
        super().__init__(message)
        self.problem, self.message, self.seq, self.item = problem, message, seq, item


@dataclass(frozen=True, slots=True)
class VerificationReport:
    """The outcome of one verification: `ok`, or the first bad seq or item and why.

    The counts say how much was checked (for a failure: before the first problem). `size`
    and `root` are the tree verified: the log's recomputed root, or the checkpoint a
    document is proven against; `checkpoint` is the signed checkpoint it matched.
    """

    subject: Subject
    ok: bool
    problem: Problem | None = None
    first_bad_seq: int | None = None
    item: str | None = None
    """The bad thing when it is not an entry, in words: "stored node (level 4, index 5)"."""
    message: str = ""
    """Why it failed, for a person; empty when ok."""
    size: int = 0
    root: bytes = b""
    checkpoint: Checkpoint | None = None
    entries_after_checkpoint: int = 0
    entries_checked: int = 0
    signatures_checked: int = 0
    artifacts_checked: int = 0
    seconds: float = 0.0
    key_pinned: bool = False
    """True when the ledger key came from the verifier, not from the document checked."""
    notes: tuple[str, ...] = ()
    """What the further checks that passed found (pages compared, a held checkpoint linked,
    the key a signature verifies with), for the OK line."""

    @classmethod
    def failure(cls, subject: Subject, failed: Failed, **facts: Any) -> VerificationReport:
        """The report of a verification that stopped at `failed`, with what it had counted."""
        return cls(
            subject=subject,
            ok=False,
            problem=failed.problem,
            first_bad_seq=failed.seq,
            item=failed.item,
            message=failed.message,
            **facts,
        )

    @property
    def detail(self) -> str:
        """What a person reads beside ok or FAILED: why it failed, or what passed found."""
        return "; ".join(n for n in self.notes if n) if self.ok else self.message

    def summary(self) -> str:
        """One line for a terminal or a log: "OK: ..." or "FAILED at seq N: problem: why"."""
        if not self.ok:
            where = f"seq {self.first_bad_seq}" if self.first_bad_seq is not None else self.item
            if where is None and self.subject is Subject.LEDGER:
                where = "ledger"
            at = f" at {where}" if where is not None else ""
            return f"FAILED{at}: {self.problem}: {self.message}"
        notes = "".join(f"; {note}" for note in self.notes if note)
        if self.subject is Subject.LEDGER:
            cp = (
                f"checkpoint {self.checkpoint.size} matches"
                if self.checkpoint
                else "no checkpoint yet"
            )
            return (
                f"OK: {self.size} entries, root {self.root.hex()}, {cp}, "
                f"{self.signatures_checked} signatures and {self.artifacts_checked} artifacts "
                f"checked in {self.seconds:.2f}s{notes}"
            )
        if self.subject is Subject.EVIDENCE:
            pin = "pinned key" if self.key_pinned else "key taken from the card (pass --key to pin)"
            origin = self.checkpoint.origin if self.checkpoint else ""
            return (
                f"OK: {self.entries_checked} entries and {self.signatures_checked} signatures "
                f"verified against the checkpoint of {origin} at tree size {self.size}, root "
                f"{self.root.hex()} ({pin}){notes}"
            )
        if self.subject is Subject.TREE:
            return f"OK: every stored Merkle node of the tree of {self.size} entries verifies"
        return "OK: " + (self.detail or f"the {self.subject} verifies")

    def raise_for_problem(self) -> None:
        """Raise the error of the problem (a VerificationError) when verification failed."""
        if not self.ok:
            error = _ERRORS.get(self.problem, VerificationError) if self.problem else None
            raise (error or VerificationError)(self.summary(), seq=self.first_bad_seq)

    def to_dict(self) -> dict[str, object]:
        """JSON form for the API and the CLI's --json (the keys `govledger verify` prints)."""
        out: dict[str, object] = {
            "ok": self.ok,
            "size": self.size,
            "root": self.root.hex(),
            "checkpoint": None
            if self.checkpoint is None
            else {
                "size": self.checkpoint.size,
                "root": self.checkpoint.root.hex(),
                "note": self.checkpoint.note,
            },
            "entries_after_checkpoint": self.entries_after_checkpoint,
            "signatures_checked": self.signatures_checked,
            "artifacts_checked": self.artifacts_checked,
            "seconds": round(self.seconds, 3),
            "first_bad_seq": self.first_bad_seq,
            "problem": None if self.problem is None else self.problem.value,
            "message": self.message,
        }
        if self.subject is Subject.LEDGER and self.notes:
            out["notes"] = list(self.notes)  # "witnessed up to size N of M", under a policy
        if self.subject is not Subject.LEDGER:
            out.update(
                subject=self.subject.value,
                item=self.item,
                entries_checked=self.entries_checked,
                key_pinned=self.key_pinned,
                notes=list(self.notes),
            )
        return out
