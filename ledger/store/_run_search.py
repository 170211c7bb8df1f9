"""Searching runs: the training and recalibration entries of a model (or of the ledger),
filtered, sorted and paged in the run search language (`ledger.log.run_filter`).

Runs are few beside scoring batches (a model logs tens to thousands), so the run entries
are read by their kinds (`ix_entries_governance_kind`, or the model's index) and filtered
here, after the filter has parsed: a bad filter costs no query.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.log.entries import Entry
from ledger.log.kinds import RUN_KINDS
from ledger.log.run_filter import RunRecord, parse_filter, parse_order_by, sort_runs
from ledger.store._ledger_store import EntryFilter, LedgerStore

MAX_PAGE = 1_000
MAX_SEARCHED = 100_000
"""Run entries one search reads at most (the oldest first)."""


@dataclass(frozen=True, slots=True)
class RunPage:
    """A page of a search: the runs, how many matched in all, and the offset of the next."""

    runs: list[RunRecord]
    total: int
    next_offset: int | None


def run_record(entry: Entry) -> RunRecord:
    """A run entry as a `RunRecord`."""
    st = entry.statement
    payload = st.payload
    return RunRecord(
        seq=entry.seq,
        entry_hash=entry.entry_hash.hex(),
        model=st.model,
        version=st.version,
        kind=st.kind,
        actor=st.actor,
        recorded_at=entry.recorded_at,
        params=dict(payload.get("params") or {}),
        metrics=dict(payload.get("metrics") or {}),
        tags={str(k): str(v) for k, v in (payload.get("tags") or {}).items()},
        run_id=payload.get("run_id"),
        algorithm=payload.get("algorithm"),
    )


def search_runs(
    store: LedgerStore,
    *,
    model: str | None = None,
    filter: str | None = None,
    order_by: list[str] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> RunPage:
    """The runs matching `filter`, sorted by `order_by` (then newest first), one page.

    InvalidRunFilter for a filter or order key that does not parse, before any query."""
    clauses = parse_filter(filter)
    keys = parse_order_by(order_by)
    limit = max(1, min(limit, MAX_PAGE))
    offset = max(0, offset)
    matched = [
        record
        for record in _run_records(store, model)
        if all(c.matches(record.as_dict()) for c in clauses)
    ]
    matched.sort(key=lambda record: record.seq, reverse=True)
    by_seq = {record.seq: record for record in matched}
    ordered = sort_runs([record.as_dict() for record in matched], keys)
    page = [by_seq[int(run["seq"])] for run in ordered[offset : offset + limit]]
    following = offset + limit
    return RunPage(page, len(matched), following if following < len(matched) else None)


def runs_by_seq(store: LedgerStore, seqs: list[int]) -> list[RunRecord | None]:
    """The runs at these seqs, in that order; None where the entry is not a run."""
    found: list[RunRecord | None] = []
    for seq in seqs:
        entry = store.entry(seq) if 0 <= seq < store.size() else None
        is_run = entry is not None and entry.statement.kind in {k.value for k in RUN_KINDS}
        found.append(run_record(entry) if entry is not None and is_run else None)
    return found


def _run_records(store: LedgerStore, model: str | None) -> list[RunRecord]:
    records: list[RunRecord] = []
    for kind in sorted(k.value for k in RUN_KINDS):
        after = -1
        while len(records) < MAX_SEARCHED:
            page = store.list_entries(
                EntryFilter(model=model, kind=kind), after_seq=after, limit=MAX_PAGE
            )
            records.extend(run_record(entry) for entry in page)
            if len(page) < MAX_PAGE:
                break
            after = page[-1].seq
    return records
