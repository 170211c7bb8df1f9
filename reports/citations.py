"""References from a report to the ledger entries it cites."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.log.entries import Entry


@dataclass(frozen=True)
class EntryRef:
    """A ledger entry a report cites, and why (shown in the evidence section)."""

    seq: int
    kind: str
    entry_hash: str
    actor: str
    recorded_at: str
    why: str


def cite(entry: Entry, why: str) -> EntryRef:
    """An EntryRef for an entry."""
    return EntryRef(
        seq=entry.seq,
        kind=entry.statement.kind,
        entry_hash=entry.entry_hash.hex(),
        actor=entry.statement.actor,
        recorded_at=entry.recorded_at,
        why=why,
    )
