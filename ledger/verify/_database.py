"""Verify the ledger in the database: checkpoints, every entry, the stored tree's root.

The driver on top of the verification floor: it checks the signed checkpoints (the
ledger's own and any held outside), then feeds every entry row to one `StreamVerifier`,
sequentially or, for a large log, in aligned ranges on worker processes
(`ledger.verify._ranges`, which gives the same report), and finally compares the root the
stored Merkle nodes give with the recomputed one. The answer is one `VerificationReport`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ledger.errors import CheckpointInvalid, NotFound
from ledger.log.checkpoint import Checkpoint, VerifierKey, verify_checkpoint
from ledger.log.witness_policy import WitnessPolicy
from ledger.store import ArtifactStore, cosigned_checkpoints
from ledger.verify import _ranges as verify_ranges
from ledger.verify._report import Failed, Problem, Subject, VerificationReport
from ledger.verify._stream import StreamVerifier

if TYPE_CHECKING:
    from ledger.store import LedgerStore

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
    witnesses: WitnessPolicy | None = None,
) -> VerificationReport:
    """Verify a whole ledger in the database, streaming in chunks of `chunk` entries.

    `verifier_key` pins the ledger's checkpoint key (default: the one the ledger recorded at
    init); `trusted_checkpoints` are signed notes a verifier kept from earlier (they detect
    a history rewritten by someone who recomputed every hash, and a truncated tail).
    `workers` processes share the work (`ledger.verify._ranges`, same report as one);
    by default one per CPU (per two on PostgreSQL) for a log of PARALLEL_MIN_ENTRIES or
    more, else 1.

    With `witnesses` (`ledger.log.witness_policy`), the largest stored checkpoint that
    verifies with the ledger key and carries the cosignatures the policy requires is
    compared with the recomputed root at its size like every other checkpoint, and the
    report says "witnessed up to size N of M"; when no stored checkpoint meets the policy
    the report fails (`not-witnessed`): the entries may be a history the witnesses never saw.
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
    witnessed: tuple[Checkpoint, list[str]] | None = None
    if witnesses:
        try:
            witnessed = _witnessed(store, key, witnesses)
        except Failed as failed:
            return VerificationReport.failure(Subject.LEDGER, failed, key_pinned=True)
        checkpoints.append(witnessed[0])
    head_size, head_hash = store.head()
    with store.reference_lookup() as find_reference:
        report = _verify_stored(
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
    if report.ok and witnesses and witnessed is not None:
        cp, cosigned = witnessed
        note = f"witnessed up to size {cp.size} of {report.size}: {witnesses.describe(cosigned)}"
        report = dataclasses.replace(report, notes=(*report.notes, note))
    return report


def _witnessed(
    store: LedgerStore, key: VerifierKey, witnesses: WitnessPolicy
) -> tuple[Checkpoint, list[str]]:
    """The largest stored checkpoint signed with `key` that `witnesses` cosigned, with the
    vkeys that did; Failed (not-witnessed) when none is, with why the largest is not."""
    candidates = cosigned_checkpoints(store)
    why = "no witness cosigned any checkpoint the ledger stores"
    for cp in reversed(candidates):
        try:
            verify_checkpoint(cp.note, key)
            return cp, witnesses.check(cp.note)
        except CheckpointInvalid as exc:
            if why.startswith("no witness"):
                why = f"the largest cosigned checkpoint, of size {cp.size}: {exc.message}"
    raise Failed(
        Problem.NOT_WITNESSED,
        f"no stored checkpoint is cosigned by {witnesses.required} of the "
        f"{len(witnesses.witnesses)} witnesses given ({why}): have the service ask its "
        "witnesses (GOVLEDGER_WITNESSES) and verify again once they cosigned",
        item="ledger",
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
        for rows in store.iter_row_chunks(chunk=chunk):
            if not verifier.feed_rows(rows):
                break
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
