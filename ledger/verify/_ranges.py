"""Verification of a large ledger in aligned ranges of seqs, by several processes at once.

One core verifies about 100,000 entries a second: reading each row, canonicalising and
hashing it, and one Ed25519 verification (~100 us) per signed entry. A log of millions is
split into ranges of `RANGE_SIZE` entries, each checked by a worker process with the same
`StreamVerifier` code; this module then stitches the results in seq order. The answer is
the sequential verifier's, because:

- a range starts with the signing keys that the entries before it registered and revoked
  (`KeyHistory.before`, from the few key entries read up front). That state is exact whenever
  every earlier entry verifies; if one does not, an earlier range fails and is reported;
- the checks a range cannot make alone, the link from its first entry to the previous
  range's last, that its first time is not earlier than that entry's, and that none of its
  signed statements (signature bytes or statement digest) was seen in an earlier range
  (a replay), are made here, in order, with the seq;
- ranges start at multiples of a power of two, so a complete range is one complete Merkle
  subtree: a worker returns its hash (and the subtree hashes at each checkpoint inside the
  range), and the roots are folded here without touching an entry;
- at the first range that fails, does not link, or gives a checkpoint a different root,
  the workers are stopped and that range is verified again here, sequentially, from the
  exact state at its start, so the report names the same first bad seq and the same
  problem the sequential verifier would. Everything after the ranges (entries beyond the
  head, truncation, the head's size) goes through the sequential verifier too.

The workers are fresh interpreters (`ledger.verify._workers`) fed jobs and returning
results as pickles over their pipes. Starting them costs a fraction of a second, so
`verify_ledger` (`ledger.verify._database`) uses ranges only for large logs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.log import merkle
from ledger.log.entries import ROW_SEQ, entry_from_row
from ledger.store import ArtifactStore, entry_chunks, statements_for
from ledger.verify._keys import KeyHistory, SignedStatements
from ledger.verify._report import VerificationReport
from ledger.verify._stream import StreamVerifier
from ledger.verify._workers import _connection, _Workers

if TYPE_CHECKING:  # the store pulls in SQLAlchemy and the models: workers never need them
    from ledger.log.checkpoint import Checkpoint
    from ledger.store import LedgerStore

RANGE_SIZE = 1 << 16
"""Entries per range: a power of two (a complete range is one Merkle subtree), small enough
to balance the work between workers and to re-verify one range quickly after a failure."""


@dataclass(frozen=True)
class _RangeJob:
    dialect: str
    dsn: str
    start: int
    stop: int
    keys: KeyHistory
    snapshot_sizes: tuple[int, ...]
    artifacts_root: str | None

    def run(self) -> _RangeResult:
        """Verify the range (in a worker process, `ledger.verify._workers`)."""
        return _verify_range(self)


@dataclass(frozen=True)
class _RangeResult:
    ok: bool
    first: tuple[int, bytes] | None
    first_recorded: str | None
    size: int
    last_hash: bytes | None
    last_recorded: str | None
    hashes: tuple[bytes, ...]
    snapshots: dict[int, tuple[bytes, ...]]
    signatures: int
    artifacts: frozenset[str]
    signed: SignedStatements


def _driver_dsn(store: LedgerStore) -> tuple[str, str]:
    """(dialect, what the driver connects with) for the store's database."""
    url = store.engine.url
    dialect = url.get_backend_name()
    if dialect == "sqlite":
        return dialect, str(url.database)
    return dialect, url.set(drivername=dialect).render_as_string(hide_password=False)


def _verify_range(job: _RangeJob) -> _RangeResult:
    """Check the entries with job.start <= seq < job.stop (runs in a worker process)."""
    connection = _connection(job.dialect, job.dsn)

    def fetch_all(query: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return list(connection.execute(query, params).fetchall())

    statements = statements_for(job.dialect)

    def find_reference(entry_hash: bytes) -> tuple[int, str, str, str] | None:
        rows = fetch_all(statements.subject_by_hash, (entry_hash,))
        if not rows:
            return None
        _, seq, kind, model, version, _ = rows[0]
        return int(seq), str(kind), str(model), str(version)

    artifacts = ArtifactStore(Path(job.artifacts_root)) if job.artifacts_root else None
    verifier = StreamVerifier(artifact_store=artifacts, find_reference=find_reference)
    verifier.resume(job.start, None, merkle.MerkleFrontier(), job.keys)
    first: tuple[int, bytes] | None = None
    first_recorded: str | None = None
    snapshots: dict[int, tuple[bytes, ...]] = {}
    pending = list(job.snapshot_sizes)
    ok = True
    for rows in entry_chunks(fetch_all, statements, job.start, job.stop, 10_000):
        if first is None:
            head = entry_from_row(rows[0])
            first, first_recorded = (head.seq, head.prev_hash), head.recorded_at
        while ok and pending and rows and verifier.size < pending[0] <= int(rows[-1][ROW_SEQ]) + 1:
            cut = pending[0] - verifier.size
            ok = verifier.feed_rows(rows[:cut])
            rows = rows[cut:]
            if ok and verifier.size == pending[0]:
                snapshots[pending.pop(0)] = verifier.frontier_hashes
        if not ok or not verifier.feed_rows(rows):
            ok = False
            break
        if pending and verifier.size == pending[0]:
            snapshots[pending.pop(0)] = verifier.frontier_hashes
    return _RangeResult(
        ok=ok,
        first=first,
        first_recorded=first_recorded,
        size=verifier.size,
        last_hash=verifier.last_hash,
        last_recorded=verifier.last_recorded,
        hashes=verifier.frontier_hashes,
        snapshots=snapshots,
        signatures=verifier.signatures,
        artifacts=verifier.artifacts_seen,
        signed=verifier.signed_seen,
    )


def _push_subtree(stack: list[tuple[int, bytes]], level: int, node: bytes) -> None:
    """Add a complete subtree to a frontier kept as (level, hash), merging equal levels.

    The binary-counter step of `merkle.MerkleFrontier.append`, one range at a time."""
    stack.append((level, node))
    while len(stack) > 1 and stack[-1][0] == stack[-2][0]:
        (top_level, right), (_, left) = stack.pop(), stack.pop()
        stack.append((top_level + 1, merkle.node_hash(left, right)))


def verify_in_ranges(
    store: LedgerStore,
    verifier: StreamVerifier,
    checkpoints: Sequence[Checkpoint],
    *,
    head_size: int,
    head_hash: bytes | None = None,
    workers: int,
    range_size: int | None = None,
    artifact_store: ArtifactStore | None = None,
) -> VerificationReport:
    """Verify the entries [0, head_size) in ranges on `workers` processes, then the rest.

    `verifier` is the caller's fresh StreamVerifier (with the checkpoints and artifact
    store); it finishes the job and makes the report. `range_size` (default RANGE_SIZE,
    read at call time so that tests can make it small) must be a power of two.
    """
    range_size = range_size or RANGE_SIZE
    if range_size <= 0 or range_size & (range_size - 1):
        raise ValueError(f"range_size must be a power of two, not {range_size}")
    level = range_size.bit_length() - 1
    events = store.key_events()
    dialect, dsn = _driver_dsn(store)
    sizes = sorted({cp.size for cp in checkpoints})
    jobs = [
        _RangeJob(
            dialect=dialect,
            dsn=dsn,
            start=start,
            stop=min(start + range_size, head_size),
            keys=KeyHistory.before(events, start),
            snapshot_sizes=tuple(
                s for s in sizes if start < s <= min(start + range_size, head_size)
            ),
            artifacts_root=None if artifact_store is None else str(artifact_store.root),
        )
        for start in range(0, head_size, range_size)
    ]
    roots = {cp.size: cp.root for cp in checkpoints}
    stack: list[tuple[int, bytes]] = []
    tail: tuple[bytes, ...] = ()
    size, last_hash, signatures = 0, bytes(32), 0
    last_recorded: str | None = None
    artifacts: set[str] = set()
    signed = SignedStatements()
    with _Workers(workers) as pool:
        for job, future in zip(jobs, pool.run(jobs), strict=True):
            result = future.result()
            prefix = tuple(h for _, h in stack)
            sound = (
                result.ok
                and result.first == (size, last_hash)
                and (last_recorded is None or str(result.first_recorded) >= last_recorded)
                and result.size == job.stop
                and len(result.snapshots) == len(job.snapshot_sizes)
                and all(
                    merkle.fold_subtrees(prefix + hashes) == roots[s]
                    for s, hashes in result.snapshots.items()
                )
                and signed.isdisjoint(result.signed)
            )
            if not sound:
                break
            size, last_hash = result.size, result.last_hash or last_hash
            last_recorded = result.last_recorded or last_recorded
            signatures += result.signatures
            artifacts |= result.artifacts
            signed.update(result.signed)
            if result.size - job.start == range_size:
                _push_subtree(stack, level, result.hashes[0])
            else:
                tail = result.hashes
    frontier = merkle.MerkleFrontier.from_subtrees(size, [h for _, h in stack] + list(tail))
    verifier.resume(
        size,
        last_hash,
        frontier,
        KeyHistory.before(events, size),
        last_recorded=last_recorded,
        signatures=signatures,
        artifacts_seen=artifacts,
        signed=signed,
    )
    for rows in store.iter_row_chunks(size):
        if not verifier.feed_rows(rows):
            break
    return verifier.finish(expected_size=head_size, expected_last_hash=head_hash)


def default_workers(store: LedgerStore) -> int:
    """Worker processes to use: one per CPU this process may run on (at most 8).

    On PostgreSQL, one per two CPUs: each reader keeps a server backend about as busy as
    itself, so one process alone already fills two cores (measured on 2 cores: 2 workers
    took 1.3 times as long as 1).
    """
    try:
        available = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        available = os.cpu_count() or 1
    if store.engine.url.get_backend_name() != "sqlite":
        available //= 2
    return max(1, min(available, 8))


def can_share(store: LedgerStore) -> bool:
    """True when worker processes can open the store's database (not in-memory SQLite)."""
    url = store.engine.url
    return not (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"))
