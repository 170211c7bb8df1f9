"""What the scoring operations answer: a batch recorded, a decision, its receipt.

Documentation only (see `api.service._responses`): the ingest route builds its answer
itself, on the hot path, and nothing here runs there. A decision's applicant is a keyed
hash (no personal data in the log); its details go once erased (GDPR Art. 17) or purged at
the end of retention (12 CFR 1002.12(b)), and the leaf hash with its salt still proves it.
"""

from __future__ import annotations

from pydantic import Field

from api.service._responses import Answer, LedgerEntry, Sha256


class BatchRecorded(Answer):
    """A batch of decisions recorded as one `scoring.batch` entry (its payload carries the
    batch's Merkle root); each decision is a leaf of that root."""

    entry: LedgerEntry
    count: int = Field(description="How many decisions the batch recorded")


class DecisionLeaf(Answer):
    """A decision as its leaf encodes it (`govledger/scoring-decision/v1`)."""

    decision_id: str
    applicant: str = Field(description="hmac-sha256:<hex>, a keyed hash of the reference")
    decided_at: str = Field(description="RFC 3339 UTC")
    environment: str
    model: str
    version: str
    score: float
    outcome: str = Field(description="approve, decline or refer")
    reasons: list[str] = Field(
        description="Adverse-action reason codes, principal first (12 CFR 1002.9(b)(2))"
    )
    salt: str = Field(description="16 random bytes (hex) in the leaf: no guessing it back")


class RecordedDecision(Answer):
    """A decision in the detail store: where its leaf is, and its details unless erased."""

    decision_id: str
    batch_seq: int = Field(description="The seq of its batch's entry")
    leaf_index: int
    leaf_hash: Sha256
    decision: DecisionLeaf | None = Field(description="null once erased or purged")
    erased_seq: int | None = Field(description="The erasure or purge entry, if any")


class ApplicantDecision(Answer):
    """One of an applicant's decisions."""

    decision_id: str
    decision: DecisionLeaf


class ApplicantDecisions(Answer):
    """An applicant's decisions in the period (erased ones are not found)."""

    items: list[ApplicantDecision]


class ReceiptLeaf(Answer):
    """The decision's leaf in its batch's tree."""

    index: int
    hash: Sha256


class ReceiptBatch(Answer):
    """The batch entry and the inner proof from the leaf to the batch's root."""

    seq: int
    size: int = Field(description="Decisions in the batch: the inner tree's size")
    inner_proof: list[str] = Field(description="Audit path, leaf to root (RFC 9162), hex")


class ReceiptErasure(Answer):
    """The entry that erased or purged the decision's details."""

    seq: int
    kind: str
    legal_basis: str | None


class ReceiptEvidence(Answer):
    """The entries the receipt rests on, each with an inclusion proof to one checkpoint."""

    origin: str
    verifier_key: str
    checkpoint: str = Field(description="The C2SP signed note the proofs lead to")
    tree_size: int
    entries: list[LedgerEntry]
    proofs: dict[str, list[str]] = Field(description="Audit paths by seq, hex")


class CatalogueCited(Answer):
    """The reason catalogue the batch cites."""

    seq: int


class Receipt(Answer):
    """A "govledger-receipt/v1" document: the decision, its inner proof to the batch's
    root, the batch entry's inclusion proof to a signed checkpoint; checkable offline
    (`govledger verify-receipt`)."""

    format: str = Field(description="govledger-receipt/v1")
    decision_id: str
    decision: DecisionLeaf | None = Field(description="null once erased or purged")
    erased: ReceiptErasure | None
    leaf: ReceiptLeaf
    batch: ReceiptBatch
    catalogue: CatalogueCited | None
    evidence: ReceiptEvidence
