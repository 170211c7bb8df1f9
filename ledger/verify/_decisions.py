"""Verification of the scoring decisions' detail store against the log.

The log proves each `scoring.batch` entry (the stream verifier checks its hash, link and
place in the tree); this checks that the detail store still holds what those entries
committed to, batch by batch in primary-key order:

- every row belongs to a batch entry, and each batch has exactly its `count` rows, with
  leaf indexes 0 .. count - 1 (a row deleted or added shows as `decision-missing`);
- every detail still present hashes to its row's leaf (`ledger.log.scoring`), and names
  the row's decision id (`leaf-mismatch`);
- the batch's leaves give the root its entry records (`batch-root-mismatch`);
- a missing detail (NULL) is allowed only where an entry erased it: a `scoring.erased`
  naming the decision, or a `scoring.purged` whose cut-off follows the batch's last
  decision, at a later seq. Those are reported as erased, not as tampering; any other is
  `details-missing`.

Hashing a row's detail costs about a microsecond, reading it from the database about as
much: large stores are checked in ranges of batches by worker processes (the verification
workers of `ledger.verify._ranges`), whose results are stitched in batch order, so the
first bad batch reported is the one a single pass would report.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from itertools import repeat
from typing import TYPE_CHECKING, Any

from ledger.log import merkle
from ledger.log.scoring import LEAF_PREFIX
from ledger.verify._report import Failed, Problem, Subject, VerificationReport

if TYPE_CHECKING:
    from ledger.store import LedgerStore

PARALLEL_MIN_DECISIONS = 200_000
"""From this many decisions on, `verify_decisions` uses worker processes by default. A
worker starts in about 0.1 s of CPU (`ledger.verify._workers`: it imports no store), the
time one process takes to check some 30,000 decisions, and one process checks about
340,000 decisions per CPU-second (1,000,000 on SQLite, 2 cores under load 5 to 13)."""
CHUNK = 20_000
"""Detail rows read per query."""
_ID_AT = (
    len('{"applicant":"hmac-sha256:') + 64 + len('","decided_at":"') + 27 + len('","decision_id":"')
)
"""Where a detail's decision id begins (the fields before it have fixed widths)."""
_TEXT_PREFIX = "\x00" + LEAF_PREFIX.decode("ascii")
_BYTES_PREFIX = b"\x00" + LEAF_PREFIX


@dataclass(frozen=True, slots=True)
class BatchFact:
    """What a `scoring.batch` entry committed to."""

    count: int
    root: bytes
    last_decided_at: str


@dataclass
class _RangeResult:
    checked: int = 0
    erased: int = 0
    failure: tuple[int | None, str, str] | None = None


@dataclass(frozen=True)
class DecisionRangeJob:
    """Check the detail rows of the batches with start <= seq < stop (a worker's job)."""

    dialect: str
    dsn: str
    start: int
    stop: int
    batches: dict[int, BatchFact]
    erasures: dict[str, int]
    purges: list[tuple[int, str]] = field(default_factory=list)
    rows_sql: str = ""
    """The store's `decision_rows_after` and `decision_bytes_after` for the dialect: a
    worker takes them from the job rather than import the store (and SQLAlchemy)."""
    bytes_sql: str = ""

    def run(self) -> _RangeResult:
        from ledger.verify._workers import _connection

        connection = _connection(self.dialect, self.dsn)

        def fetch(start: int, stop: int, full: bool) -> list[Any]:
            query = self.rows_sql if full else self.bytes_sql
            return list(connection.execute(query, (start, stop)).fetchall())

        return check_range(fetch, self)


def check_range(fetch: Any, job: DecisionRangeJob) -> _RangeResult:
    """The check of one range of batches; `fetch(start, stop, full)` reads the rows of the
    batches start <= seq < stop in key order: (decision id, leaf hash, detail, erased seq)
    with the id and the detail as UTF-8 bytes, or with `full` every column, as text (batch
    seq and leaf index first).

    Each read (64 batches) is checked column by column first (`_group_checks`: one C-level
    pass per check, the batches' rows told apart by their counts); a read that fails any
    check is read again in full and checked row by row, which names the first bad decision
    and why."""
    result = _RangeResult()
    batches = job.batches
    seqs = sorted(s for s in batches if job.start <= s < job.stop)
    try:
        for lo in range(0, len(seqs), 64):  # a few batches per read: flat memory
            group = seqs[lo : lo + 64]
            stop = seqs[lo + 64] if lo + 64 < len(seqs) else job.stop
            counted = _group_checks(group, fetch(group[0], stop, False), job)
            if counted is None:
                counted = _group_rows(group, fetch(group[0], stop, True), job)
            result.checked += counted[0]
            result.erased += counted[1]
    except Failed as failed:
        result.failure = (failed.seq, failed.problem.value, failed.message)
    return result


def _group_checks(
    group: list[int], rows: list[Any], job: DecisionRangeJob
) -> tuple[int, int] | None:
    """(decisions, erased) of a read whose every check passes, else None.

    Rows are in primary-key order, so sliced by the batches' counts each slice is one
    batch's leaves 0 .. count - 1, unless a row was added, removed or moved: then a count
    or a root differs and the read is checked row by row."""
    sha256, prefix = hashlib.sha256, _BYTES_PREFIX
    batches = job.batches
    if len(rows) != sum(batches[s].count for s in group):
        return None
    details = [r[2] for r in rows]
    erased = details.count(None)
    present = [r for r in rows if r[2] is not None] if erased else rows
    if erased:
        details = [r[2] for r in present]
    if [sha256(prefix + d).digest() for d in details] != [r[1] for r in present]:
        return None
    quoted = [r[0] + b'"' for r in present]  # the id, then the quote that closes it
    if not all(map(bytes.startswith, details, quoted, repeat(_ID_AT, len(details)))):
        return None
    leaves = [r[1] for r in rows]
    position = 0
    for seq in group:
        fact = batches[seq]
        end = position + fact.count
        if merkle.root_of_hashes(leaves[position:end]) != fact.root:
            return None
        if erased:
            for decision_id, _, detail, erased_seq in rows[position:end]:
                if detail is None:
                    try:
                        _check_erased(
                            bytes(decision_id).decode(),
                            seq,
                            erased_seq,
                            batches,
                            job.erasures,
                            job.purges,
                        )
                    except Failed:
                        return None
        position = end
    return len(rows), erased


def _group_rows(group: list[int], rows: list[Any], job: DecisionRangeJob) -> tuple[int, int]:
    """The check of one read row by row: raise Failed at its first bad decision."""
    batches, erasures, purges = job.batches, job.erasures, job.purges
    sha256, prefix, id_at = hashlib.sha256, _TEXT_PREFIX, _ID_AT
    checked = erased = 0
    current: int | None = None
    leaves: list[bytes] = []
    position = 0
    expected = iter(group)
    for batch_seq, index, decision_id, leaf, detail, erased_seq in rows:
        if batch_seq != current:
            if batch_seq not in batches:
                raise Failed(
                    Problem.DECISION_MISSING,
                    f"detail rows name batch seq {batch_seq}, which is no scoring.batch "
                    "entry of the log",
                    seq=batch_seq,
                )
            if current is not None:
                _close_batch(current, leaves, batches[current])
            current = next(expected, None)
            while current is not None and current != batch_seq:
                _close_batch(current, [], batches[current])  # a batch with no rows
                current = next(expected, None)
            leaves, position = [], 0
        if index != position:
            raise Failed(
                Problem.DECISION_MISSING,
                f"batch seq {batch_seq} has no decision at leaf {position}: a detail "
                "row was removed or added",
                seq=batch_seq,
            )
        position += 1
        leaf = bytes(leaf)
        if detail is not None:
            if sha256((prefix + detail).encode()).digest() != leaf or not detail.startswith(
                decision_id + '"', id_at
            ):
                raise Failed(
                    Problem.LEAF_MISMATCH,
                    f"decision {decision_id} (batch seq {batch_seq}, leaf {index}): its "
                    "stored details do not hash to its leaf: they were altered",
                    seq=batch_seq,
                )
        else:
            _check_erased(decision_id, batch_seq, erased_seq, batches, erasures, purges)
            erased += 1
        leaves.append(leaf)
        checked += 1
    if current is not None and rows:
        _close_batch(current, leaves, batches[current])
    for rest in expected:
        _close_batch(rest, [], batches[rest])
    return checked, erased


def _close_batch(seq: int, leaves: list[bytes], fact: BatchFact) -> None:
    if len(leaves) != fact.count:
        raise Failed(
            Problem.DECISION_MISSING,
            f"batch seq {seq} records {fact.count} decisions, the detail store holds {len(leaves)}",
            seq=seq,
        )
    if merkle.root_of_hashes(leaves) != fact.root:
        raise Failed(
            Problem.BATCH_ROOT_MISMATCH,
            f"the leaves of batch seq {seq} do not give the root its entry records",
            seq=seq,
        )


def _check_erased(
    decision_id: str,
    batch_seq: int,
    erased_seq: int | None,
    batches: dict[int, BatchFact],
    erasures: dict[str, int],
    purges: list[tuple[int, str]],
) -> None:
    """A NULL detail is an erasure the log records, or tampering."""
    if erased_seq is not None:
        if erasures.get(decision_id) == erased_seq and erased_seq > batch_seq:
            return
        last = batches[batch_seq].last_decided_at
        if any(seq == erased_seq > batch_seq and last < before for seq, before in purges):
            return
    raise Failed(
        Problem.DETAILS_MISSING,
        f"decision {decision_id} (batch seq {batch_seq}) has lost its details, and no "
        "scoring.erased or scoring.purged entry of the log erased them",
        seq=batch_seq,
    )


def _log_facts(
    store: LedgerStore,
) -> tuple[dict[int, BatchFact], dict[str, int], list[tuple[int, str]]]:
    """The batch entries, erasures and purges of the log (by the partial kind index)."""
    batches: dict[int, BatchFact] = {}
    erasures: dict[str, int] = {}
    purges: list[tuple[int, str]] = []
    for seq, kind, payload_text in store.decisions.scoring_entries():
        payload = json.loads(payload_text)
        if kind == "scoring.batch":
            batches[seq] = BatchFact(
                int(payload["count"]), bytes.fromhex(payload["root"]), payload["last_decided_at"]
            )
        elif kind == "scoring.erased":
            for decision_id in payload["decision_ids"]:
                erasures.setdefault(str(decision_id), seq)
        else:
            purges.append((seq, str(payload["before"])))
    return batches, erasures, purges


def verify_decisions(store: LedgerStore, *, workers: int | None = None) -> VerificationReport:
    """Check the detail store against the log's batch, erasure and purge entries.

    Run after `verify_ledger` (which proves those entries). The report's subject is
    DECISIONS; `entries_checked` counts decisions, the notes say how many are erased."""
    from ledger.verify._ranges import _driver_dsn, can_share, default_workers
    from ledger.verify._workers import _Workers

    started = time.perf_counter()
    batches, erasures, purges = _log_facts(store)
    total = sum(b.count for b in batches.values())
    if workers is None:
        workers = default_workers(store) if total >= PARALLEL_MIN_DECISIONS else 1
    dialect, dsn = _driver_dsn(store)
    sql = store.statements
    seqs = sorted(batches)
    jobs = []
    per_job = max(1, len(seqs) // max(1, workers * 8))
    for lo in range(0, len(seqs), per_job):
        part = seqs[lo : lo + per_job]
        stop = seqs[lo + per_job] if lo + per_job < len(seqs) else (part[-1] + 1 if part else 0)
        jobs.append(
            DecisionRangeJob(
                dialect,
                dsn,
                part[0],
                stop,
                {s: batches[s] for s in part},
                erasures,
                purges,
                rows_sql=sql.decision_rows_after,
                bytes_sql=sql.decision_bytes_after,
            )
        )
    if workers > 1 and len(jobs) > 1 and can_share(store):  # this process is one of them
        with _Workers(min(workers, len(jobs)) - 1, here=True) as pool:
            results = [f.result() for f in pool.run(jobs)]
    else:

        def fetch(start: int, stop: int, full: bool) -> list[Any]:
            return store.decisions.detail_rows(start, stop, full, as_bytes=not full)

        results = [check_range(fetch, job) for job in jobs]
    results.append(_stray_rows(store, seqs))
    checked = erased = 0
    for result in results:
        if result.failure is not None:
            seq, problem, message = result.failure
            return VerificationReport.failure(
                Subject.DECISIONS,
                Failed(Problem(problem), message, seq=seq),
                entries_checked=checked + result.checked,
                seconds=time.perf_counter() - started,
            )
        checked += result.checked
        erased += result.erased
    return VerificationReport(
        subject=Subject.DECISIONS,
        ok=True,
        entries_checked=checked,
        seconds=time.perf_counter() - started,
        notes=(
            f"{checked} decisions in {len(batches)} batches match their batch roots"
            + (f", {erased} of them erased by recorded entries" if erased else ""),
        ),
    )


def _stray_rows(store: LedgerStore, seqs: list[int]) -> _RangeResult:
    """Rows before the first batch or after the last (the ranges read everything between)."""
    result = _RangeResult()
    stray = store.decisions.stray_batch_seq(seqs[0], seqs[-1] + 1) if seqs else None
    if stray is None and not seqs:
        stray = store.decisions.stray_batch_seq(0, 0)
    if stray is not None:
        result.failure = (
            stray,
            Problem.DECISION_MISSING.value,
            f"detail rows name batch seq {stray}, which is no scoring.batch entry of the log",
        )
    return result
