"""Verification: recompute every hash, link, signature and the Merkle root, streaming.

`StreamVerifier` consumes entry rows (`ROW_FIELDS` order) in seq order with O(log n) state
(the Merkle frontier, the key history) and stops at the first problem, naming its seq and
what is wrong. It knows nothing of where entries come from: `ledger.verify._database` feeds
it from the database in chunks (for a large log, several processes each feed one over a
range: `ledger.verify._ranges`), `ledger.verify._bundle` from an export file. `finish` makes
the one `VerificationReport` (`ledger.verify._report`).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ledger.errors import CheckpointInvalid, SignatureError
from ledger.governance import (
    CITING_KINDS,
    Cited,
    citation_problem,
    citations_of,
    cited_hash,
    may_cite,
)
from ledger.log import merkle
from ledger.log.checkpoint import Checkpoint, VerifierKey, verify_checkpoint
from ledger.log.entries import Entry, entry_from_row, entry_row, row_hashes
from ledger.store import ArtifactState, ArtifactStore
from ledger.verify._keys import KEY_KINDS, SIGNED_KINDS, KeyHistory, SignedStatements, problem_of
from ledger.verify._report import Failed, Problem, Subject, VerificationReport

Reference = tuple[int, str, str, str]
"""What verification needs to know of an entry another one cites: (seq, kind, model, version)."""

FindReference = Callable[[bytes], "Reference | None"]
"""Looks an entry up by its entry_hash (the store's index), None when no entry has it."""


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
    _keys: KeyHistory = field(default_factory=KeyHistory)
    _artifacts_seen: set[str] = field(default_factory=set)
    _signatures: int = 0
    _replays: SignedStatements = field(default_factory=SignedStatements)
    _pending: list[Checkpoint] = field(default_factory=list)
    _failure: Failed | None = None
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
                    self._failure = Failed(
                        Problem.CHECKPOINT_INVALID, f"checkpoint of size {cp.size}: {exc.message}"
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
        keys: KeyHistory,
        *,
        last_recorded: str | None = None,
        signatures: int = 0,
        artifacts_seen: Iterable[str] = (),
        signed: SignedStatements | None = None,
    ) -> None:
        """Start checking at seq `size`, as if the entries before it had been fed.

        For verification in ranges (`ledger.verify._ranges`): `frontier` is the Merkle
        frontier of the entries before `size` (or a fresh one, for a range that returns its
        subtree hashes), `keys` comes from `KeyHistory.before`, and `last_hash` None skips the
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
        self._replays = SignedStatements() if signed is None else signed
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
    def signed_seen(self) -> SignedStatements:
        """The signed statements checked so far (a copy)."""
        return SignedStatements(self._replays.signatures, self._replays.digests)

    @property
    def artifacts_seen(self) -> frozenset[str]:
        """The digests of the stored artifacts checked so far."""
        return frozenset(self._artifacts_seen)

    @property
    def failed(self) -> bool:
        """True once a problem was found; later entries are ignored."""
        return self._failure is not None

    def feed(self, entry: Entry) -> bool:
        """Check one entry; return False (and stop) at the first problem."""
        return self.feed_rows((entry_row(entry),))

    def feed_rows(self, rows: Sequence[Sequence[Any]]) -> bool:
        """Check a chunk of entry rows (`ROW_FIELDS` order) in seq order; False at the first
        problem.

        This is the loop every verified entry goes through, once per entry of a log of
        millions, so it keeps its state in locals, takes the hashes of the chunk's canonical
        entries in one pass (`entries.row_hashes`) and makes no Entry object except for the
        few signed entries. The checks and their order are those of
        docs/architecture.md: seq without gap, link to the previous entry, entry hash, time
        order, signature and key history, citations, artifacts, Merkle root at each
        checkpoint.
        """
        if self._failure is not None:
            return False
        sha256 = hashlib.sha256
        tree = self._tree
        tree_pop, tree_append = tree.pop, tree.append
        artifacts = self.artifact_store is not None
        size = self._size
        leaves = self._leaves
        last_hash = self._last_hash
        last_recorded = self._last_recorded or ""  # "": no time to compare the first with
        next_checkpoint = self._pending[0].size if self._pending else -1
        seen = self._seen
        citing, cites = CITING_KINDS, may_cite
        signed_kinds, key_kinds, keys = SIGNED_KINDS, KEY_KINDS, self._keys
        watched = SIGNED_KINDS | KEY_KINDS
        try:
            for row, computed_hash in zip(rows, row_hashes(rows), strict=False):
                (
                    seq,
                    _entry_id,
                    recorded_at,
                    prev_hash,
                    kind,
                    model,
                    version,
                    actor,
                    _reason,
                    payload,
                    _issued_at,
                    signature,
                    key_id,
                    entry_hash,
                ) = row
                if seq != size:
                    what = "missing" if seq > size else "out of order or duplicated"
                    raise Failed(
                        Problem.GAP,
                        f"expected seq {size}, found seq {seq}: entries {what}",
                        seq=size,
                    )
                if last_hash is not None and prev_hash != last_hash:
                    raise Failed(
                        Problem.BROKEN_LINK,
                        "prev_hash does not match the previous entry's hash",
                        seq=seq,
                    )
                if computed_hash != entry_hash:
                    raise Failed(
                        Problem.HASH_MISMATCH,
                        "entry_hash is not the SHA-256 of the entry's canonical form: the "
                        "entry was altered",
                        seq=seq,
                    )
                if recorded_at < last_recorded:
                    raise Failed(
                        Problem.TIME_REVERSED,
                        f"recorded_at {recorded_at} is earlier than the previous entry's "
                        f"{last_recorded}: the ledger never stamps a time earlier than the "
                        "last, so this entry was not appended in order by it",
                        seq=seq,
                    )
                last_recorded = recorded_at
                if signature is not None or key_id is not None or kind in watched:
                    if signature is not None or key_id is not None or kind in signed_kinds:
                        self._check_signature(row)
                    if kind in key_kinds:
                        keys.record(seq, kind, actor, payload)
                if artifacts and '"artifacts"' in payload:
                    self._check_artifacts(seq, payload)
                if kind in citing and cites(kind, payload):
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
        except Failed as failure:
            self._failure = failure
            return False
        finally:
            self._size = size
            self._leaves = leaves
            self._last_hash = last_hash
            self._last_recorded = last_recorded or None
        return True

    def _check_signature(self, row: Sequence[Any]) -> None:
        """The key-history rule (`ledger.verify._keys`) for one entry, replays included."""
        entry = entry_from_row(row)
        try:
            key = self._keys.check(entry, self._replays)
        except SignatureError as exc:
            raise Failed(problem_of(exc), exc.message, seq=entry.seq) from None
        if key is not None:
            self._signatures += 1

    def _check_citations(
        self, seq: int, kind: str, model: str, version: str, payload_json: str
    ) -> None:
        """Every entry this one cites exists earlier in this log and is about the right model
        (`ledger.governance._citations`, the rule admission applies too).

        A signed approval names the entry_hash of the run it approves. Someone who rewrites
        that run and recomputes every later hash (and re-signs the checkpoints, holding the
        ledger key) leaves a chain that links, but the approval, which they cannot re-sign,
        still names the old hash: this check catches that without any kept checkpoint."""
        payload = json.loads(payload_json)
        if not isinstance(payload, dict):
            return
        assert self.find_reference is not None
        for citation, value in citations_of(kind, payload):
            wanted = cited_hash(value)
            if wanted is None:
                raise Failed(
                    Problem.BAD_REFERENCE,
                    f"{citation.field} {value!r} is not an entry hash",
                    seq=seq,
                )
            found = self.find_reference(wanted)
            problem = citation_problem(
                citation,
                value,
                None if found is None else Cited(*found),
                seq=seq,
                model=model,
                version=version,
            )
            if problem is not None:
                raise Failed(Problem.BAD_REFERENCE, problem, seq=seq)

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
                raise Failed(
                    Problem.ARTIFACT_MISSING,
                    f"artifact {artifact.get('name')} ({digest}) is missing from the "
                    "artifact store",
                    seq=seq,
                )
            if state is ArtifactState.TAMPERED:
                raise Failed(
                    Problem.ARTIFACT_TAMPERED,
                    f"artifact {artifact.get('name')} ({digest}) no longer hashes to "
                    "its digest: its bytes were replaced",
                    seq=seq,
                )
            self._artifacts_seen.add(digest)

    def _check_root(self, checkpoint: Checkpoint) -> None:
        root = merkle.fold_subtrees(self._tree)
        if root != checkpoint.root:
            raise Failed(
                Problem.CHECKPOINT_MISMATCH,
                f"the first {checkpoint.size} entries have Merkle root {root.hex()}, "
                f"but the signed checkpoint says {checkpoint.root.hex()}: history "
                "was rewritten",
            )

    def fail(self, seq: int | None, problem: Problem, message: str) -> None:
        """Record a problem found by the caller (a malformed line, a head mismatch)."""
        if self._failure is None:
            self._failure = Failed(problem, message, seq=seq)

    def finish(
        self, *, expected_size: int | None = None, expected_last_hash: bytes | None = None
    ) -> VerificationReport:
        """Close the stream: check truncation against checkpoints, and the expected size and
        last entry hash (what the ledger's head row recorded)."""
        if self._failure is None and self._pending:
            missing = self._pending[-1]
            self._failure = Failed(
                Problem.TRUNCATED,
                f"a signed checkpoint covers {missing.size} entries but only {self._size} "
                f"remain: entries from seq {self._size} were removed",
                seq=self._size,
            )
        if self._failure is None and expected_size is not None and expected_size != self._size:
            self._failure = Failed(
                Problem.HEAD_MISMATCH,
                f"the ledger head records {expected_size} entries but {self._size} were found",
                seq=min(expected_size, self._size),
            )
        if (
            self._failure is None
            and expected_last_hash is not None
            and self._size > 0
            and self._last_hash != expected_last_hash
        ):
            self._failure = Failed(
                Problem.HEAD_MISMATCH,
                "the last entry's hash differs from the one the ledger head recorded when it "
                "was appended: the entry was rewritten since",
                seq=self._size - 1,
            )
        latest = max(self.checkpoints, key=lambda c: c.size, default=None)
        facts: dict[str, Any] = {
            "size": self._size,
            "root": merkle.fold_subtrees(self._tree),
            "checkpoint": latest,
            "entries_after_checkpoint": self._size - (latest.size if latest else 0),
            "entries_checked": self._size,
            "signatures_checked": self._signatures,
            "artifacts_checked": len(self._artifacts_seen),
            "seconds": time.perf_counter() - self._started,
        }
        if self._failure is not None:
            return VerificationReport.failure(Subject.LEDGER, self._failure, **facts)
        return VerificationReport(subject=Subject.LEDGER, ok=True, **facts)
