"""The detail store's writes, made in the transaction of the entries that call for them.

A `scoring.batch` entry's decisions become rows of `scoring_decisions` (and the batch a row
of `scoring_batches`) in the same transaction as the entry, under the sequencer lock: a
batch refused by admission, or whose transaction fails, writes nothing at all, and a
committed batch has every row. A `scoring.erased` entry sets the named decisions' details
to NULL with its seq, a `scoring.purged` entry those of every batch decided wholly before
its cut-off; the triggers of migration 0009 refuse any other change.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat

from ledger.log.decision_batch import DecisionBatch
from ledger.log.entries import Entry
from ledger.log.kinds import Kind
from ledger.store._sql import Statements
from ledger.store._write_tx import DriverCursor

ERASE_IDS_PER_STATEMENT = 500
"""Decision ids per UPDATE of an erasure: inside either driver's limit of bound parameters."""


def write_scoring(
    tx: DriverCursor, sql: Statements, items: Sequence[tuple[Entry, DecisionBatch | None]]
) -> None:
    """The detail rows of admitted scoring entries, in seq order (a batch before an erasure
    of its decisions in the same transaction)."""
    for entry, batch in items:
        st = entry.statement
        if st.kind == Kind.SCORING_BATCH.value:
            assert batch is not None  # admission refuses a batch entry without decisions
            payload = st.payload
            tx.execute(
                sql.insert_scoring_batch,
                (
                    entry.seq,
                    st.model,
                    st.version,
                    batch.environment,
                    len(batch),
                    payload["first_decided_at"],
                    payload["last_decided_at"],
                ),
            )
            # (batch seq, leaf index, decision id, leaf hash, detail): the rows built by zip
            # in C, half the time of a comprehension unpacking each decision in bytecode
            count = len(batch)
            tx.insert(
                sql.insert_decision,
                list(
                    zip(
                        repeat(entry.seq, count),
                        range(count),
                        batch.decision_ids,
                        batch.leaf_hashes,
                        batch.details,
                        strict=True,
                    )
                ),
            )
        elif st.kind == Kind.SCORING_ERASED.value:
            ids = [str(i) for i in st.payload["decision_ids"]]
            for start in range(0, len(ids), ERASE_IDS_PER_STATEMENT):
                chunk = ids[start : start + ERASE_IDS_PER_STATEMENT]
                tx.execute(sql.erase_decisions(len(chunk)), [entry.seq, *chunk])
        elif st.kind == Kind.SCORING_PURGED.value:
            tx.execute(sql.purge_decisions, (entry.seq, str(st.payload["before"]), entry.seq))
