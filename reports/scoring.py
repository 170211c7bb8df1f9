"""Credit decisions as the audit report tells them: counts per model version and
environment, the most frequent principal reasons, and batches from a version that was not
serving.

The counts come from the `scoring.batch` entries themselves (their `outcomes`, part of the
hash chain, so erasing details changes none of them); the reasons from the detail store,
which holds what was not erased (Regulation B keeps records 25 months, 12 CFR 1002.12(b);
the EU AI Act keeps deployers' logs, Art. 26(6)). Admission refuses a decision from a
version not serving at its time (outside its tenures, or while an oversight stop was in
force); the report asks the same rule (`governance.not_serving_at`) of each batch's span
from its first to its last decision, so that a ledger written around admission shows.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ledger.errors import UnknownModelVersion
from ledger.governance import ServingHistory, not_serving_at
from ledger.log.entries import Entry
from ledger.log.kinds import Kind
from ledger.store import LedgerStore, model_serving

TOP_REASONS = 5
"""How many of the most frequent reasons a row names."""


@dataclass
class ScoringRow:
    """The period's decisions of one model version in one environment."""

    model: str
    version: str
    environment: str
    batches: int = 0
    approve: int = 0
    decline: int = 0
    refer: int = 0
    reasons: list[tuple[str, int]] = field(default_factory=list)
    """The most frequent principal reasons of the declines still in the detail store."""
    not_serving: list[str] = field(default_factory=list)
    """Batches with a decision outside the version's tenure there (there should be none)."""

    @property
    def decisions(self) -> int:
        return self.approve + self.decline + self.refer


def period_scoring(store: LedgerStore, period: list[Entry]) -> list[ScoringRow]:
    """One row per (model, version, environment) with decision batches in the period."""
    rows: dict[tuple[str, str, str], ScoringRow] = {}
    reasons: dict[tuple[str, str, str], Counter[str]] = {}
    histories: dict[str, ServingHistory | None] = {}
    batches = [e for e in period if e.statement.kind == Kind.SCORING_BATCH.value]
    for entry in batches:
        st, payload = entry.statement, entry.statement.payload
        key = (st.model, st.version, str(payload["environment"]))
        row = rows.setdefault(key, ScoringRow(*key))
        row.batches += 1
        for outcome in ("approve", "decline", "refer"):
            setattr(row, outcome, getattr(row, outcome) + int(payload["outcomes"][outcome]))
        if st.model not in histories:
            try:
                histories[st.model] = model_serving(store, st.model)
            except UnknownModelVersion:
                histories[st.model] = None
        history = histories[st.model]
        first, last = str(payload["first_decided_at"]), str(payload["last_decided_at"])
        why = (
            "the ledger records no promotion of the model"
            if history is None
            else not_serving_at(history, st.version, key[2], first, until=last)
        )
        if why is not None:
            row.not_serving.append(f"batch seq {entry.seq} decided {first} to {last}: {why}")
        counted = reasons.setdefault(key, Counter())
        for detail in _details(store, entry.seq):
            counted.update(str(code) for code in detail.get("reasons") or [])
    for key, row in rows.items():
        row.reasons = reasons[key].most_common(TOP_REASONS)
    return sorted(rows.values(), key=lambda r: (r.model, r.version, r.environment))


def _details(store: LedgerStore, batch_seq: int) -> list[dict[str, Any]]:
    """The batch's decisions still in the detail store (erased and purged ones are not)."""
    rows = store.decisions.detail_rows(batch_seq, batch_seq + 1, full=False)
    return [json.loads(r[2]) for r in rows if r[2] is not None]
