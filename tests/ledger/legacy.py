"""Entries an older ledger holds: names written before the name grammar (`ledger.names`).

An older govledger accepted any NFC name without control characters (`a/b`, `..`,
`<script>`). Such entries reach a current ledger as a bundle import does: already hashed,
chained and Merkle-proved, with no admission. `append_legacy` writes them that way, through the
store's real import path, so they verify like every other entry.
"""

from __future__ import annotations

from ledger.log import merkle
from ledger.log.entries import Entry, Statement, compute_entry_hash
from ledger.log.timestamps import utc_now_rfc3339
from ledger.store import LedgerStore
from ledger.store._appender import new_entry_id


def append_legacy(store: LedgerStore, statements: list[Statement]) -> list[Entry]:
    """Append `statements` as entries of an older ledger would be: hashed and chained after
    the current head, copied in by `LedgerStore.import_entries` (no admission)."""
    existing = list(store.iter_entries())
    frontier = merkle.MerkleFrontier()
    for entry in existing:
        frontier.append(entry.entry_hash)
    prev_hash = existing[-1].entry_hash if existing else bytes(32)
    recorded_at = max(utc_now_rfc3339(), existing[-1].recorded_at if existing else "")
    written: list[Entry] = []
    for offset, statement in enumerate(statements):
        seq = len(existing) + offset
        entry_id = new_entry_id()
        entry_hash = compute_entry_hash(
            seq=seq,
            entry_id=entry_id,
            recorded_at=recorded_at,
            prev_hash=prev_hash,
            statement=statement,
            signature=None,
            key_id=None,
        )
        entry = Entry(seq, entry_id, recorded_at, prev_hash, statement, None, None, entry_hash)
        written.append(entry)
        frontier.append(entry_hash)
        prev_hash = entry_hash
    store.import_entries(iter(written), expected_root=frontier.root())
    return written
