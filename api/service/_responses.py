"""What the log's operations answer: entries, their proofs, checkpoints, verification.

Response models document the answers in the OpenAPI document; they are never used to build
an answer. Routes keep returning what they return (an entry's `to_dict()`, a pre-built
`JSONResponse`) and attach a model with `responses={status: {"model": ...}}` (`success`),
so a documented answer costs no validation pass and its bytes stay those the route writes;
`tests/api/test_openapi_responses.py` validates real answers against the document instead.
An `Answer` forbids members it does not name (`additionalProperties: false`), so that the
document lists every member a route writes; an object whose members are open (a
statement's payload, a monitoring plan) says so with `dict[str, Any]`.

The vocabulary is RFC 9162's (inclusion and consistency proofs, tree size, leaf index) and
C2SP's (signed-note checkpoints, tlog-cosignature witnesses).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

Sha256 = Annotated[str, Field(pattern="^[0-9a-f]{64}$", description="SHA-256, lower-case hex")]


Responses = dict[int | str, dict[str, Any]]
"""What a route's `responses=` takes: an answer's description, model or content by status."""


class Answer(BaseModel):
    """A JSON object the service answers, with every member named."""

    model_config = ConfigDict(extra="forbid")


def success(model: type[BaseModel], description: str, status: int = 200) -> Responses:
    """The `responses=` of a route whose success answer is `model`, at `status`."""
    return {status: {"model": model, "description": description}}


def download(media_type: str, description: str) -> Responses:
    """The `responses=` of a route that answers a file of `media_type`: in OpenAPI 3.1 a
    Media Type Object without a schema stands for bytes of that type, as a download is."""
    return {200: {"description": description, "content": {media_type: {}}}}


class Statement(Answer):
    """What an actor asserts: the fields an Ed25519 signature covers, as RFC 8785
    canonical JSON."""

    kind: str = Field(description="The statement kind, e.g. run.training, approval.granted")
    model: str = Field(description="The model's name; empty for the ledger's rules")
    version: str = Field(description="The model version; empty when about the model")
    actor: str = Field(description="Who asserts it (the authenticated user)")
    reason: str = Field(description="Why, shown to auditors (required by some kinds)")
    payload: dict[str, Any] = Field(description="The kind's record, as sent")
    issued_at: str | None = Field(description="RFC 3339 UTC time of signing, if signed")


class LedgerEntry(Answer):
    """One entry of the append-only, hash-chained log."""

    seq: int = Field(ge=0, description="Position in the log: its leaf index (RFC 9162)")
    entry_id: str = Field(description="UUIDv7 of the entry")
    recorded_at: str = Field(description="RFC 3339 UTC time the ledger recorded it")
    prev_hash: str = Field(description="entry_hash of the previous entry (zeros for seq 0)")
    statement: Statement
    signature: str | None = Field(description="Ed25519 signature over the statement, base64")
    key_id: str | None = Field(description="Id of the signing key (registered in the ledger)")
    entry_hash: Sha256


class EntryPage(Answer):
    """A page of entries, in seq order (or reversed)."""

    items: list[LedgerEntry]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: last")


class EntriesWritten(Answer):
    """The entries a batch appended, in seq order (all or none are written)."""

    entries: list[LedgerEntry]


class RunWritten(LedgerEntry):
    """A run's entry, with the evaluations recorded with it (after it, in order)."""

    evaluations: list[LedgerEntry]


class InclusionProof(Answer):
    """An inclusion proof (RFC 9162 section 2.1.3) of a leaf in the tree of a checkpoint."""

    leaf_index: int = Field(ge=0, description="The entry's seq")
    tree_size: int = Field(ge=1, description="The size of the tree the proof is to")
    hashes: list[str] = Field(description="The audit path, leaf to root, hex")


class EntryWithProof(Answer):
    """An entry, its inclusion proof, and the signed checkpoint the proof leads to."""

    entry: LedgerEntry
    inclusion_proof: InclusionProof
    checkpoint: str = Field(description="The C2SP signed note of the tree the proof is to")


class WitnessedCheckpoint(Answer):
    """The checkpoint the most witnesses cosigned (c2sp.org/tlog-cosignature)."""

    size: int = Field(ge=0)
    note: str = Field(description="Signed note with the witnesses' cosignature lines")


class Checkpoint(Answer):
    """The latest signed checkpoint (c2sp.org/tlog-checkpoint): origin, tree size, root."""

    origin: str = Field(description="The log's origin line (its name)")
    size: int = Field(ge=0, description="Tree size: how many entries the root covers")
    root: str = Field(description="Merkle tree head (RFC 9162 section 2.1.1), hex")
    note: str = Field(description="The signed note, with any witness cosignature lines")
    verifier_key: str = Field(description="The note verifier key (name+hash+key) to check it")
    witnessed: WitnessedCheckpoint


class ConsistencyProof(Answer):
    """A consistency proof (RFC 9162 section 2.1.4) that the tree of `old_size` is a prefix
    of the tree of `new_size`: the log only appended."""

    old_size: int = Field(ge=0)
    new_size: int = Field(ge=0)
    old_root: str = Field(description="Root of the first old_size entries, hex")
    new_root: str = Field(description="Root of the first new_size entries, hex")
    hashes: list[str] = Field(description="The proof's nodes, hex")


class CheckpointSeen(Answer):
    """The checkpoint a verification checked against."""

    size: int
    root: str
    note: str


class VerificationReport(Answer):
    """The outcome of a verification: ok, or the first bad seq and the problem."""

    ok: bool
    size: int = Field(description="Entries (or decisions) verified")
    root: str = Field(description="The recomputed root, hex (empty when none)")
    checkpoint: CheckpointSeen | None
    entries_after_checkpoint: int
    signatures_checked: int
    artifacts_checked: int
    seconds: float
    first_bad_seq: int | None
    problem: str | None = Field(description="The failure, e.g. chain-broken; null when ok")
    message: str = Field(description="One line: what was verified or what failed")
    notes: list[str] = Field(default=[], description="e.g. witnessed up to size N of M")
    subject: str | None = Field(default=None, description="What was verified, if not the log")
    item: str | None = None
    entries_checked: int | None = None
    key_pinned: bool | None = None


class LedgerVerification(VerificationReport):
    """`govledger verify` over HTTP: the log, then the scoring decisions against it."""

    decisions: VerificationReport | None = Field(
        description="The decisions' report; null when the log fails (checked against proven "
        "entries only)"
    )


class RuleViolation(Answer):
    """An entry the rules in force at its seq would have refused."""

    seq: int
    kind: str
    actor: str
    model: str
    version: str
    problem: str
    why: str
    refused_seq: int | None = Field(description="The refusal it silently accepts, if any")
    silently_accepted: bool


class RulesReplay(Answer):
    """The replay audit: every gated entry re-checked against roles, four eyes and the
    deployment policy in force at its seq."""

    ok: bool
    recorded: bool = Field(description="Whether the ledger records an access set")
    entries: int
    gated: int
    not_gated: int
    initial: int
    refusals: int
    access_set_seq: int | None
    violation_count: int
    violations: list[RuleViolation]
    first_violation: RuleViolation | None
    configured_policy_used: int
    unbound_promotions: int
    seconds: float
    message: str


class StoredArtifact(Answer):
    """An artifact's reference as a run cites it (`ledger.log.payloads.ArtifactRef`)."""

    name: str
    sha256: Sha256
    size: int | None
    media_type: str | None
    stored: bool = Field(description="The bytes are in the ledger's artifact store")
    role: str | None
    serialization: dict[str, Any] | None


class Health(Answer):
    """The service answers, over a ledger of `size` entries."""

    status: str
    size: int


LOCATION = {
    "Location": {
        "description": "The first entry written: /v1/entries/{seq}",
        "schema": {"type": "string"},
    }
}


def created(model: type[BaseModel], description: str) -> Responses:
    """The `responses=` of a route that appends entries and answers 201 with a Location."""
    return {201: {"model": model, "description": description, "headers": LOCATION}}
