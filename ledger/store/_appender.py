"""The write path of the store: admit statements and append them under the sequencer lock.

Every append runs in one transaction (`ledger.write_tx`): lock the head row (FOR UPDATE on
PostgreSQL, BEGIN IMMEDIATE on SQLite), replay an Idempotency-Key seen before, admit each
statement against the facts the ledger holds (`ledger.admission`), then write the entries,
the Merkle nodes the store keeps (`ledger.tree_store`), the key index, the idempotency
records and the new head, and commit. Either all of a request is written or none of it.
Concurrent requests of one process share a transaction and its fsync: the store's writer
thread (`ledger.store._writer`) hands `commit_group` whatever is queued; each request keeps
its own outcome.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine

from ledger.errors import (
    Conflict,
    GovledgerError,
    IdempotencyKeyReused,
    LedgerBusy,
    LedgerNotInitialised,
    LedgerUnavailable,
)
from ledger.governance import (
    ApprovalPolicy,
    DecisionRetention,
    FreshnessWindow,
    RegimeGaps,
    RulesState,
    Submission,
    admit,
)
from ledger.log import merkle
from ledger.log.canonical import canonical_json
from ledger.log.decision_batch import DecisionBatch
from ledger.log.entries import Entry, compute_entry_hash, entry_from_row, entry_row
from ledger.log.kinds import SCORING_KINDS, Kind
from ledger.log.signing import signed_statement_row
from ledger.log.timestamps import format_rfc3339
from ledger.store._decision_rows import write_scoring
from ledger.store._sql import Statements
from ledger.store._transaction_facts import TransactionFacts
from ledger.store._tree_store import stored_nodes
from ledger.store._write_tx import (
    ConnectionLost,
    DriverCursor,
    WriteConnections,
    database_errors,
    is_idempotency_conflict,
    is_lock_timeout,
    read_cursor,
)


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
    digits = f"{value:032x}"  # str(uuid.UUID(int=value)), without its checks
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def request_hash(submissions: Sequence[Submission]) -> bytes:
    """Fingerprint of a write request, to tell a retry from a reuse of its Idempotency-Key."""
    digest = hashlib.sha256()
    for sub in submissions:
        if sub.decisions is not None:  # its root changes with the salts of each attempt
            st = sub.statement
            digest.update(canonical_json([st.kind, st.actor, st.reason]))
            digest.update(sub.decisions.fingerprint)
        else:
            digest.update(sub.statement.signing_bytes())
        digest.update(canonical_json([sub.signature, sub.key_id]))
    return digest.digest()


@dataclass(frozen=True, slots=True)
class AppendRequest:
    """What `append_batch` was asked to write."""

    subs: list[Submission]
    key: str | None
    fingerprint: bytes


@dataclass(eq=False, slots=True)
class PendingAppend:
    """One request on its way through `Appender.commit_group`, and then its outcome."""

    payload: AppendRequest
    result: Any = None
    error: BaseException | None = None
    resolved: bool = False

    def resolve(self, result: Any = None, error: BaseException | None = None) -> None:
        """Record the outcome: the request's entries, or the error its caller gets."""
        self.result, self.error, self.resolved = result, error, True


_Outcome = list[Entry] | BaseException
_SCORING_KINDS = frozenset(k.value for k in SCORING_KINDS)


class Appender:
    """Admits and appends requests; one instance per store, driven by its writer thread."""

    def __init__(
        self,
        engine: Engine,
        sql: Statements,
        policy: ApprovalPolicy,
        window: FreshnessWindow,
        retention: DecisionRetention | None = None,
    ) -> None:
        self.engine = engine
        self.policy = policy
        self.window = window
        self.retention = retention or DecisionRetention()
        self.regime_gaps: RegimeGaps | None = None
        self._sql = sql
        self._errors = database_errors(engine)
        self._unavailable = engine.dialect.loaded_dbapi.OperationalError
        self._connections = WriteConnections(engine)
        self._rules = RulesState()
        """The rules as of the stored rule entries read so far: each transaction reads the
        ones written since (by any process) under the sequencer lock, so admission always
        checks against the rules in force at the seq it appends at."""

    def pending(self, subs: list[Submission], idempotency_key: str | None) -> PendingAppend:
        """A request ready for `commit_group`."""
        # The fingerprint tells a retry from a reuse of its key: without a key, nothing to tell
        # (and it costs a tenth of a 10,000-entry batch).
        fingerprint = b"" if idempotency_key is None else request_hash(subs)
        return PendingAppend(AppendRequest(subs, idempotency_key, fingerprint))

    def commit_group(self, group: list[PendingAppend]) -> None:
        """Commit a group of requests in one transaction, or each alone if that fails.

        Requests whose Idempotency-Key appears earlier in the group wait for the next group,
        where they are answered as retries. A request that breaks the transaction (a
        database error, or one its statements cause in the code) fails alone: the group
        is run again one request per transaction. Only a `GovledgerError` of the whole
        group (no ledger, the database unreachable) escapes, for every request unresolved.
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
            outcomes = self._transact([p.payload for p in now_group])
        except GovledgerError:
            raise  # the group's condition, not one request's: the writer tells them all
        except Exception as exc:
            if len(now_group) > 1:  # isolate the culprit: one request per transaction
                for pending in now_group:
                    self.commit_group([pending])
            else:
                outcome = self._failure(exc, now_group[0].payload)
                if isinstance(outcome, list):
                    now_group[0].resolve(result=outcome)
                else:
                    now_group[0].resolve(error=outcome)
        else:
            for pending, result in zip(now_group, outcomes, strict=True):
                if isinstance(result, BaseException):
                    pending.resolve(error=result)
                else:
                    pending.resolve(result=result)
        if later:
            self.commit_group(later)

    def _transact(self, requests: list[AppendRequest]) -> list[_Outcome]:
        """Admit and write requests in one transaction; once more on a new connection if
        the writer's kept connection turned out closed before anything was written."""
        try:
            with self._connections.transaction() as tx:
                return self._append_locked(tx, requests)
        except ConnectionLost:
            pass
        try:
            with self._connections.transaction() as tx:
                return self._append_locked(tx, requests)
        except ConnectionLost as lost:
            raise LedgerUnavailable(
                f"the connection to the ledger database was lost twice ({lost}); nothing was "
                "written: retry with the same Idempotency-Key"
            ) from lost

    def _failure(self, exc: Exception, request: AppendRequest) -> _Outcome:
        """The answer to a request whose transaction failed (alone in its group)."""
        if not isinstance(exc, self._errors):
            return exc
        if is_lock_timeout(exc):
            return LedgerBusy(
                "the ledger is busy (sequencer lock timeout); retry with the same Idempotency-Key"
            )
        if request.key is not None and is_idempotency_conflict(exc):
            # A concurrent request with the same key, in another process, won: a retry.
            try:
                return self._replay(request.key, request.fingerprint)
            except GovledgerError as replay_error:
                return replay_error
        if isinstance(exc, self._unavailable):
            return LedgerUnavailable(
                f"the ledger database is unavailable ({str(exc).strip()[:200]}); "
                "retry with the same Idempotency-Key"
            )
        return exc

    def _append_locked(self, tx: DriverCursor, requests: list[AppendRequest]) -> list[_Outcome]:
        """Admit and write each request under the sequencer lock; one outcome per request.

        Three steps, two round trips on PostgreSQL (`DriverCursor.batch`): read the head, the
        replays and the facts the group's runs need; admit in Python (a rarer fact costs a
        query of its own); write everything and commit.
        """
        sql = self._sql
        keyed = {r.key: i for i, r in enumerate(requests) if r.key is not None}
        pairs = TransactionFacts.wanted([s.statement for r in requests for s in r.subs])
        with tx.batch():
            head_rows = tx.later(sql.lock_head)
            replay_rows = (
                tx.later(sql.find_idempotency_keys(len(keyed)), list(keyed)) if keyed else None
            )
            step = sql.FACT_PAIRS_PER_QUERY
            fact_rows = [
                tx.later(sql.group_facts(len(chunk)), [v for pair in chunk for v in pair])
                for chunk in (pairs[i : i + step] for i in range(0, len(pairs), step))
            ]
            rule_rows = tx.later(sql.rule_entries_after, [self._rules.upto])
        head = next(iter(head_rows()), None)
        if head is None:
            raise LedgerNotInitialised("this database holds no ledger: run `govledger init`")
        outcomes: list[_Outcome | None] = [None] * len(requests)
        if replay_rows is not None:
            for i, replay in self._replays(tx, requests, keyed, replay_rows()).items():
                outcomes[i] = replay
        preloaded = [row for fetch in fact_rows for row in fetch()]
        for row in rule_rows():
            stored = entry_from_row(row)
            self._rules.apply(stored.seq, stored.entry_hash, stored.statement)
        size, prev_hash, last_recorded, frontier_bytes = head
        size = int(size)
        prev_hash = bytes(prev_hash)
        frontier = merkle.MerkleFrontier.from_bytes(bytes(frontier_bytes))
        now = datetime.now(UTC)
        recorded_at = max(format_rfc3339(now), str(last_recorded))
        facts = TransactionFacts(tx, sql, self._rules)
        facts.preload(pairs, preloaded)
        accepted: list[Entry] = []
        scoring: list[tuple[Entry, DecisionBatch | None]] = []
        for i, request in enumerate(requests):
            if outcomes[i] is not None:
                continue
            try:
                created = self._admit_request(request, facts, now, size, prev_hash, recorded_at)
            except GovledgerError as exc:
                outcomes[i] = exc
                facts = TransactionFacts(tx, sql, self._rules)  # forget the refused request
                facts.preload(pairs, preloaded)
                for entry in accepted:
                    facts.add(entry)
                for entry, batch in scoring:
                    if batch is not None:
                        facts.add_decisions(batch, entry.seq)
                continue
            outcomes[i] = created
            accepted.extend(created)
            scoring.extend(
                (entry, sub.decisions)
                for entry, sub in zip(created, request.subs, strict=True)
                if entry.statement.kind in _SCORING_KINDS
            )
            size += len(created)
            prev_hash = created[-1].entry_hash
        with tx.batch():
            if accepted:
                self._write(tx, requests, outcomes, accepted, frontier, recorded_at)
                if scoring:
                    write_scoring(tx, sql, scoring)
                tx.execute(sql.update_head, (size, prev_hash, recorded_at, frontier.to_bytes()))
            tx.commit()
        return [o if o is not None else RuntimeError("unprocessed request") for o in outcomes]

    def _admit_request(
        self,
        request: AppendRequest,
        facts: TransactionFacts,
        now: datetime,
        size: int,
        prev_hash: bytes,
        recorded_at: str,
    ) -> list[Entry]:
        """Admit every statement of a request and build its entries (nothing written yet)."""
        created: list[Entry] = []
        for index, sub in enumerate(request.subs):
            try:
                admit(
                    sub,
                    facts,
                    self.policy,
                    now,
                    self.window,
                    seq=size + len(created),
                    retention=self.retention,
                    regime_gaps=self.regime_gaps,
                )
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
            if sub.decisions is not None:
                facts.add_decisions(sub.decisions, seq)
            created.append(entry)
        return created

    def _replays(
        self,
        tx: DriverCursor,
        requests: list[AppendRequest],
        keyed: dict[str, int],
        rows: list[tuple[Any, ...]],
    ) -> dict[int, _Outcome]:
        """Outcomes of requests whose Idempotency-Key was used before (`rows` of
        `Statements.find_idempotency_keys`)."""
        found: dict[int, _Outcome] = {}
        for key, stored_hash, first, count in rows:
            i = keyed[str(key)]
            found[i] = self._replayed(
                tx, str(key), requests[i].fingerprint, stored_hash, first, count
            )
        return found

    def _replayed(
        self,
        tx: DriverCursor,
        key: str,
        fingerprint: bytes,
        stored_hash: bytes,
        first: int,
        count: int,
    ) -> _Outcome:
        """The first answer to a retried request, or the refusal of a reused key."""
        if bytes(stored_hash) != fingerprint:
            return IdempotencyKeyReused(
                f"Idempotency-Key {key!r} was already used for a different request; "
                "use a new key for a new request"
            )
        first, count = int(first), int(count)
        rows = tx.all(self._sql.entries_between, (first, first + count, count))
        return [entry_from_row(r) for r in rows]

    def _write(
        self,
        tx: DriverCursor,
        requests: list[AppendRequest],
        outcomes: list[_Outcome | None],
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
            node_rows.extend(stored_nodes(frontier.append(entry.entry_hash)))
        tx.insert(sql.insert_entry, entry_rows)
        tx.insert(sql.insert_node, node_rows)
        self._index_keys(tx, accepted)
        self._index_signed(tx, accepted)
        idempotency_rows = [
            (request.key, request.fingerprint, outcome[0].seq, len(outcome), recorded_at)
            for request, outcome in zip(requests, outcomes, strict=True)
            if request.key is not None
            and isinstance(outcome, list)
            and outcome
            and outcome[0].seq >= accepted[0].seq
        ]
        tx.insert(sql.insert_idempotency, idempotency_rows)

    def _index_signed(self, tx: DriverCursor, created: list[Entry]) -> None:
        """The `signed_statements` rows of the signed entries (the database's replay guard);
        nothing for unsigned ones."""
        rows = [signed_statement_row(e) for e in created if e.signature is not None]
        if rows:
            tx.insert(self._sql.insert_signed, rows)

    def _index_keys(self, tx: DriverCursor, created: list[Entry]) -> None:
        for entry in created:
            st = entry.statement
            if st.kind == Kind.KEY_REGISTERED.value:
                payload = st.payload
                tx.execute(
                    self._sql.insert_key,
                    (payload["key_id"], st.actor, payload["public_key"], entry.seq),
                )
            elif st.kind == Kind.KEY_REVOKED.value:
                tx.execute(self._sql.revoke_key, (entry.seq, st.payload["key_id"]))

    def _replay(self, key: str, fingerprint: bytes) -> list[Entry]:
        with read_cursor(self.engine) as tx:
            row = tx.first(self._sql.find_idempotency, (key,))
            if row is None:  # pragma: no cover - the conflicting insert committed it
                raise LedgerBusy("concurrent request with the same Idempotency-Key; retry")
            outcome = self._replayed(tx, key, fingerprint, row[0], row[1], row[2])
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    # -- importing ---------------------------------------------------------------------

    def import_entries(self, source: Iterator[Entry], *, expected_root: bytes) -> int:
        """Copy already-verified entries (with their own seq and hashes) into this ledger.

        Used by bundle import. Entries this ledger already holds must match exactly; the rest
        are written with their Merkle nodes in one transaction, under the sequencer lock.
        """
        try:
            return self._import_locked(source, expected_root)
        except ConnectionLost as lost:
            raise LedgerUnavailable(
                f"the connection to the ledger database was lost ({lost}); nothing was "
                "imported: run the import again"
            ) from lost

    def _import_locked(self, source: Iterator[Entry], expected_root: bytes) -> int:
        sql = self._sql
        added = 0
        with self._connections.transaction() as tx:
            head = tx.first(sql.lock_head)
            if head is None:
                raise LedgerNotInitialised("run `govledger init` before importing")
            size, last_hash = int(head[0]), bytes(head[1])
            frontier = merkle.MerkleFrontier.from_bytes(bytes(head[3]))
            last_recorded = str(head[2])
            batch: list[Entry] = []
            for entry in source:
                if entry.seq < size:
                    stored = tx.first(sql.entry_at, (entry.seq,))
                    if stored is None or bytes(stored[0]) != entry.entry_hash:
                        raise Conflict(
                            f"this ledger's entry {entry.seq} differs from the bundle's: "
                            "import only into an empty ledger or a copy of the same one"
                        )
                    continue
                batch.append(entry)
                if len(batch) >= 5000:
                    self._write_imported(tx, batch, frontier)
                    added += len(batch)
                    batch = []
            if batch:
                self._write_imported(tx, batch, frontier)
                added += len(batch)
            if added:
                last = frontier.size
                last_hash_row = tx.first(sql.entry_at, (last - 1,))
                assert last_hash_row is not None
                last_hash, last_recorded = bytes(last_hash_row[0]), str(last_hash_row[1])
                size = last
            if frontier.root() != expected_root:
                raise Conflict("imported tree root differs from the bundle's: nothing imported")
            tx.execute(sql.update_head, (size, last_hash, last_recorded, frontier.to_bytes()))
        return added

    def _write_imported(
        self, tx: DriverCursor, batch: list[Entry], frontier: merkle.MerkleFrontier
    ) -> None:
        rows: list[tuple[object, ...]] = []
        nodes: list[tuple[int, bytes]] = []
        for entry in batch:
            if entry.seq != frontier.size:
                raise Conflict(
                    f"bundle entry {entry.seq} is out of order (expected {frontier.size})"
                )
            rows.append(entry_row(entry))
            nodes.extend(stored_nodes(frontier.append(entry.entry_hash)))
        tx.insert(self._sql.insert_entry, rows)
        tx.insert(self._sql.insert_node, nodes)
        self._index_keys(tx, batch)
        self._index_signed(tx, batch)
