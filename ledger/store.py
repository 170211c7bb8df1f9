"""The ledger store: append (one total order), read, Merkle proofs and checkpoints.

Every append runs in one transaction under the sequencer lock (`ledger_head` row: FOR
UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite): read the head, replay the Idempotency-Key if
seen, admit each statement, write entries + complete Merkle nodes + the new head, commit.
Either all of a batch is written or none of it. Proofs read only the O(log n) stored
complete-subtree hashes they need (one query), never the whole log.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from ledger import merkle
from ledger.admission import FreshnessWindow, Submission, admit
from ledger.canonical import canonical_json
from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.database import WRITE_OPTION
from ledger.errors import (
    Conflict,
    GovledgerError,
    IdempotencyKeyReused,
    LedgerBusy,
    LedgerNotInitialised,
    NotFound,
    UnknownEntry,
)
from ledger.facts import TransactionFacts
from ledger.group_commit import GroupCommit, PendingAppend
from ledger.kinds import Kind
from ledger.policy import ApprovalPolicy
from ledger.records import Entry, Statement, compute_entry_hash, format_rfc3339, parse_rfc3339
from ledger.sql import entry_chunks, statements_for
from ledger.tables import (
    checkpoints,
    entries,
    idempotency_keys,
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


def entry_from_row(row: Sequence[Any]) -> Entry:
    """Build an Entry from a row of `_ENTRY_COLUMNS`."""
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
    return Entry(
        seq=int(seq),
        entry_id=str(entry_id),
        recorded_at=str(recorded_at),
        prev_hash=bytes(prev_hash),
        statement=Statement(
            kind=str(kind),
            model=str(model),
            version=str(version),
            actor=str(actor),
            reason=str(reason),
            payload_json=str(payload),
            issued_at=None if issued_at is None else str(issued_at),
        ),
        signature=None if signature is None else str(signature),
        key_id=None if key_id is None else str(key_id),
        entry_hash=bytes(entry_hash),
    )


def entry_row(entry: Entry) -> tuple[object, ...]:
    """An entry as the parameters of `Statements.insert_entry` (store column order)."""
    st = entry.statement
    return (
        entry.seq,
        entry.entry_id,
        entry.recorded_at,
        entry.prev_hash,
        st.kind,
        st.model,
        st.version,
        st.actor,
        st.reason,
        st.payload_json,
        st.issued_at,
        entry.signature,
        entry.key_id,
        entry.entry_hash,
    )


@dataclass(frozen=True, slots=True)
class _AppendRequest:
    """What `append_batch` was asked to write."""

    subs: list[Submission]
    key: str | None
    fingerprint: bytes


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


def new_entry_id() -> str:
    """A fresh entry_id: a UUID of version 7 (RFC 9562 section 5.7), ordered by time.

    Its leading 48-bit Unix time in milliseconds puts the ids of consecutive entries next to
    each other in the unique index on entry_id, where random version-4 ids would scatter the
    inserts of every batch over the whole index: at a million entries that costs about a
    sixth of a batch append's CPU and many of the pages it writes. The other 74 bits are
    random, from the OS CSPRNG, so ids stay unique across writers and ledgers.
    """
    millis = time.time_ns() // 1_000_000
    random_bits = int.from_bytes(os.urandom(10), "big")
    value = (
        (millis & 0xFFFF_FFFF_FFFF) << 80
        | 0x7 << 76
        | ((random_bits >> 62) & 0xFFF) << 64
        | 0b10 << 62
        | random_bits & ((1 << 62) - 1)
    )
    return str(uuid.UUID(int=value))


def request_hash(submissions: Sequence[Submission]) -> bytes:
    """Fingerprint of a write request, to tell a retry from a reuse of its Idempotency-Key."""
    digest = hashlib.sha256()
    for sub in submissions:
        digest.update(sub.statement.signing_bytes())
        digest.update(canonical_json([sub.signature, sub.key_id]))
    return digest.digest()


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
        self.policy = policy or ApprovalPolicy()
        self.window = window or FreshnessWindow()
        self._checkpoint_key = checkpoint_key
        self._sql = statements_for(engine.dialect.name)
        self._group_commit = GroupCommit(self._commit_group)

    # -- writing -----------------------------------------------------------------------

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
        # The fingerprint tells a retry from a reuse of its key: without a key, nothing to tell
        # (and it costs a tenth of a 10,000-entry batch).
        fingerprint = b"" if idempotency_key is None else request_hash(subs)
        request = PendingAppend(_AppendRequest(subs, idempotency_key, fingerprint))
        self._group_commit.submit(request)
        if request.error is not None:
            raise request.error
        entries_out: list[Entry] = request.result
        return entries_out

    def _commit_group(self, group: list[PendingAppend]) -> None:
        """Commit a group of requests in one transaction, or each alone if that fails.

        Requests whose Idempotency-Key appears earlier in the group wait for the next group,
        where they are answered as retries.
        """
        first_seen: set[str] = set()
        now_group: list[PendingAppend] = []
        later: list[PendingAppend] = []
        for pending in group:
            key = pending.payload.key
            if key is not None and key in first_seen:
                later.append(pending)
                continue
            if key is not None:
                first_seen.add(key)
            now_group.append(pending)
        try:
            outcomes = self._transaction(now_group)
        except (OperationalError, IntegrityError) as exc:
            if len(now_group) > 1:  # isolate the culprit: one request per transaction
                for pending in now_group:
                    self._commit_group([pending])
            else:
                outcome = self._database_error(exc, now_group[0].payload)
                if isinstance(outcome, list):
                    now_group[0].resolve(result=outcome)
                else:
                    now_group[0].resolve(error=outcome)
        else:
            for pending, outcome in zip(now_group, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    pending.resolve(error=outcome)
                else:
                    pending.resolve(result=outcome)
        if later:
            self._commit_group(later)

    def _database_error(
        self, exc: Exception, request: _AppendRequest
    ) -> BaseException | list[Entry]:
        """The answer to a request whose transaction failed in the database."""
        if isinstance(exc, OperationalError) and (
            "locked" in str(exc) or "lock" in str(exc.orig).lower()
        ):
            return LedgerBusy(
                "the ledger is busy (sequencer lock timeout); retry with the same Idempotency-Key"
            )
        if (
            isinstance(exc, IntegrityError)
            and request.key is not None
            and "idempotency" in str(exc).lower()
        ):
            # A concurrent request with the same key, in another process, won: a retry.
            try:
                return self._replay(request.key, request.fingerprint)
            except GovledgerError as replay_error:
                return replay_error
        return exc

    def _transaction(self, group: list[PendingAppend]) -> list[list[Entry] | BaseException]:
        with self.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn:
            with conn.begin():
                return self._append_locked(conn, [p.payload for p in group])

    def _append_locked(
        self, conn: Connection, requests: list[_AppendRequest]
    ) -> list[list[Entry] | BaseException]:
        """Admit and write each request under the sequencer lock; one outcome per request."""
        sql = self._sql
        head = conn.exec_driver_sql(sql.lock_head).first()
        if head is None:
            raise LedgerNotInitialised("this database holds no ledger: run `govledger init`")
        outcomes: list[list[Entry] | BaseException | None] = [None] * len(requests)
        keyed = {r.key: i for i, r in enumerate(requests) if r.key is not None}
        if keyed:
            for i, replay in self._replays(conn, requests, keyed).items():
                outcomes[i] = replay
        size, prev_hash, last_recorded, frontier_bytes = head
        size = int(size)
        prev_hash = bytes(prev_hash)
        frontier = merkle.MerkleFrontier.from_bytes(bytes(frontier_bytes))
        now = datetime.now(UTC)
        recorded_at = max(format_rfc3339(now), str(last_recorded))
        facts = TransactionFacts(conn, sql)
        accepted: list[Entry] = []
        for i, request in enumerate(requests):
            if outcomes[i] is not None:
                continue
            created: list[Entry] = []
            try:
                for index, sub in enumerate(request.subs):
                    try:
                        admit(sub, facts, self.policy, now, self.window)
                    except GovledgerError as exc:
                        if len(request.subs) > 1:
                            exc.message = f"statement {index} of the batch: {exc.message}"
                            exc.args = (exc.message,)
                        raise
                    seq = size + len(created)
                    link = created[-1].entry_hash if created else prev_hash
                    entry_id = new_entry_id()
                    st = sub.statement
                    entry_hash = compute_entry_hash(
                        seq=seq,
                        entry_id=entry_id,
                        recorded_at=recorded_at,
                        prev_hash=link,
                        statement=st,
                        signature=sub.signature,
                        key_id=sub.key_id,
                    )
                    entry = Entry(
                        seq, entry_id, recorded_at, link, st, sub.signature, sub.key_id, entry_hash
                    )
                    facts.add(entry)
                    created.append(entry)
            except GovledgerError as exc:
                outcomes[i] = exc
                facts = TransactionFacts(conn, sql)  # forget the refused request's entries
                for entry in accepted:
                    facts.add(entry)
                continue
            outcomes[i] = created
            accepted.extend(created)
            size += len(created)
            prev_hash = created[-1].entry_hash
        if accepted:
            self._write(conn, requests, outcomes, accepted, frontier, recorded_at)
            conn.exec_driver_sql(
                sql.update_head, (size, prev_hash, recorded_at, frontier.to_bytes())
            )
        return [o if o is not None else RuntimeError("unprocessed request") for o in outcomes]

    def _replays(
        self, conn: Connection, requests: list[_AppendRequest], keyed: dict[str, int]
    ) -> dict[int, list[Entry] | BaseException]:
        """Outcomes of requests whose Idempotency-Key was used before (one query)."""
        rows = conn.execute(
            select(
                idempotency_keys.c.key,
                idempotency_keys.c.request_hash,
                idempotency_keys.c.first_seq,
                idempotency_keys.c.count,
            ).where(idempotency_keys.c.key.in_(list(keyed)))
        ).all()
        found: dict[int, list[Entry] | BaseException] = {}
        for key, stored_hash, first, count in rows:
            i = keyed[str(key)]
            if bytes(stored_hash) != requests[i].fingerprint:
                found[i] = IdempotencyKeyReused(
                    f"Idempotency-Key {key!r} was already used for a different request; "
                    "use a new key for a new request"
                )
                continue
            entry_rows = conn.execute(
                select(*_ENTRY_COLUMNS)
                .where(entries.c.seq >= int(first), entries.c.seq < int(first) + int(count))
                .order_by(entries.c.seq)
            ).all()
            found[i] = [entry_from_row(r) for r in entry_rows]
        return found

    def _write(
        self,
        conn: Connection,
        requests: list[_AppendRequest],
        outcomes: list[list[Entry] | BaseException | None],
        accepted: list[Entry],
        frontier: merkle.MerkleFrontier,
        recorded_at: str,
    ) -> None:
        """Insert the accepted entries, their Merkle nodes, keys and idempotency records."""
        sql = self._sql
        entry_rows: list[tuple[object, ...]] = []
        node_rows: list[tuple[int, bytes]] = []
        for entry in accepted:
            entry_rows.append(entry_row(entry))
            for level, node_index, node in frontier.append(entry.entry_hash):
                node_rows.append((merkle.node_id(level, node_index), node))
        conn.exec_driver_sql(sql.insert_entry, entry_rows)
        conn.exec_driver_sql(sql.insert_node, node_rows)
        self._index_keys(conn, accepted)
        idempotency_rows = [
            (request.key, request.fingerprint, outcome[0].seq, len(outcome), recorded_at)
            for request, outcome in zip(requests, outcomes, strict=True)
            if request.key is not None
            and isinstance(outcome, list)
            and outcome
            and outcome[0].seq >= accepted[0].seq
        ]
        if idempotency_rows:
            conn.exec_driver_sql(sql.insert_idempotency, idempotency_rows)

    def _index_keys(self, conn: Connection, created: list[Entry]) -> None:
        for entry in created:
            st = entry.statement
            if st.kind == Kind.KEY_REGISTERED.value:
                payload = st.payload
                conn.exec_driver_sql(
                    self._sql.insert_key,
                    (payload["key_id"], st.actor, payload["public_key"], entry.seq),
                )
            elif st.kind == Kind.KEY_REVOKED.value:
                conn.exec_driver_sql(self._sql.revoke_key, (entry.seq, st.payload["key_id"]))

    def _replay_in(self, conn: Connection, key: str, fingerprint: bytes) -> list[Entry] | None:
        row = conn.exec_driver_sql(self._sql.find_idempotency, (key,)).first()
        if row is None:
            return None
        if bytes(row[0]) != fingerprint:
            raise IdempotencyKeyReused(
                f"Idempotency-Key {key!r} was already used for a different request; "
                "use a new key for a new request"
            )
        first, count = int(row[1]), int(row[2])
        rows = conn.execute(
            select(*_ENTRY_COLUMNS)
            .where(entries.c.seq >= first, entries.c.seq < first + count)
            .order_by(entries.c.seq)
        ).all()
        return [entry_from_row(r) for r in rows]

    def _replay(self, key: str, fingerprint: bytes) -> list[Entry]:
        with self.engine.connect() as conn:
            replay = self._replay_in(conn, key, fingerprint)
        if replay is None:  # pragma: no cover - the conflicting insert committed it
            raise LedgerBusy("concurrent request with the same Idempotency-Key; retry")
        return replay

    # -- importing ---------------------------------------------------------------------

    def import_entries(self, source: Iterator[Entry], *, expected_root: bytes) -> int:
        """Copy already-verified entries (with their own seq and hashes) into this ledger.

        Used by bundle import. Entries this ledger already holds must match exactly; the rest
        are written with their Merkle nodes in one transaction, under the sequencer lock.
        """
        sql = self._sql
        added = 0
        with self.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn:
            with conn.begin():
                head = conn.exec_driver_sql(sql.lock_head).first()
                if head is None:
                    raise LedgerNotInitialised("run `govledger init` before importing")
                size, last_hash = int(head[0]), bytes(head[1])
                frontier = merkle.MerkleFrontier.from_bytes(bytes(head[3]))
                last_recorded = str(head[2])
                batch: list[Entry] = []
                for entry in source:
                    if entry.seq < size:
                        stored = conn.exec_driver_sql(sql.entry_at, (entry.seq,)).scalar()
                        if stored is None or bytes(stored) != entry.entry_hash:
                            raise Conflict(
                                f"this ledger's entry {entry.seq} differs from the bundle's: "
                                "import only into an empty ledger or a copy of the same one"
                            )
                        continue
                    batch.append(entry)
                    if len(batch) >= 5000:
                        self._write_imported(conn, batch, frontier)
                        added += len(batch)
                        batch = []
                if batch:
                    self._write_imported(conn, batch, frontier)
                    added += len(batch)
                if added:
                    last = frontier.size
                    last_hash_row = conn.exec_driver_sql(sql.entry_at, (last - 1,)).first()
                    assert last_hash_row is not None
                    last_hash, last_recorded = bytes(last_hash_row[0]), str(last_hash_row[1])
                    size = last
                if frontier.root() != expected_root:
                    raise Conflict("imported tree root differs from the bundle's: nothing imported")
                conn.exec_driver_sql(
                    sql.update_head, (size, last_hash, last_recorded, frontier.to_bytes())
                )
        return added

    def _write_imported(
        self, conn: Connection, batch: list[Entry], frontier: merkle.MerkleFrontier
    ) -> None:
        rows: list[tuple[object, ...]] = []
        nodes: list[tuple[int, bytes]] = []
        for entry in batch:
            if entry.seq != frontier.size:
                raise Conflict(
                    f"bundle entry {entry.seq} is out of order (expected {frontier.size})"
                )
            rows.append(entry_row(entry))
            for level, index, node in frontier.append(entry.entry_hash):
                nodes.append((merkle.node_id(level, index), node))
        conn.exec_driver_sql(self._sql.insert_entry, rows)
        conn.exec_driver_sql(self._sql.insert_node, nodes)
        self._index_keys(conn, batch)

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
