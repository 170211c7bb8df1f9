"""Scoring decisions in the store: a batch made ready for the write gate, and the reads.

`prepare_batch` checks a batch's decisions (`ledger.log.scoring.parse_batch`, with the
ledger's applicant key) and builds its `scoring.batch` statement, naming the reason
catalogue in force for the version (read outside the write transaction and kept per
version; admission re-checks it under the sequencer lock, and a batch that names a
catalogue no longer in force is prepared again once, `CatalogueChanged`). The writes
themselves are `ledger.store._decision_rows`, in the entry's transaction.

Reads: one decision by id, a decision's receipt (`ledger.store._receipts`), and the
decisions of one applicant in a period (complaints handling): the applicant's reference is
turned into its keyed hash and compared with the hash at its fixed place in each detail
row of the period's batches (no index on random values, see migration 0009).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ledger.errors import LedgerNotInitialised, UnknownDecision
from ledger.governance import Principal, Submission, catalogue_in_force
from ledger.log.decision_batch import parse_batch
from ledger.log.entries import build_statement
from ledger.log.kinds import Kind
from ledger.log.scoring import REFERENCE, applicant_reference
from ledger.store._transaction_facts import TransactionFacts
from ledger.store._write_tx import DriverCursor, read_cursor

if TYPE_CHECKING:
    from ledger.store._ledger_store import LedgerStore


class DecisionStore:
    """The scoring decisions of one store: batches prepared, decisions and receipts read."""

    def __init__(self, store: LedgerStore, applicant_key: bytes | None) -> None:
        self._store = store
        self._applicant_key = applicant_key
        self._catalogues: dict[tuple[str, str, str], str | None] = {}
        self._lock = threading.Lock()

    @property
    def applicant_key(self) -> bytes:
        """The ledger's applicant key, or LedgerNotInitialised naming the fix."""
        if self._applicant_key is None:
            raise LedgerNotInitialised(
                "this ledger has no applicant key (applicant.key beside ledger.key): run "
                "`govledger init` to create it before recording scoring decisions"
            )
        return self._applicant_key

    def prepare_batch(
        self,
        principal: Principal,
        model: str,
        version: str,
        environment: str,
        decisions: Any,
        *,
        fresh_catalogue: bool = False,
    ) -> Submission:
        """The write gate's submission for a batch of decisions (nothing written yet)."""
        store = self._store
        batch = parse_batch(
            decisions,
            model=model,
            version=version,
            environment=environment,
            applicant_key=self.applicant_key,
            now=datetime.now(UTC),
            max_future=store.window.max_future,
        )
        catalogue = (
            self.catalogue_in_force(model, version, environment, fresh=fresh_catalogue)
            if batch.uses_reasons()
            else None
        )
        statement = build_statement(
            kind=Kind.SCORING_BATCH.value,
            model=model,
            version=version,
            actor=principal.name,
            payload=batch.payload(catalogue),
        )
        return Submission(statement, decisions=batch)

    def knows_catalogue(self, key: tuple[str, str, str]) -> bool:
        """Whether the catalogue in force for (model, version, environment) is kept."""
        with self._lock:
            return key in self._catalogues

    def catalogue_in_force(
        self, model: str, version: str, environment: str, *, fresh: bool = False
    ) -> str | None:
        """The entry_hash (hex) of the reason catalogue in force for a version, kept per
        version until a batch finds it changed (`fresh` reads it again)."""
        key = (model, version, environment)
        with self._lock:
            if not fresh and key in self._catalogues:
                return self._catalogues[key]
        store = self._store
        with read_cursor(store.engine) as tx:
            facts = TransactionFacts(tx, store.statements, store.rules())
            state = catalogue_in_force(model, version, environment, facts, store.policy)
        found = None if state is None else state.entry_hash.hex()
        with self._lock:
            if len(self._catalogues) > 10_000:
                self._catalogues.clear()
            self._catalogues[key] = found
        return found

    @contextmanager
    def _cursor(self) -> Iterator[DriverCursor]:
        with read_cursor(self._store.engine) as tx:
            yield tx

    def decision(self, decision_id: str) -> dict[str, Any]:
        """One decision as the detail store holds it; UnknownDecision if there is none."""
        row = self.row(decision_id)
        batch_seq, index, leaf_hash, detail, erased_seq = row
        return {
            "decision_id": decision_id,
            "batch_seq": batch_seq,
            "leaf_index": index,
            "leaf_hash": leaf_hash.hex(),
            "decision": None if detail is None else json.loads(detail),
            "erased_seq": erased_seq,
        }

    def row(self, decision_id: str) -> tuple[int, int, bytes, str | None, int | None]:
        """(batch seq, leaf index, leaf hash, detail JSON, erasing seq) of a decision."""
        if not isinstance(decision_id, str) or not REFERENCE.fullmatch(decision_id):
            raise UnknownDecision(
                f"{decision_id!r} is not a decision id (they match {REFERENCE.pattern})"
            )
        with self._cursor() as tx:
            found = tx.first(self._store.statements.decision_row, (decision_id,))
        if found is None:
            raise UnknownDecision(f"no decision {decision_id} is recorded in this ledger")
        batch_seq, index, leaf_hash, detail, erased_seq = found
        return (
            int(batch_seq),
            int(index),
            bytes(leaf_hash),
            None if detail is None else str(detail),
            None if erased_seq is None else int(erased_seq),
        )

    def batch_leaves(self, batch_seq: int) -> list[bytes]:
        """The leaf hashes of a batch, in leaf order (its receipts' inner proofs)."""
        with self._store.engine.connect() as conn:
            cursor = conn.connection.cursor()
            try:
                cursor.execute(self._store.statements.batch_leaves, (batch_seq,))
                return [bytes(r[0]) for r in cursor.fetchall()]
            finally:
                cursor.close()

    def of_applicant(
        self, applicant: str, *, since: str | None = None, until: str | None = None
    ) -> list[dict[str, Any]]:
        """The decisions recorded for an applicant reference in batches recorded in
        [since, until) (RFC 3339 UTC; either open), oldest first, at most
        APPLICANT_LOOKUP_LIMIT. Erased decisions are not found: their details are gone."""
        if not REFERENCE.fullmatch(applicant):
            raise UnknownDecision(
                f"an applicant reference matches {REFERENCE.pattern}: no decision is "
                "recorded under that one"
            )
        keyed = applicant_reference(self.applicant_key, applicant).split(":", 1)[1]
        first, stop = self._store.seq_range(since, until)
        with self._cursor() as tx:
            rows = tx.all(self._store.statements.applicant_decisions, (first, stop, keyed))
        return [{"decision_id": str(i), "decision": json.loads(str(d))} for i, d in rows]

    # -- for verification (ledger.verify._decisions) -------------------------------------

    def scoring_entries(self) -> list[tuple[int, str, str]]:
        """(seq, kind, payload) of every scoring.batch, .erased and .purged entry, in seq
        order, by the partial kind index."""
        with self._cursor() as tx:
            rows = tx.all(self._store.statements.scoring_entries)
        return [(int(s), str(k), str(p)) for s, k, p in rows]

    def detail_rows(
        self, start: int, stop: int, full: bool = True, *, as_bytes: bool = False
    ) -> list[tuple[Any, ...]]:
        """Detail rows of the batches with start <= seq < stop, in primary-key order:
        (batch seq, leaf index, decision id, leaf hash, detail, erased seq), or without
        `full` (decision id, leaf hash, detail, erased seq; `as_bytes`: the id and the
        detail as UTF-8 bytes)."""
        sql = self._store.statements
        query = (
            sql.decision_rows_after
            if full
            else sql.decision_bytes_after
            if as_bytes
            else sql.decision_leaves_after
        )
        with self._store.engine.connect() as conn:
            cursor = conn.connection.cursor()
            try:
                cursor.execute(query, (start, stop))
                return list(cursor.fetchall())
            finally:
                cursor.close()

    def stray_batch_seq(self, first: int, stop: int) -> int | None:
        """The batch seq of a detail row before `first` or from `stop` on, if any."""
        with self._cursor() as tx:
            row = tx.first(self._store.statements.stray_decision, (first, stop))
        return None if row is None else int(row[0])
