"""The ledger store: append (one total order), read, Merkle proofs and checkpoints.

Writes made for a user go through `submit` (the write gate, `ledger.store._submit`: roles,
stored artifacts, admission, recorded refusals); `append_batch` is admission and append
alone. Both go through the store's one writer thread (`ledger.store._writer`: whatever is
queued is one group commit) and `ledger.appender` (one transaction under the sequencer lock;
all of a request or none of it). Proofs (`ledger.tree_store`) read only the O(log n) stored subtree
hashes and the few blocks of entry hashes they need, never the whole log.
"""

from __future__ import annotations

import asyncio
import copy
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import insert, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ledger.errors import (
    CatalogueChanged,
    LedgerNotInitialised,
    NotFound,
    UnknownEntry,
)
from ledger.governance import (
    ApprovalPolicy,
    DecisionRetention,
    FreshnessWindow,
    Principal,
    PromotionFact,
    RegimeGaps,
    RetirementFact,
    RulesState,
    ServingHistory,
    Submission,
    serving_event,
)
from ledger.log.checkpoint import Checkpoint, sign_checkpoint
from ledger.log.entries import ROW_FIELDS, Entry, Statement, entry_from_row
from ledger.log.kinds import RUN_KINDS
from ledger.log.timestamps import format_rfc3339, parse_rfc3339
from ledger.store import _tree_store as tree_store
from ledger.store._appender import Appender
from ledger.store._artifacts import ArtifactStore
from ledger.store._decisions import DecisionStore
from ledger.store._receipts import decision_receipt
from ledger.store._rules_reader import RulesReader
from ledger.store._sql import (
    GOVERNANCE_KIND_SQL,
    HIGH_VOLUME_KINDS,
    Statements,
    entry_chunks,
    statements_for,
)
from ledger.store._submit import WriteGate
from ledger.store._tables import (
    checkpoints,
    entries,
    ledger_head,
    ledger_meta,
)
from ledger.store._tree_store import ConsistencyProof, InclusionProof
from ledger.store._writer import AsyncWriter, LedgerWriter

_ENTRY_COLUMNS = tuple(entries.c[name] for name in ROW_FIELDS)


@dataclass(frozen=True, slots=True)
class EntryFilter:
    """Filters for listing entries; all optional, combined with AND."""

    model: str | None = None
    version: str | None = None
    kind: str | None = None
    actor: str | None = None
    since: str | None = None
    until: str | None = None


class LedgerStore:
    """An append-only, hash-chained, Merkle-provable ledger in a SQL database."""

    def __init__(
        self,
        engine: Engine,
        *,
        origin: str,
        checkpoint_key: Ed25519PrivateKey | None = None,
        policy: ApprovalPolicy | None = None,
        window: FreshnessWindow | None = None,
        artifacts: ArtifactStore | None = None,
        applicant_key: bytes | None = None,
        retention: DecisionRetention | None = None,
    ) -> None:
        self.engine = engine
        self.origin = origin
        self._checkpoint_key = checkpoint_key
        self._sql = statements_for(engine.dialect.name)
        self._appender = Appender(
            engine,
            self._sql,
            policy or ApprovalPolicy(),
            window or FreshnessWindow(),
            retention or DecisionRetention(),
        )
        self._decisions = DecisionStore(self, applicant_key)
        self._writer = LedgerWriter(self._appender)
        self._gate = WriteGate(engine, self._writer, artifacts)
        self._rules = RulesReader(self._fetch_all, self._sql)
        self._serving_lock = threading.Lock()
        self._serving_folds: dict[str, tuple[int, ServingHistory]] = {}

    @property
    def artifacts(self) -> ArtifactStore | None:
        """The artifact store that `submit` checks stored references against, if any."""
        return self._gate.artifacts

    @property
    def policy(self) -> ApprovalPolicy:
        """The approval policy appends are admitted under (configuration, not code)."""
        return self._appender.policy

    @policy.setter
    def policy(self, policy: ApprovalPolicy) -> None:
        self._appender.policy = policy

    @property
    def regime_gaps(self) -> RegimeGaps | None:
        """How admission learns the gaps of a regime checklist a policy requires
        (`ledger.governance._evidence`): the checklists belong to `reports.regulatory`,
        which the core may not import, so whoever opens the store for users sets this
        (`api.service`, the CLI); None: a required regime counts as missing.

        It reads the committed entries, so evidence written in the same batch as the
        promotion is not seen: record the evidence first."""
        return self._appender.regime_gaps

    @regime_gaps.setter
    def regime_gaps(self, regime_gaps: RegimeGaps | None) -> None:
        self._appender.regime_gaps = regime_gaps

    @property
    def window(self) -> FreshnessWindow:
        """How old or how far ahead a signed statement's issued_at may be."""
        return self._appender.window

    @property
    def retention(self) -> DecisionRetention:
        """How long scoring decisions' details are kept before a purge may remove them."""
        return self._appender.retention

    @property
    def statements(self) -> Statements:
        """The fixed SQL of this store's dialect (`ledger.store._sql`)."""
        return self._sql

    # -- scoring decisions (ledger.store._decisions, _decision_rows, _receipts) ------------

    def record_decisions(
        self,
        principal: Principal,
        model: str,
        version: str,
        environment: str,
        decisions: Any,
        *,
        idempotency_key: str | None = None,
    ) -> Entry:
        """Record a batch of scoring decisions for `principal` (a scoring service): one
        `scoring.batch` entry and its decisions' detail rows, in one transaction, or nothing
        (InvalidDecision, DecisionNotServing, ReasonNotInCatalogue, DecisionIdTaken... name
        the first bad decision). A retry with the same Idempotency-Key returns the first
        entry. `decisions` are JSON-like objects (`ledger.log.scoring.parse_batch`)."""
        prepare = self._decisions.prepare_batch
        sub = prepare(principal, model, version, environment, decisions)
        try:
            return self._gate.submit(principal, [sub], idempotency_key)[0]
        except CatalogueChanged:
            sub = prepare(principal, model, version, environment, decisions, fresh_catalogue=True)
            return self._gate.submit(principal, [sub], idempotency_key)[0]

    async def record_decisions_async(
        self,
        principal: Principal,
        model: str,
        version: str,
        environment: str,
        decisions: Any,
        *,
        idempotency_key: str | None = None,
    ) -> Entry:
        """`record_decisions` for asyncio callers (the service). The catalogue in force is
        read (once per version, then kept) in a thread, so the event loop never blocks."""
        prepare = self._decisions.prepare_batch
        for fresh in (False, True):
            key = (model, version, environment)
            if fresh or not self._decisions.knows_catalogue(key):
                await asyncio.to_thread(self._decisions.catalogue_in_force, *key, fresh=fresh)
            sub = prepare(principal, model, version, environment, decisions)
            try:
                return (await self._gate.submit_async(principal, [sub], idempotency_key))[0]
            except CatalogueChanged:
                if fresh:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    @property
    def decisions(self) -> DecisionStore:
        """The store's scoring decisions: batches prepared, details and receipts read."""
        return self._decisions

    def decision(self, decision_id: str) -> dict[str, Any]:
        """A recorded decision: its batch, leaf and details (None once erased)."""
        return self._decisions.decision(decision_id)

    def decision_receipt(self, decision_id: str) -> dict[str, Any]:
        """A decision's "govledger-receipt/v1" document (`ledger.log.receipt` checks it)."""
        return decision_receipt(self, self._decisions, decision_id)

    def decisions_of_applicant(
        self, applicant: str, *, since: str | None = None, until: str | None = None
    ) -> list[dict[str, Any]]:
        """The decisions recorded for an applicant reference in batches recorded in
        [since, until): complaints handling (`ledger.store._decisions.DecisionStore`)."""
        return self._decisions.of_applicant(applicant, since=since, until=until)

    # -- writing (ledger.store._submit, ledger.store._writer, ledger.store._appender) ------

    def submit(
        self,
        principal: Principal,
        submissions: Sequence[Submission | Statement],
        *,
        idempotency_key: str | None = None,
    ) -> list[Entry]:
        """Append statements for an authenticated user: the one write path of the service,
        the CLI and Python callers acting for someone (`ledger.store._submit`).

        Raises Forbidden unless `principal` may submit each statement (as its actor, in the
        role it claims), ArtifactNotStored for a `stored` reference the artifact store
        lacks, and admission's refusals as `append_batch` does; a four-eyes or policy
        refusal is first recorded as a `request.refused` entry. Who `principal` is, the
        caller has established (the service and the CLI by API key).
        """
        subs = _submissions(submissions)
        if not subs:
            return []
        return self._gate.submit(principal, subs, idempotency_key)

    async def submit_async(
        self,
        principal: Principal,
        submissions: Sequence[Submission | Statement],
        *,
        idempotency_key: str | None = None,
    ) -> list[Entry]:
        """`submit` for asyncio callers (the service): the store's writer thread
        (`ledger.store._writer`) commits whatever is queued as one group, so no request takes
        a thread-pool hop."""
        subs = _submissions(submissions)
        if not subs:
            return []
        return await self._gate.submit_async(principal, subs, idempotency_key)

    def append(
        self, submission: Submission | Statement, *, idempotency_key: str | None = None
    ) -> Entry:
        """Append one statement; see `append_batch`."""
        return self.append_batch([submission], idempotency_key=idempotency_key)[0]

    def append_batch(
        self,
        submissions: Sequence[Submission | Statement],
        *,
        idempotency_key: str | None = None,
    ) -> list[Entry]:
        """Append statements atomically, in order; return their entries.

        A retry with the same idempotency key and the same statements returns the entries
        first written; the same key with different statements raises IdempotencyKeyReused.
        Any refused statement refuses the whole batch and writes nothing, not even a
        `request.refused` entry. Admission only: no role or artifact check, for writes no
        user makes (fixtures, benchmarks); a write for a user goes through `submit`.
        """
        subs = _submissions(submissions)
        if not subs:
            return []
        return self._writer.append(subs, idempotency_key)

    def async_writer(self) -> AsyncWriter:
        """The store's writer for asyncio callers (the service): `await append(...)` shares
        the queue and the groups of `append_batch` (see `ledger.store._writer`)."""
        return AsyncWriter(self._writer)

    def close(self) -> None:
        """Stop the writer thread once what is queued is committed, and close the database
        connections; `engine.dispose()` does the same. The store opens them again if used."""
        self._writer.close()
        self.engine.dispose()

    def import_entries(self, source: Iterator[Entry], *, expected_root: bytes) -> int:
        """Copy already-verified entries (bundle import); see `Appender.import_entries`."""
        return self._appender.import_entries(source, expected_root=expected_root)

    # -- reading -----------------------------------------------------------------------

    def size(self) -> int:
        """Number of entries in the ledger."""
        with self.engine.connect() as conn:
            value = conn.execute(select(ledger_head.c.size).where(ledger_head.c.id == 1)).scalar()
        if value is None:
            raise LedgerNotInitialised("this database holds no ledger: run `govledger init`")
        return int(value)

    def entry(self, seq: int) -> Entry:
        """The entry at `seq`; UnknownEntry if there is none."""
        return self._one(entries.c.seq == seq, f"no entry at seq {seq}")

    def entries_at(self, seqs: Sequence[int]) -> list[Entry]:
        """The entries at these seqs, in seq order, in one read; UnknownEntry if one is
        missing."""
        wanted = sorted(set(seqs))
        rows = self._fetch_all(self._sql.entries_in(len(wanted)), tuple(wanted))
        found = [entry_from_row(r) for r in rows]
        if len(found) != len(wanted):
            missing = sorted(set(wanted) - {e.seq for e in found})
            raise UnknownEntry(f"no entry at seq {missing[0]}")
        return found

    def seq_of(self, entry_hash: bytes) -> int:
        """The seq of the entry with this entry_hash (by its unique index)."""
        rows = self._fetch_all(self._sql.subject_by_hash, (entry_hash,))
        if not rows:
            raise UnknownEntry(f"no entry with hash {entry_hash.hex()}")
        return int(rows[0][1])

    def entry_by_hash(self, entry_hash: bytes) -> Entry:
        """The entry with this entry_hash."""
        return self._one(
            entries.c.entry_hash == entry_hash, f"no entry with hash {entry_hash.hex()}"
        )

    def entry_by_id(self, entry_id: str) -> Entry:
        """The entry with this entry_id (UUID)."""
        return self._one(entries.c.entry_id == entry_id, f"no entry with id {entry_id}")

    def run_of(self, model: str, version: str) -> Entry | None:
        """The run (training or recalibration) that logged a version, if any."""
        query = (
            select(*_ENTRY_COLUMNS)
            .where(entries.c.model == model, entries.c.version == version)
            .where(entries.c.kind.in_([k.value for k in RUN_KINDS]))
            .order_by(entries.c.seq)
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else entry_from_row(row)

    def serving_events(
        self, model: str, *, before: int | None = None
    ) -> tuple[list[PromotionFact], list[RetirementFact]]:
        """A model's promotions and retirements in seq order (those before seq `before`),
        by the partial kind index: what `ledger.governance.serving_history` folds."""
        rows = self._fetch_all(self._sql.serving_events, (model,))
        events = [_serving_event(model, r) for r in rows if before is None or int(r[0]) < before]
        promotions = [e for e in events if isinstance(e, PromotionFact)]
        return promotions, [e for e in events if isinstance(e, RetirementFact)]

    def serving_history(self, model: str, *, before: int) -> ServingHistory:
        """A model's serving history folded from its entries before seq `before`.

        The log is append-only, so what was folded up to a seq never changes: the store
        keeps each model's last fold and reads and folds only the events appended since
        (an as-of answer asks for it on every question, with a thousand promotions)."""
        with self._serving_lock:
            cached = self._serving_folds.get(model)
        if cached is not None and cached[0] == before:
            return cached[1]
        if cached is not None and cached[0] < before:
            upto, history = cached
        else:
            upto, history = 0, ServingHistory(self.policy.shadow_environments)
        rows = self._fetch_all(self._sql.serving_events_between, (model, upto, before))
        if rows and upto:  # callers may still read the cached fold: fold into a copy
            history = copy.deepcopy(history)
        for row in rows:
            event = _serving_event(model, row)
            if isinstance(event, PromotionFact):
                history.promote(event)
            else:
                history.retire(event)
        with self._serving_lock:
            self._serving_folds[model] = (before, history)
        return history

    def first_entry_of(self, model: str) -> Entry | None:
        """The first entry about a model (any version), or None when the ledger has none."""
        found = self.list_entries(EntryFilter(model=model), limit=1)
        return found[0] if found else None

    def _one(self, condition: object, message: str) -> Entry:
        with self.engine.connect() as conn:
            row = conn.execute(select(*_ENTRY_COLUMNS).where(condition)).first()  # type: ignore[arg-type]
        if row is None:
            raise UnknownEntry(message)
        return entry_from_row(row)

    def list_entries(
        self,
        filters: EntryFilter | None = None,
        *,
        after_seq: int = -1,
        limit: int = 100,
        descending: bool = False,
    ) -> list[Entry]:
        """Entries matching the filters, in seq order, after a cursor (keyset pagination)."""
        filters = filters or EntryFilter()
        query = select(*_ENTRY_COLUMNS)
        if descending:
            if after_seq >= 0:
                query = query.where(entries.c.seq < after_seq)
        else:
            query = query.where(entries.c.seq > after_seq)
        for column, value in (
            (entries.c.model, filters.model),
            (entries.c.version, filters.version),
            (entries.c.kind, filters.kind),
            (entries.c.actor, filters.actor),
        ):
            if value is not None:
                query = query.where(column == value)
        if filters.kind is not None and filters.kind not in HIGH_VOLUME_KINDS:
            query = query.where(text(GOVERNANCE_KIND_SQL))  # the partial kind index's term
        if filters.since is not None or filters.until is not None:
            first, stop = self.seq_range(filters.since, filters.until)
            query = query.where(entries.c.seq >= first, entries.c.seq < stop)
        order = entries.c.seq.desc() if descending else entries.c.seq
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(order).limit(limit)).all()
        return [entry_from_row(r) for r in rows]

    def seq_range(self, since: str | None, until: str | None) -> tuple[int, int]:
        """The seqs [first, stop) of the entries recorded at or after `since` and before
        `until` (RFC 3339 UTC; either may be None).

        `recorded_at` never decreases along `seq` (the appender stamps max(now, previous),
        verification checks it), so a time range is a range of seqs: two bisections over the
        primary key, O(log n) point reads, with no index on the time itself (migration 0005).
        """
        since_text, until_text = (
            None if moment is None else format_rfc3339(parse_rfc3339(moment, name))
            for moment, name in ((since, "since"), (until, "until"))
        )
        size = self.size()
        with self.engine.connect() as conn:
            cursor = conn.connection.cursor()
            try:
                first = (
                    0 if since_text is None else _first_seq_at(cursor, self._sql, since_text, size)
                )
                stop = (
                    size
                    if until_text is None
                    else _first_seq_at(cursor, self._sql, until_text, size)
                )
            finally:
                cursor.close()
        return first, max(first, stop)

    def iter_entries(self, start: int = 0, *, chunk: int = 10_000) -> Iterator[Entry]:
        """Every entry from `start` in seq order, read in chunks (flat memory)."""
        for row in self.iter_rows(start, chunk=chunk):
            yield entry_from_row(row)

    def iter_rows(
        self, start: int = 0, *, stop: int | None = None, chunk: int = 10_000
    ) -> Iterator[tuple[Any, ...]]:
        """Raw entry rows (in `ROW_FIELDS` order) with start <= seq (< stop), in seq order."""
        for rows in self.iter_row_chunks(start, stop=stop, chunk=chunk):
            yield from rows

    def iter_row_chunks(
        self, start: int = 0, *, stop: int | None = None, chunk: int = 10_000
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Raw entry rows with start <= seq (< stop) in seq order, in lists of up to `chunk`.

        Verification reads every entry of a log of millions, so this skips SQLAlchemy's
        result layer: a fixed SQL string on the driver's own cursor, plain tuples of driver
        types back (int, str, bytes), a third less CPU per row than `select()` and Row
        objects. Keyset-paginated (`ledger.sql.entry_chunks`): flat memory, short reads.
        """
        return entry_chunks(self._fetch_all, self._sql, start, stop, chunk)

    def _fetch_all(self, query: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self.engine.connect() as conn:
            cursor = conn.connection.cursor()
            try:
                cursor.execute(query, params)
                return list(cursor.fetchall())
            finally:
                cursor.close()

    @contextmanager
    def reference_lookup(self) -> Iterator[Callable[[bytes], tuple[int, str, str, str] | None]]:
        """A function giving (seq, kind, model, version) of the entry with a hash, by the
        entry_hash index, or None; verification checks what entries cite with it.

        One connection and cursor serve every lookup of the block: a verification of a
        million entries makes tens of thousands, and a pool checkout per lookup cost more
        than the indexed query itself."""
        with self.engine.connect() as conn:
            cursor = conn.connection.cursor()
            query = self._sql.subject_by_hash

            def find(entry_hash: bytes) -> tuple[int, str, str, str] | None:
                cursor.execute(query, (entry_hash,))
                row = cursor.fetchone()
                if row is None:
                    return None
                _, seq, kind, model, version, _ = row
                return int(seq), str(kind), str(model), str(version)

            try:
                yield find
            finally:
                cursor.close()

    def rules(self, *, before: int | None = None) -> RulesState:
        """The ledger's rules (users, roles, API keys, policies in force) as of every stored
        entry, or as of the entry at seq `before` (what was in force when it was appended)."""
        return self._rules.current() if before is None else self._rules.before(before)

    def key_events(self) -> list[tuple[Any, ...]]:
        """(seq, kind, actor, payload, key_id) of every key.registered / key.revoked entry.

        Few rows (one per actor key), found by the kind index: parallel verification seeds
        each range of the log with the keys the entries before it registered.
        """
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.exec_driver_sql(self._sql.key_events).all()]

    def meta(self) -> dict[str, str]:
        """Ledger-wide facts (origin, verifier key, created_at)."""
        with self.engine.connect() as conn:
            return {
                str(k): str(v)
                for k, v in conn.execute(select(ledger_meta.c.key, ledger_meta.c.value))
            }

    def head(self) -> tuple[int, bytes]:
        """(size, last entry hash) as recorded by the sequencer."""
        with self.engine.connect() as conn:
            row = conn.execute(select(ledger_head.c.size, ledger_head.c.last_hash)).first()
        if row is None:
            raise LedgerNotInitialised("this database holds no ledger: run `govledger init`")
        return int(row[0]), bytes(row[1])

    # -- proofs ------------------------------------------------------------------------

    def _check_size(self, tree_size: int | None, current: int) -> int:
        size = current if tree_size is None else tree_size
        if size < 0 or size > current:
            raise NotFound(f"tree size {size} is out of range: the ledger has {current} entries")
        return size

    def root_at(self, tree_size: int) -> bytes:
        """The Merkle root of the first `tree_size` entries."""
        with self.engine.connect() as conn:
            return tree_store.root_at(conn, tree_size)

    def inclusion_proof(self, seq: int, tree_size: int | None = None) -> InclusionProof:
        """Inclusion proof of entry `seq` in the tree of `tree_size` (default: current)."""
        size = self._check_size(tree_size, self.size())
        if not 0 <= seq < size:
            raise UnknownEntry(f"no entry at seq {seq} in a tree of {size} entries")
        with self.engine.connect() as conn:
            return tree_store.inclusion_proof(conn, seq, size)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        """Consistency proof from the tree of `old_size` to the tree of `new_size`."""
        new = self._check_size(new_size, self.size())
        if not 0 <= old_size <= new:
            raise NotFound(f"old size {old_size} must be between 0 and {new}")
        with self.engine.connect() as conn:
            return tree_store.consistency_proof(conn, old_size, new)

    # -- checkpoints -------------------------------------------------------------------

    def latest_checkpoint(self) -> Checkpoint | None:
        """The most recent signed checkpoint the ledger issued, if any."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(checkpoints.c.size, checkpoints.c.root, checkpoints.c.note)
                .order_by(checkpoints.c.size.desc())
                .limit(1)
            ).first()
        if row is None:
            return None
        return Checkpoint(self.origin, int(row[0]), bytes(row[1]), str(row[2]))

    def checkpoints_after(self, size: int) -> list[Checkpoint]:
        """Every stored checkpoint with a tree size greater than `size`, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(checkpoints.c.size, checkpoints.c.root, checkpoints.c.note)
                .where(checkpoints.c.size > size)
                .order_by(checkpoints.c.size)
            ).all()
        return [Checkpoint(self.origin, int(r[0]), bytes(r[1]), str(r[2])) for r in rows]

    def checkpoint(self) -> Checkpoint:
        """A signed checkpoint of the current tree, issuing a new one if the tree grew."""
        latest = self.latest_checkpoint()
        size = self.size()
        if latest is not None and latest.size >= size:
            return latest
        if self._checkpoint_key is None:
            if latest is not None:
                return latest
            raise LedgerNotInitialised(
                "no ledger key to sign a checkpoint: set GOVLEDGER_HOME to the folder "
                "`govledger init` created"
            )
        signed = sign_checkpoint(self.origin, size, self.root_at(size), self._checkpoint_key)
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(checkpoints).values(
                        size=signed.size,
                        root=signed.root,
                        note=signed.note,
                        created_at=format_rfc3339(datetime.now(UTC)),
                    )
                )
        except IntegrityError:  # another process signed this size first: use theirs
            with self.engine.connect() as conn:
                note = conn.execute(
                    select(checkpoints.c.note).where(checkpoints.c.size == size)
                ).scalar()
            return Checkpoint(self.origin, size, signed.root, str(note))
        return signed


def _serving_event(model: str, row: Sequence[Any]) -> PromotionFact | RetirementFact:
    """A serving event from a `serving_events` row."""
    seq, entry_hash, kind, actor, version, recorded_at, reason, payload = row
    return serving_event(
        int(seq),
        bytes(entry_hash),
        str(kind),
        str(actor),
        model,
        str(version),
        str(recorded_at),
        str(reason),
        str(payload),
    )


def _submissions(submissions: Sequence[Submission | Statement]) -> list[Submission]:
    return [s if isinstance(s, Submission) else Submission(s) for s in submissions]


def _first_seq_at(cursor: Any, sql: Statements, moment: str, size: int) -> int:
    """The first seq in [0, size) recorded at or after `moment`, or `size` if there is none."""
    lo, hi = 0, size
    while lo < hi:
        mid = (lo + hi) // 2
        cursor.execute(sql.recorded_from, (mid,))
        row = cursor.fetchone()
        if row is None:  # nothing from mid on (a gap in a tampered log): look lower
            hi = mid
        elif str(row[0]) < moment:
            lo = mid + 1
        else:
            hi = mid
    return lo
