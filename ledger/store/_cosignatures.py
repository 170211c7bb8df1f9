"""Witness cosignature lines the service collected, by witness vkey and tree size.

The lines are checked against the witness key before they are stored (the service's
cosigner does it); a verifier checks them again, so nothing here is trusted evidence.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from ledger.log.checkpoint import Checkpoint
from ledger.log.cosignature import merge_signatures
from ledger.log.timestamps import format_rfc3339
from ledger.store._tables import checkpoints, witness_cosignatures

if TYPE_CHECKING:  # the store's own readers (receipts, serving answers) use these
    from ledger.store._ledger_store import LedgerStore


def record_cosignature(store: LedgerStore, witness: str, size: int, line: str) -> None:
    """Keep a witness's cosignature line on the checkpoint of `size` (the first one kept)."""
    try:
        with store.engine.begin() as conn:
            conn.execute(
                insert(witness_cosignatures).values(
                    witness=witness,
                    size=size,
                    line=line,
                    created_at=format_rfc3339(datetime.now(UTC)),
                )
            )
    except IntegrityError:  # another process stored this witness's line for this size
        pass


def cosignature_lines(store: LedgerStore, size: int) -> list[str]:
    """The cosignature lines stored for the checkpoint of `size`, by witness."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(witness_cosignatures.c.line)
            .where(witness_cosignatures.c.size == size)
            .order_by(witness_cosignatures.c.witness)
        ).all()
    return [str(row[0]) for row in rows]


def cosigned_size(store: LedgerStore, witness: str) -> int:
    """The largest tree size this witness cosigned for the ledger (0 if none)."""
    with store.engine.connect() as conn:
        value = conn.execute(
            select(func.max(witness_cosignatures.c.size)).where(
                witness_cosignatures.c.witness == witness
            )
        ).scalar()
    return int(value or 0)


def cosigned_checkpoint(store: LedgerStore, size: int) -> Checkpoint | None:
    """The checkpoint the ledger issued of `size`, its note carrying every cosignature line
    stored for it (signed-note allows more signature lines), or None if none was issued."""
    with store.engine.connect() as conn:
        row = conn.execute(
            select(checkpoints.c.root, checkpoints.c.note).where(checkpoints.c.size == size)
        ).first()
    if row is None:
        return None
    note = merge_signatures(str(row[1]), "\n".join(cosignature_lines(store, size)))
    return Checkpoint(store.origin, size, bytes(row[0]), note)


def cosigned_checkpoints(store: LedgerStore) -> list[Checkpoint]:
    """Every checkpoint the ledger issued that a witness cosigned, each note carrying the
    cosignature lines stored for it, by increasing size (what `govledger verify` checks a
    witness policy against)."""
    with store.engine.connect() as conn:
        sizes = conn.execute(
            select(witness_cosignatures.c.size).distinct().order_by(witness_cosignatures.c.size)
        ).all()
    found = (cosigned_checkpoint(store, int(row[0])) for row in sizes)
    return [cp for cp in found if cp is not None]


def witnessed_checkpoint(store: LedgerStore, covers: int = 0) -> Checkpoint:
    """The checkpoint evidence of the first `covers` entries is best proven against.

    Of the checkpoints of at least `covers` entries, the one the most witnesses cosigned
    (the larger on a tie), with their lines; when no witness cosigned one yet, the current
    checkpoint (which a verifier requiring witnesses then refuses, naming why). Proofs
    built against it let a verifier with a witness policy check the evidence offline.
    """
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(witness_cosignatures.c.size, func.count())
            .where(witness_cosignatures.c.size >= covers)
            .group_by(witness_cosignatures.c.size)
        ).all()
    if rows:
        best = max(rows, key=lambda row: (int(row[1]), int(row[0])))
        found = cosigned_checkpoint(store, int(best[0]))
        if found is not None:
            return found
    current = store.checkpoint()
    return cosigned_checkpoint(store, current.size) or current
