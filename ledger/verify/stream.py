"""Verification: recompute every hash, link, signature and the Merkle root, streaming.

`StreamVerifier` consumes entries in seq order with O(log n) state (the Merkle frontier, the
registered keys) and stops at the first problem, naming its seq and what is wrong. It knows
nothing of where entries come from: `verify_ledger` feeds it from the database in chunks
(for a large log, several processes each feed one over a range: `ledger.verify_ranges`),
`ledger.bundle.verify_bundle` from an export file. The result is a `VerificationReport`:
`ok` is True or False, never "maybe" (after sigstore-python's verification API).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from ledger.errors import (
    CheckpointInvalid,
    InvalidStatement,
    NonCanonicalSignature,
    NotFound,
    SignatureInvalid,
    VerificationError,
    WeakKey,
)
from ledger.governance import citations
from ledger.governance.citations import CITING_KINDS
from ledger.log import ed25519_strict, merkle, signing
from ledger.log.checkpoint import Checkpoint, VerifierKey, verify_checkpoint
from ledger.store.artifacts import ArtifactState, ArtifactStore

if TYPE_CHECKING:
    from ledger.log.entries import Statement
    from ledger.store import LedgerStore

_encode_string = json.encoder.encode_basestring
"""The JSON string encoder records.py builds canonical forms with (RFC 8785 escaping)."""

_STATEMENT_FORMAT = (
    '{"actor":%s,"issued_at":%s,"kind":%s,"model":%s,"payload":%s,"reason":%s,"version":%s}'
)
"""`Statement.canonical_json()` as one format: the keys in RFC 8785 order, strings encoded,
the payload already canonical text."""

_ENTRY_FORMAT = (
    '{"entry_id":%s,"key_id":%s,"prev_hash":"%s","recorded_at":%s,"seq":%d,"signature":%s,'
    '"statement":' + _STATEMENT_FORMAT + "}"
)
"""`records.entry_canonical_json()` as one format, with the statement inlined. Any
difference from records.py would fail the verification of every honest ledger, which the
tests verify on SQLite and PostgreSQL."""

_SIGNATURE_REQUIRED = frozenset({"approval.granted", "approval.rejected", "key.registered"})
Reference = tuple[int, str, str, str]
"""What verification needs to know of an entry another one cites: (seq, kind, model, version)."""

FindReference = Callable[[bytes], "Reference | None"]
"""Looks an entry up by its entry_hash (the store's index), None when no entry has it."""


class Problem(StrEnum):
    """What verification can find wrong."""

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
    """An entry cites (`ledger.citations`) no earlier entry, or one of another model or kind
    (for example a run rewritten after it was approved: the signed approval still names the
    run's old hash)."""
    WEAK_KEY = "weak-key"
    NON_CANONICAL_SIGNATURE = "non-canonical-signature"
    REPLAYED_SIGNATURE = "replayed-signature"


@dataclass(frozen=True, slots=True)
class VerificationReport:
    """The outcome of a verification run."""

    ok: bool
    size: int
    root: bytes
    checkpoint: Checkpoint | None
    entries_after_checkpoint: int
    signatures_checked: int
    artifacts_checked: int
    seconds: float
    first_bad_seq: int | None = None
    problem: Problem | None = None
    message: str = ""

    def summary(self) -> str:
        """One line for a terminal or a log."""
        if self.ok:
            cp = (
                f"checkpoint {self.checkpoint.size} matches"
                if self.checkpoint
                else "no checkpoint yet"
            )
            return (
                f"OK: {self.size} entries, root {self.root.hex()}, {cp}, "
                f"{self.signatures_checked} signatures and {self.artifacts_checked} artifacts "
                f"checked in {self.seconds:.2f}s"
            )
        where = f"seq {self.first_bad_seq}" if self.first_bad_seq is not None else "ledger"
        return f"FAILED at {where}: {self.problem}: {self.message}"

    def raise_for_problem(self) -> None:
        """Raise VerificationError when verification failed."""
        if not self.ok:
            raise VerificationError(self.summary(), seq=self.first_bad_seq)

    def to_dict(self) -> dict[str, object]:
        """JSON form for the API and the CLI's --json."""
        return {
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


def _fingerprint(public_key_b64: str) -> str | None:
    """The key_id of a base64 raw public key (`signing.key_id_for`); None if it is not one
    in canonical base64."""
    try:
        raw = ed25519_strict.canonical_b64(public_key_b64, "public key", 32)
    except ValueError:
        return None
    return signing.key_id_for(raw)


class _Failure(Exception):
    def __init__(self, seq: int | None, problem: Problem, message: str) -> None:
        super().__init__(message)
        self.seq, self.problem, self.message = seq, problem, message


@dataclass
class _Key:
    actor: str
    public_key: str
    revoked_at: int | None = None


def keys_before(events: Iterable[Sequence[Any]], position: int) -> dict[str, _Key]:
    """The actor keys a verifier holds when it reaches seq `position`, from the key entries.

    `events` are (seq, kind, actor, payload, key_id) of the key.registered and key.revoked
    entries (`LedgerStore.key_events`). This replays what `StreamVerifier.feed_rows` does
    with them, without checking them: it is used to start verifying in the middle of the
    log, and the state it gives is exact whenever every entry before `position` verifies
    (when one does not, that earlier entry is the failure reported, so this state is moot).
    """
    keys: dict[str, _Key] = {}
    for seq, kind, actor, payload, key_id in events:
        if seq >= position:
            break
        if kind == "key.registered" and key_id is not None:
            keys[key_id] = _Key(actor, str(json.loads(payload).get("public_key", "")))
        elif kind == "key.revoked":
            key = keys.get(json.loads(payload).get("key_id", ""))
            if key is not None and key.revoked_at is None:
                key.revoked_at = seq
    return keys


@dataclass
class StreamVerifier:
    """Checks entries fed in order; call `finish` for the report.

    `checkpoints` are signed tree heads to compare the recomputed roots with (each has been
    signature-checked by the caller or is checked here with `verifier_key`).
    """

    checkpoints: Sequence[Checkpoint] = ()
    verifier_key: VerifierKey | None = None
    artifact_store: ArtifactStore | None = None
    find_reference: FindReference | None = None
    """How to look up an entry a decision or run cites (the store's entry_hash index). None:
    the verifier remembers the entries of every model it has seen instead, which costs
    memory in proportion to the log, for sources without an index (bundles)."""
    _size: int = 0
    _last_hash: bytes | None = bytes(32)
    _last_recorded: str | None = None
    _tree: list[bytes] = field(default_factory=list)
    _leaves: int = 0
    _keys: dict[str, _Key] = field(default_factory=dict)
    _artifacts_seen: set[str] = field(default_factory=set)
    _signatures: int = 0
    _signed: dict[bytes, int] = field(default_factory=dict)
    _digests: dict[bytes, int] = field(default_factory=dict)
    _pending: list[Checkpoint] = field(default_factory=list)
    _failure: _Failure | None = None
    _started: float = field(default_factory=time.perf_counter)
    _seen: dict[bytes, Reference] | None = None

    def __post_init__(self) -> None:
        if self.find_reference is None:
            self._seen = {}
            self.find_reference = self._seen.get
        checked: list[Checkpoint] = []
        for cp in self.checkpoints:
            if self.verifier_key is not None:
                try:
                    verify_checkpoint(cp.note, self.verifier_key)
                except CheckpointInvalid as exc:
                    self._failure = _Failure(
                        None,
                        Problem.CHECKPOINT_INVALID,
                        f"checkpoint of size {cp.size}: {exc.message}",
                    )
                    return
            checked.append(cp)
        self._pending = sorted(checked, key=lambda c: c.size)
        while self._pending and self._pending[0].size == 0:
            self._check_root(self._pending.pop(0))

    def resume(
        self,
        size: int,
        last_hash: bytes | None,
        frontier: merkle.MerkleFrontier,
        keys: dict[str, _Key],
        *,
        last_recorded: str | None = None,
        signatures: int = 0,
        artifacts_seen: Iterable[str] = (),
        signed: tuple[dict[bytes, int], dict[bytes, int]] | None = None,
    ) -> None:
        """Start checking at seq `size`, as if the entries before it had been fed.

        For verification in ranges (`ledger.verify_ranges`): `frontier` is the Merkle
        frontier of the entries before `size` (or a fresh one, for a range that returns its
        subtree hashes), `keys` comes from `keys_before`, and `last_hash` None skips the
        link check of the first entry, which the caller then does itself (and so does
        `last_recorded` None for the first entry's time). Checkpoints up to
        `size` are the caller's to have checked; `signatures` and `artifacts_seen` carry the
        counts of the entries before `size` into the report, and `signed` the signed
        statements seen before it (`signed_seen`), so that a replay of one is caught.
        """
        self._size = size
        self._last_hash = last_hash
        self._last_recorded = last_recorded
        self._tree = list(frontier.hashes)
        self._leaves = frontier.size
        self._keys = keys
        self._signatures = signatures
        self._artifacts_seen = set(artifacts_seen)
        self._signed = {} if signed is None else dict(signed[0])
        self._digests = {} if signed is None else dict(signed[1])
        self._pending = [cp for cp in self._pending if cp.size > size]

    @property
    def size(self) -> int:
        """The number of entries checked so far (the next expected seq)."""
        return self._size

    @property
    def last_hash(self) -> bytes | None:
        """The entry_hash of the last entry checked."""
        return self._last_hash

    @property
    def last_recorded(self) -> str | None:
        """The recorded_at of the last entry checked."""
        return self._last_recorded

    @property
    def frontier_hashes(self) -> tuple[bytes, ...]:
        """The Merkle frontier's subtree hashes so far (`merkle.MerkleFrontier.hashes`)."""
        return tuple(self._tree)

    @property
    def signatures(self) -> int:
        """How many signatures have been checked."""
        return self._signatures

    @property
    def signed_seen(self) -> tuple[dict[bytes, int], dict[bytes, int]]:
        """The signed statements checked so far: {signature bytes: seq} and {SHA-256 of the
        canonical statement: seq}. Only signed entries are kept (they are few)."""
        return dict(self._signed), dict(self._digests)

    @property
    def artifacts_seen(self) -> frozenset[str]:
        """The digests of the stored artifacts checked so far."""
        return frozenset(self._artifacts_seen)

    @property
    def failed(self) -> bool:
        """True once a problem was found; later entries are ignored."""
        return self._failure is not None

    def feed(
        self,
        seq: int,
        entry_id: str,
        recorded_at: str,
        prev_hash: bytes,
        statement: Statement,
        signature: str | None,
        key_id: str | None,
        entry_hash: bytes,
    ) -> bool:
        """Check one entry; return False (and stop) at the first problem."""
        st = statement
        row = (
            seq,
            entry_id,
            recorded_at,
            prev_hash,
            st.kind,
            st.model,
            st.version,
            st.actor,
            st.reason,
            st.payload_json,
            st.issued_at,
            signature,
            key_id,
            entry_hash,
        )
        return self.feed_rows((row,))

    def feed_rows(self, rows: Iterable[Sequence[Any]]) -> bool:
        """Check entry rows (store column order) in seq order; False at the first problem.

        This is the loop every verified entry goes through, once per entry of a log of
        millions, so it keeps its state in locals and builds the canonical entry with one
        format operation instead of a Statement object and two function calls (together
        about twice as fast). The checks and their order are those of docs/architecture.md:
        seq without gap, link to the previous entry, entry hash, time order, signature and
        key, citations, artifacts, Merkle root at each checkpoint.
        """
        if self._failure is not None:
            return False
        encode = _encode_string
        sha256 = hashlib.sha256
        tree = self._tree
        tree_pop, tree_append = tree.pop, tree.append
        artifacts = self.artifact_store is not None
        size = self._size
        leaves = self._leaves
        last_hash = self._last_hash
        last_recorded = self._last_recorded
        next_checkpoint = self._pending[0].size if self._pending else -1
        seen = self._seen
        citing, may_cite = CITING_KINDS, citations.may_cite
        try:
            for row in rows:
                (
                    seq,
                    entry_id,
                    recorded_at,
                    prev_hash,
                    kind,
                    model,
                    version,
                    actor,
                    reason,
                    payload,
                    issued_at,
                    signature,
                    key_id,
                    entry_hash,
                ) = row
                if seq != size:
                    what = "missing" if seq > size else "out of order or duplicated"
                    raise _Failure(
                        size, Problem.GAP, f"expected seq {size}, found seq {seq}: entries {what}"
                    )
                if last_hash is not None and prev_hash != last_hash:
                    raise _Failure(
                        seq,
                        Problem.BROKEN_LINK,
                        "prev_hash does not match the previous entry's hash",
                    )
                text = _ENTRY_FORMAT % (
                    encode(entry_id),
                    "null" if key_id is None else encode(key_id),
                    prev_hash.hex(),
                    encode(recorded_at),
                    seq,
                    "null" if signature is None else encode(signature),
                    encode(actor),
                    "null" if issued_at is None else encode(issued_at),
                    encode(kind),
                    encode(model),
                    payload,
                    encode(reason),
                    encode(version),
                )
                if sha256(text.encode("utf-8")).digest() != entry_hash:
                    raise _Failure(
                        seq,
                        Problem.HASH_MISMATCH,
                        "entry_hash is not the SHA-256 of the entry's canonical form: the "
                        "entry was altered",
                    )
                if last_recorded is not None and recorded_at < last_recorded:
                    raise _Failure(
                        seq,
                        Problem.TIME_REVERSED,
                        f"recorded_at {recorded_at} is earlier than the previous entry's "
                        f"{last_recorded}: the ledger never stamps a time earlier than the "
                        "last, so this entry was not appended in order by it",
                    )
                last_recorded = recorded_at
                if signature is not None or key_id is not None:
                    self._check_signature(row)
                elif kind in _SIGNATURE_REQUIRED:
                    raise _Failure(seq, Problem.BAD_SIGNATURE, f"{kind} carries no signature")
                if kind == "key.revoked":
                    key = self._keys.get(json.loads(payload).get("key_id", ""))
                    if key is not None and key.revoked_at is None:
                        key.revoked_at = seq
                if artifacts and '"artifacts"' in payload:
                    self._check_artifacts(seq, payload)
                if kind in citing and may_cite(kind, payload):
                    self._check_citations(seq, kind, model, version, payload)
                if seen is not None and model:
                    seen[entry_hash] = (seq, kind, model, version)
                # merkle.MerkleFrontier.append, inlined without the list of completed
                # subtrees it builds for the store (40% of its time): RFC 9162 leaf hash,
                # then one node hash per carry of the leaf count.
                node = sha256(b"\x00" + entry_hash).digest()
                carry = leaves
                while carry & 1:
                    node = sha256(b"\x01" + tree_pop() + node).digest()
                    carry >>= 1
                tree_append(node)
                leaves += 1
                last_hash = entry_hash
                size = seq + 1
                if size == next_checkpoint:
                    self._size = size
                    while self._pending and self._pending[0].size == size:
                        self._check_root(self._pending.pop(0))
                    next_checkpoint = self._pending[0].size if self._pending else -1
        except _Failure as failure:
            self._failure = failure
            return False
        finally:
            self._size = size
            self._leaves = leaves
            self._last_hash = last_hash
            self._last_recorded = last_recorded
        return True

    def _check_signature(self, row: Sequence[Any]) -> None:
        (seq, _, _, _, kind, model, version, actor, reason, payload_json, issued_at) = row[:11]
        signature, key_id = row[11], row[12]
        if signature is None or key_id is None:
            raise _Failure(seq, Problem.BAD_SIGNATURE, "signature without key_id or vice versa")
        if kind == "key.registered":
            payload = json.loads(payload_json)
            key = _Key(actor, str(payload.get("public_key", "")))
            try:
                ed25519_strict.parse_public_key(key.public_key)
            except WeakKey as exc:
                raise _Failure(seq, Problem.WEAK_KEY, f"key {key_id}: {exc.message}") from None
            except InvalidStatement as exc:
                raise _Failure(seq, Problem.BAD_SIGNATURE, exc.message) from None
            if payload.get("key_id") != key_id or _fingerprint(key.public_key) != key_id:
                raise _Failure(
                    seq, Problem.BAD_SIGNATURE, "key registration not signed by the registered key"
                )
            if key_id in self._keys:  # admission refuses it too: it would undo a revocation
                raise _Failure(
                    seq, Problem.BAD_SIGNATURE, f"key {key_id} was already registered earlier"
                )
            public_key = key.public_key
        else:
            known = self._keys.get(key_id)
            if known is None:
                raise _Failure(
                    seq,
                    Problem.UNKNOWN_KEY,
                    f"signed by key {key_id}, which no earlier entry registered",
                )
            if known.revoked_at is not None:
                raise _Failure(
                    seq,
                    Problem.BAD_SIGNATURE,
                    f"signed by key {key_id}, revoked at seq {known.revoked_at}",
                )
            if known.actor != actor:
                raise _Failure(
                    seq,
                    Problem.BAD_SIGNATURE,
                    f"key {key_id} belongs to {known.actor}, not {actor}",
                )
            public_key = known.public_key
        encode = _encode_string
        statement_json = _STATEMENT_FORMAT % (
            encode(actor),
            "null" if issued_at is None else encode(issued_at),
            encode(kind),
            encode(model),
            payload_json,
            encode(reason),
            encode(version),
        )
        try:
            raw_signature = ed25519_strict.parse_signature(signature)
        except NonCanonicalSignature as exc:
            raise _Failure(seq, Problem.NON_CANONICAL_SIGNATURE, exc.message) from None
        except SignatureInvalid as exc:
            raise _Failure(seq, Problem.BAD_SIGNATURE, exc.message) from None
        signed_bytes = statement_json.encode("utf-8")
        if not signing.verify(public_key, signed_bytes, signature):
            raise _Failure(
                seq, Problem.BAD_SIGNATURE, "Ed25519 signature does not verify over the statement"
            )
        digest = signing.statement_digest(signed_bytes)
        earlier = self._signed.get(raw_signature, self._digests.get(digest))
        if earlier is not None:
            raise _Failure(
                seq,
                Problem.REPLAYED_SIGNATURE,
                f"the signed statement of seq {earlier} appears again (the same signature "
                "bytes or the same statement): a replay, which admission refuses",
            )
        self._signed[raw_signature] = seq
        self._digests[digest] = seq
        if kind == "key.registered":
            self._keys[key_id] = key
        self._signatures += 1

    def _check_citations(
        self, seq: int, kind: str, model: str, version: str, payload_json: str
    ) -> None:
        """Every entry this one cites exists earlier in this log and is about the right model
        (`ledger.citations`, the rule admission applies too).

        A signed approval names the entry_hash of the run it approves. Someone who rewrites
        that run and recomputes every later hash (and re-signs the checkpoints, holding the
        ledger key) leaves a chain that links, but the approval, which they cannot re-sign,
        still names the old hash: this check catches that without any kept checkpoint."""
        payload = json.loads(payload_json)
        if not isinstance(payload, dict):
            return
        assert self.find_reference is not None
        for citation, value in citations.citations_of(kind, payload):
            wanted = citations.cited_hash(value)
            if wanted is None:
                raise _Failure(
                    seq, Problem.BAD_REFERENCE, f"{citation.field} {value!r} is not an entry hash"
                )
            found = self.find_reference(wanted)
            problem = citations.citation_problem(
                citation,
                value,
                None if found is None else citations.Cited(*found),
                seq=seq,
                model=model,
                version=version,
            )
            if problem is not None:
                raise _Failure(seq, Problem.BAD_REFERENCE, problem)

    def _check_artifacts(self, seq: int, payload_json: str) -> None:
        assert self.artifact_store is not None
        artifacts = json.loads(payload_json).get("artifacts")
        if not isinstance(artifacts, list):
            return
        for artifact in artifacts:
            if not isinstance(artifact, dict) or not artifact.get("stored"):
                continue
            digest = str(artifact.get("sha256"))
            if digest in self._artifacts_seen:
                continue
            state = self.artifact_store.check(digest)
            if state is ArtifactState.MISSING:
                raise _Failure(
                    seq,
                    Problem.ARTIFACT_MISSING,
                    f"artifact {artifact.get('name')} ({digest}) is missing from the "
                    "artifact store",
                )
            if state is ArtifactState.TAMPERED:
                raise _Failure(
                    seq,
                    Problem.ARTIFACT_TAMPERED,
                    f"artifact {artifact.get('name')} ({digest}) no longer hashes to "
                    "its digest: its bytes were replaced",
                )
            self._artifacts_seen.add(digest)

    def _check_root(self, checkpoint: Checkpoint) -> None:
        root = merkle.fold_subtrees(self._tree)
        if root != checkpoint.root:
            raise _Failure(
                None,
                Problem.CHECKPOINT_MISMATCH,
                f"the first {checkpoint.size} entries have Merkle root {root.hex()}, "
                f"but the signed checkpoint says {checkpoint.root.hex()}: history "
                "was rewritten",
            )

    def fail(self, seq: int | None, problem: Problem, message: str) -> None:
        """Record a problem found by the caller (a malformed line, a head mismatch)."""
        if self._failure is None:
            self._failure = _Failure(seq, problem, message)

    def finish(
        self, *, expected_size: int | None = None, expected_last_hash: bytes | None = None
    ) -> VerificationReport:
        """Close the stream: check truncation against checkpoints, and the expected size and
        last entry hash (what the ledger's head row recorded)."""
        if self._failure is None and self._pending:
            missing = self._pending[-1]
            self._failure = _Failure(
                self._size,
                Problem.TRUNCATED,
                f"a signed checkpoint covers {missing.size} entries but only {self._size} "
                f"remain: entries from seq {self._size} were removed",
            )
        if self._failure is None and expected_size is not None and expected_size != self._size:
            self._failure = _Failure(
                min(expected_size, self._size),
                Problem.HEAD_MISMATCH,
                f"the ledger head records {expected_size} entries but {self._size} were found",
            )
        if (
            self._failure is None
            and expected_last_hash is not None
            and self._size > 0
            and self._last_hash != expected_last_hash
        ):
            self._failure = _Failure(
                self._size - 1,
                Problem.HEAD_MISMATCH,
                "the last entry's hash differs from the one the ledger head recorded when it "
                "was appended: the entry was rewritten since",
            )
        latest = max(self.checkpoints, key=lambda c: c.size, default=None)
        failure = self._failure
        return VerificationReport(
            ok=failure is None,
            size=self._size,
            root=merkle.fold_subtrees(self._tree),
            checkpoint=latest,
            entries_after_checkpoint=self._size - (latest.size if latest else 0),
            signatures_checked=self._signatures,
            artifacts_checked=len(self._artifacts_seen),
            seconds=time.perf_counter() - self._started,
            first_bad_seq=None if failure is None else failure.seq,
            problem=None if failure is None else failure.problem,
            message="" if failure is None else failure.message,
        )


def feed_rows(verifier: StreamVerifier, rows: Iterable[Sequence[Any]]) -> None:
    """Feed raw entry rows (store column order) into a verifier until it fails."""
    verifier.feed_rows(rows)


PARALLEL_MIN_ENTRIES = 250_000
"""From this size on, `verify_ledger` verifies in ranges on several processes by default:
below it, starting the processes costs more than they save."""


def verify_ledger(
    store: LedgerStore,
    *,
    verifier_key: str | None = None,
    trusted_checkpoints: Sequence[str] = (),
    artifact_store: ArtifactStore | None = None,
    chunk: int = 10_000,
    workers: int | None = None,
) -> VerificationReport:
    """Verify a whole ledger in the database, streaming in chunks of `chunk` entries.

    `verifier_key` pins the ledger's checkpoint key (default: the one the ledger recorded at
    init); `trusted_checkpoints` are signed notes a verifier kept from earlier (they detect
    a history rewritten by someone who recomputed every hash, and a truncated tail).
    `workers` processes share the work (`ledger.verify_ranges`, same report as one);
    by default one per CPU (per two on PostgreSQL) for a log of PARALLEL_MIN_ENTRIES or
    more, else 1.
    """
    key = VerifierKey.parse(verifier_key or store.meta()["verifier_key"])
    notes = [cp.note for cp in store.checkpoints_after(-1)] + list(trusted_checkpoints)
    checkpoints: list[Checkpoint] = []
    for note in notes:
        try:
            checkpoints.append(verify_checkpoint(note, key))
        except CheckpointInvalid as exc:
            verifier = StreamVerifier()
            verifier.fail(None, Problem.CHECKPOINT_INVALID, exc.message)
            return verifier.finish()
    head_size, head_hash = store.head()
    with store.reference_lookup() as find_reference:
        return _verify_stored(
            store,
            StreamVerifier(
                checkpoints=checkpoints,
                artifact_store=artifact_store,
                find_reference=find_reference,
            ),
            checkpoints,
            head_size=head_size,
            head_hash=head_hash,
            artifact_store=artifact_store,
            chunk=chunk,
            workers=workers,
        )


def _verify_stored(
    store: LedgerStore,
    verifier: StreamVerifier,
    checkpoints: Sequence[Checkpoint],
    *,
    head_size: int,
    head_hash: bytes,
    artifact_store: ArtifactStore | None,
    chunk: int,
    workers: int | None,
) -> VerificationReport:
    """`verify_ledger` once the checkpoints are checked: sequentially or in ranges, then the
    stored Merkle nodes against the recomputed root."""
    from ledger.verify import (
        ranges as verify_ranges,  # imports this module: import it only when used
    )

    if workers is None:
        big = head_size >= PARALLEL_MIN_ENTRIES
        workers = verify_ranges.default_workers(store) if big else 1
    if workers > 1 and not verifier.failed and verify_ranges.can_share(store):
        report = verify_ranges.verify_in_ranges(
            store,
            verifier,
            checkpoints,
            head_size=head_size,
            head_hash=head_hash,
            workers=workers,
            artifact_store=artifact_store,
        )
    else:
        feed_rows(verifier, store.iter_rows(chunk=chunk))
        report = verifier.finish(expected_size=head_size, expected_last_hash=head_hash)
    if report.ok and report.size and _stored_root(store, report.size) != report.root:
        verifier.fail(
            None,
            Problem.TREE_MISMATCH,
            "the stored Merkle nodes do not give the root recomputed from the entries",
        )
        report = verifier.finish(expected_size=head_size, expected_last_hash=head_hash)
    return report


def _stored_root(store: LedgerStore, size: int) -> bytes | None:
    """The root the stored Merkle nodes give; None when some are missing (deleted rows)."""
    try:
        return store.root_at(size)
    except NotFound:
        return None
