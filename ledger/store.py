"""The ledger store: append (one total order), read, Merkle proofs and checkpoints.

Appends go through `ledger.appender` (one transaction under the sequencer lock; all of a
request or none of it). Proofs read only the O(log n) stored complete-subtree hashes they
need (one query), never the whole log.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from ledger import merkle
from ledger.admission import FreshnessWindow, Submission
from ledger.appender import Appender, entry_from_row
from ledger.async_writer import AsyncWriter
from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.errors import (
    LedgerNotInitialised,
    NotFound,
    UnknownEntry,
)
from ledger.policy import ApprovalPolicy
from ledger.records import Entry, Statement, format_rfc3339, parse_rfc3339
from ledger.sql import entry_chunks, statements_for
from ledger.tables import (
    checkpoints,
    entries,
    ledger_head,
    ledger_meta,
    merkle_nodes,
)

_ENTRY_COLUMNS = (
    entries.c.seq,
    entries.c.entry_id,
    entries.c.recorded_at,
    entries.c.prev_hash,
    entries.c.kind,
    entries.c.model,
    entries.c.version,
    entries.c.actor,
    entries.c.reason,
    entries.c.payload,
    entries.c.issued_at,
    entries.c.signature,
    entries.c.key_id,
    entries.c.entry_hash,
)


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """Proof that the entry at `seq` is leaf `seq` of the tree of `tree_size` entries."""

    seq: int
    tree_size: int
    leaf: bytes
    proof: list[bytes]
    root: bytes


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """Proof that the tree of `old_size` entries is a prefix of the tree of `new_size`."""

    old_size: int
    new_size: int
    old_root: bytes
    new_root: bytes
    proof: list[bytes]


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
    ) -> None:
        self.engine = engine
        self.origin = origin
        self._checkpoint_key = checkpoint_key
        self._sql = statements_for(engine.dialect.name)
        self._appender = Appender(
            engine, self._sql, policy or ApprovalPolicy(), window or FreshnessWindow()
        )

    @property
    def policy(self) -> ApprovalPolicy:
        """The approval policy appends are admitted under (configuration, not code)."""
        return self._appender.policy

    @policy.setter
    def policy(self, policy: ApprovalPolicy) -> None:
        self._appender.policy = policy

    @property
    def window(self) -> FreshnessWindow:
        """How old or how far ahead a signed statement's issued_at may be."""
        return self._appender.window

    # -- writing (ledger.appender) -------------------------------------------------------

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
        Any refused statement refuses the whole batch and writes nothing.
        """
        subs = [s if isinstance(s, Submission) else Submission(s) for s in submissions]
        if not subs:
            return []
        return self._appender.append_batch(subs, idempotency_key)

    def async_writer(self) -> AsyncWriter:
        """An appender for asyncio callers (the service): see `ledger.async_writer`."""
        return AsyncWriter(self._appender)

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

    def entry_by_hash(self, entry_hash: bytes) -> Entry:
        """The entry with this entry_hash."""
        return self._one(
            entries.c.entry_hash == entry_hash, f"no entry with hash {entry_hash.hex()}"
        )

    def entry_by_id(self, entry_id: str) -> Entry:
        """The entry with this entry_id (UUID)."""
        return self._one(entries.c.entry_id == entry_id, f"no entry with id {entry_id}")

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
        if filters.since is not None:
            query = query.where(
                entries.c.recorded_at >= format_rfc3339(parse_rfc3339(filters.since, "since"))
            )
        if filters.until is not None:
            query = query.where(
                entries.c.recorded_at < format_rfc3339(parse_rfc3339(filters.until, "until"))
            )
        order = entries.c.seq.desc() if descending else entries.c.seq
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(order).limit(limit)).all()
        return [entry_from_row(r) for r in rows]

    def iter_entries(self, start: int = 0, *, chunk: int = 10_000) -> Iterator[Entry]:
        """Every entry from `start` in seq order, read in chunks (flat memory)."""
        for row in self.iter_rows(start, chunk=chunk):
            yield entry_from_row(row)

    def iter_rows(
        self, start: int = 0, *, stop: int | None = None, chunk: int = 10_000
    ) -> Iterator[tuple[Any, ...]]:
        """Raw entry rows (in `_ENTRY_COLUMNS` order) with start <= seq (< stop), in seq order."""
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

    def _fetch_all(self, query: str, params: tuple[int, ...]) -> list[tuple[Any, ...]]:
        with self.engine.connect() as conn:
            cursor = conn.connection.cursor()
            try:
                cursor.execute(query, params)
                return list(cursor.fetchall())
            finally:
                cursor.close()

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

    def _nodes(self, conn: Connection, wanted: set[int]) -> dict[int, bytes]:
        if not wanted:
            return {}
        rows = conn.execute(
            select(merkle_nodes.c.node_id, merkle_nodes.c.hash).where(
                merkle_nodes.c.node_id.in_(sorted(wanted))
            )
        ).all()
        return {int(r[0]): bytes(r[1]) for r in rows}

    def _fold(self, plan: list[list[tuple[int, int]]], nodes: dict[int, bytes]) -> list[bytes]:
        try:
            return [
                merkle.fold_subtrees([nodes[merkle.node_id(l, i)] for l, i in element])
                for element in plan
            ]
        except KeyError as exc:
            raise NotFound(f"Merkle node {exc} is missing from the store") from None

    def _check_size(self, tree_size: int | None, current: int) -> int:
        size = current if tree_size is None else tree_size
        if size < 0 or size > current:
            raise NotFound(f"tree size {size} is out of range: the ledger has {current} entries")
        return size

    def root_at(self, tree_size: int) -> bytes:
        """The Merkle root of the first `tree_size` entries."""
        plan = [merkle.range_subtrees(0, tree_size)] if tree_size else []
        with self.engine.connect() as conn:
            nodes = self._nodes(conn, {merkle.node_id(l, i) for l, i in plan[0]} if plan else set())
        return self._fold(plan, nodes)[0] if plan else merkle.root_hash([])

    def inclusion_proof(self, seq: int, tree_size: int | None = None) -> InclusionProof:
        """Inclusion proof of entry `seq` in the tree of `tree_size` (default: current)."""
        size = self._check_size(tree_size, self.size())
        if not 0 <= seq < size:
            raise UnknownEntry(f"no entry at seq {seq} in a tree of {size} entries")
        plan = merkle.inclusion_proof_plan(seq, size)
        root_plan = merkle.range_subtrees(0, size)
        wanted = {merkle.node_id(l, i) for element in plan for l, i in element}
        wanted |= {merkle.node_id(l, i) for l, i in root_plan}
        with self.engine.connect() as conn:
            nodes = self._nodes(conn, wanted)
            leaf = conn.execute(select(entries.c.entry_hash).where(entries.c.seq == seq)).scalar()
        if leaf is None:
            raise UnknownEntry(f"no entry at seq {seq}")
        return InclusionProof(
            seq, size, bytes(leaf), self._fold(plan, nodes), self._fold([root_plan], nodes)[0]
        )

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        """Consistency proof from the tree of `old_size` to the tree of `new_size`."""
        new = self._check_size(new_size, self.size())
        if not 0 <= old_size <= new:
            raise NotFound(f"old size {old_size} must be between 0 and {new}")
        plan = merkle.consistency_proof_plan(old_size, new) if 0 < old_size < new else []
        old_plan = merkle.range_subtrees(0, old_size) if old_size else []
        new_plan = merkle.range_subtrees(0, new) if new else []
        wanted = {merkle.node_id(l, i) for element in plan for l, i in element}
        wanted |= {merkle.node_id(l, i) for l, i in old_plan + new_plan}
        with self.engine.connect() as conn:
            nodes = self._nodes(conn, wanted)
        empty = merkle.root_hash([])
        old_root = self._fold([old_plan], nodes)[0] if old_plan else empty
        new_root = self._fold([new_plan], nodes)[0] if new_plan else empty
        return ConsistencyProof(old_size, new, old_root, new_root, self._fold(plan, nodes))

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

    def count(self, filters: EntryFilter) -> int:
        """Number of entries matching filters (model/version/kind/actor only)."""
        query = select(func.count()).select_from(entries)
        for column, value in (
            (entries.c.model, filters.model),
            (entries.c.version, filters.version),
            (entries.c.kind, filters.kind),
            (entries.c.actor, filters.actor),
        ):
            if value is not None:
                query = query.where(column == value)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)
