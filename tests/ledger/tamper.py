"""What an attacker with database access does: bypass the triggers, then change rows.

SQLite: drop the append-only triggers. PostgreSQL: `ALTER TABLE ... DISABLE TRIGGER ALL` as
the superuser the tests connect as. Each test has its own database, so nothing is restored.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, text, update
from sqlalchemy.engine import Engine

from ledger.log import ed25519_strict, merkle
from ledger.log.entries import Entry, Statement, compute_entry_hash, entry_row
from ledger.log.timestamps import format_rfc3339
from ledger.store import LedgerStore
from ledger.store._appender import new_entry_id
from ledger.store._sql import ENTRY_COLUMNS as SQL_ENTRY_COLUMNS
from ledger.store._tables import (
    APPEND_ONLY_TABLES,
    checkpoints,
    entries,
    ledger_head,
    merkle_nodes,
    signing_keys,
)
from ledger.store._tree_store import stored_nodes


def disable_append_only_triggers(engine: Engine) -> None:
    """Remove the database's protection of the append-only tables."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            names = conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'"
            ).scalars()
            for name in list(names):
                conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
        else:
            for table in APPEND_ONLY_TABLES:
                conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER ALL")


def set_columns(engine: Engine, seq: int, **values: Any) -> None:
    """UPDATE one entry row's columns in place (no hash recomputed)."""
    with engine.begin() as conn:
        conn.execute(update(entries).where(entries.c.seq == seq).values(**values))


def delete_entries(engine: Engine, *, from_seq: int, to_seq: int | None = None) -> None:
    """DELETE entry rows with from_seq <= seq (< to_seq)."""
    condition = entries.c.seq >= from_seq
    if to_seq is not None:
        condition = condition & (entries.c.seq < to_seq)
    with engine.begin() as conn:
        conn.execute(delete(entries).where(condition))


def truncate_log(store: LedgerStore, size: int) -> None:
    """Cut the log to its first `size` entries and hide it: head, stored checkpoints too."""
    kept = list(store.iter_entries())[:size]
    frontier = merkle.MerkleFrontier()
    for entry in kept:
        frontier.append(entry.entry_hash)
    with store.engine.begin() as conn:
        conn.execute(delete(entries).where(entries.c.seq >= size))
        conn.execute(delete(checkpoints))
        conn.execute(
            update(ledger_head).values(
                size=size,
                last_hash=kept[-1].entry_hash if kept else bytes(32),
                frontier=frontier.to_bytes(),
            )
        )


def rewrite_history(
    store: LedgerStore,
    seq: int,
    change: Callable[[Entry], Entry],
    *,
    rebuild_tree: bool = True,
) -> None:
    """An insider's rewrite: change entry `seq`, then recompute every later hash and link.

    With `rebuild_tree` the Merkle nodes and the head are rebuilt and the stored checkpoints
    deleted, so that only a checkpoint kept outside the database can tell.
    """
    chain = list(store.iter_entries())
    prev_hash = chain[seq - 1].entry_hash if seq else bytes(32)
    rewritten = chain[:seq]
    for entry in chain[seq:]:
        if entry.seq == seq:
            entry = change(entry)
        fresh = dataclasses.replace(entry, prev_hash=prev_hash)
        fresh = dataclasses.replace(
            fresh,
            entry_hash=compute_entry_hash(
                seq=fresh.seq,
                entry_id=fresh.entry_id,
                recorded_at=fresh.recorded_at,
                prev_hash=fresh.prev_hash,
                statement=fresh.statement,
                signature=fresh.signature,
                key_id=fresh.key_id,
            ),
        )
        rewritten.append(fresh)
        prev_hash = fresh.entry_hash
    with store.engine.begin() as conn:
        for entry in rewritten[seq:]:
            st = entry.statement
            conn.execute(
                update(entries)
                .where(entries.c.seq == entry.seq)
                .values(
                    prev_hash=entry.prev_hash,
                    entry_hash=entry.entry_hash,
                    recorded_at=entry.recorded_at,
                    kind=st.kind,
                    model=st.model,
                    version=st.version,
                    actor=st.actor,
                    reason=st.reason,
                    payload=st.payload_json,
                    issued_at=st.issued_at,
                    signature=entry.signature,
                    key_id=entry.key_id,
                )
            )
        if rebuild_tree:
            frontier = merkle.MerkleFrontier()
            nodes = []
            for entry in rewritten:
                for level, index, node in frontier.append(entry.entry_hash):
                    nodes.append({"node_id": merkle.node_id(level, index), "hash": node})
            conn.execute(delete(merkle_nodes))
            conn.execute(insert(merkle_nodes), nodes)
            conn.execute(delete(checkpoints))
            conn.execute(
                update(ledger_head).values(
                    last_hash=rewritten[-1].entry_hash, frontier=frontier.to_bytes()
                )
            )


def count_rows(engine: Engine, table: str) -> int:
    """Rows in a table."""
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


# --- row-level tools for the tamper campaign (tests/ledger/test_tamper_campaign.py) ----------

ENTRY_COLUMNS = (
    "seq",
    "entry_id",
    "recorded_at",
    "kind",
    "model",
    "version",
    "actor",
    "reason",
    "payload",
    "issued_at",
    "signature",
    "key_id",
    "prev_hash",
    "entry_hash",
)
"""Every column of an entry row, which the campaign mutates one at a time."""


def entry_rows(engine: Engine) -> list[dict[str, Any]]:
    """Every entry row as a dict of its columns, in seq order (bytes as bytes)."""
    with engine.connect() as conn:
        rows = conn.execute(entries.select().order_by(entries.c.seq)).mappings().all()
    return [{c: (bytes(r[c]) if c.endswith("hash") else r[c]) for c in ENTRY_COLUMNS} for r in rows]


def row_hash(row: dict[str, Any]) -> bytes:
    """The entry_hash a row's other columns give (what a forger recomputes)."""
    statement = Statement(
        kind=row["kind"],
        model=row["model"],
        version=row["version"],
        actor=row["actor"],
        reason=row["reason"],
        payload_json=row["payload"],
        issued_at=row["issued_at"],
    )
    return compute_entry_hash(
        seq=row["seq"],
        entry_id=row["entry_id"],
        recorded_at=row["recorded_at"],
        prev_hash=row["prev_hash"],
        statement=statement,
        signature=row["signature"],
        key_id=row["key_id"],
    )


def replace_rows(engine: Engine, remove: list[int], rows: list[dict[str, Any]]) -> None:
    """DELETE the rows at the seqs `remove`, then INSERT `rows`, in one transaction."""
    with engine.begin() as conn:
        if remove:
            conn.execute(delete(entries).where(entries.c.seq.in_(remove)))
        if rows:
            conn.execute(insert(entries), rows)


def set_head(engine: Engine, *, size: int, last_hash: bytes) -> None:
    """Make the sequencer row agree with a tampered log (size and last hash)."""
    with engine.begin() as conn:
        conn.execute(update(ledger_head).values(size=size, last_hash=last_hash))


def rewrite_chain(store: LedgerStore, rows: list[dict[str, Any]], start: int) -> None:
    """An insider's rewrite of rows[start:] (already edited): relink and rehash every one,
    rebuild the Merkle nodes and the head, delete the stored checkpoints.

    `rows` is the whole log as `entry_rows` gives it. The same attack as `rewrite_history`,
    written with one executemany, for campaigns that rewrite a 5,000-entry log many times.
    """
    prev_hash = rows[start - 1]["entry_hash"] if start else bytes(32)
    changed = []
    for row in rows[start:]:
        row["prev_hash"] = prev_hash
        row["entry_hash"] = prev_hash = row_hash(row)
        changed.append({f"b_{c}": v for c, v in row.items()})
    columns = [c for c in ENTRY_COLUMNS if c != "seq"]
    statement = (
        update(entries)
        .where(entries.c.seq == bindparam("b_seq"))
        .values({c: bindparam(f"b_{c}") for c in columns})
    )
    with store.engine.begin() as conn:
        conn.execute(statement, changed)
        conn.execute(delete(checkpoints))
    rebuild_tree(store.engine, rows)


def rebuild_tree(engine: Engine, rows: list[dict[str, Any]]) -> None:
    """Rewrite the Merkle nodes and the head for the log `rows` (an append or a rewrite
    done by hand leaves nothing the tree or the sequencer row could show)."""
    frontier = merkle.MerkleFrontier()
    nodes = []
    for row in rows:
        for level, index, node in frontier.append(row["entry_hash"]):
            nodes.append({"node_id": merkle.node_id(level, index), "hash": node})
    with engine.begin() as conn:
        conn.execute(delete(merkle_nodes))
        conn.execute(insert(merkle_nodes), nodes)
        conn.execute(
            update(ledger_head).values(
                size=len(rows), last_hash=rows[-1]["entry_hash"], frontier=frontier.to_bytes()
            )
        )


# --- signed rows written around admission (tests of the strict Ed25519 rule and replays) ----


def reencoded(signature: str) -> str:
    """Another base64 spelling of the same 64 signature bytes: non-zero padding bits.

    64 bytes end in one byte, written as two characters and "=="; the second character
    carries 4 bits that decoders ignore."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    assert signature.endswith("==") and len(signature) == 88
    last = alphabet.index(signature[-3])
    spelling = signature[:-3] + alphabet[last | 0b0001] + "=="
    if spelling == signature:
        spelling = signature[:-3] + alphabet[last | 0b0010] + "=="
    assert base64.b64decode(spelling) == base64.b64decode(signature)
    return spelling


def malleated(signature: str) -> str:
    """The same signature with S + L (RFC 8032 section 5.1.7): what a lax verifier accepts."""
    raw = base64.b64decode(signature)
    s = int.from_bytes(raw[32:], "little") + ed25519_strict.L
    assert s < 2**256
    return base64.b64encode(raw[:32] + s.to_bytes(32, "little")).decode("ascii")


def append_bypassing_admission(
    store: LedgerStore, statement: Statement, *, signature: str | None, key_id: str | None
) -> Entry:
    """Append an entry the way a writer without admission would: a correct hash, link, Merkle
    nodes and head, so only the checks of the signature itself can tell.

    Inserts only (no trigger to bypass), and the key index row of a key.registered; writes
    no `signed_statements` row (the attacker's writer skips the replay guard, whose UNIQUE
    constraints would refuse a replay)."""
    with store.engine.begin() as conn:
        size, last_hash, last_recorded, frontier_bytes = conn.execute(
            select(
                ledger_head.c.size,
                ledger_head.c.last_hash,
                ledger_head.c.last_recorded_at,
                ledger_head.c.frontier,
            )
        ).one()
        recorded_at = max(format_rfc3339(datetime.now(UTC)), str(last_recorded))
        frontier = merkle.MerkleFrontier.from_bytes(bytes(frontier_bytes))
        entry_id = new_entry_id()
        entry_hash = compute_entry_hash(
            seq=int(size),
            entry_id=entry_id,
            recorded_at=recorded_at,
            prev_hash=bytes(last_hash),
            statement=statement,
            signature=signature,
            key_id=key_id,
        )
        entry = Entry(
            int(size), entry_id, recorded_at, bytes(last_hash), statement, signature, key_id,
            entry_hash,
        )  # fmt: skip
        values = dict(zip(SQL_ENTRY_COLUMNS.split(", "), entry_row(entry), strict=True))
        conn.execute(insert(entries).values(**values))
        if statement.kind == "key.registered":  # the key index, as the writer keeps it
            payload = statement.payload
            conn.execute(
                insert(signing_keys).values(
                    key_id=payload["key_id"],
                    actor=statement.actor,
                    public_key=payload["public_key"],
                    registered_seq=entry.seq,
                )
            )
        for node_id, node in stored_nodes(frontier.append(entry_hash)):
            conn.execute(insert(merkle_nodes).values(node_id=node_id, hash=node))
        conn.execute(
            update(ledger_head).values(
                size=int(size) + 1,
                last_hash=entry_hash,
                last_recorded_at=recorded_at,
                frontier=frontier.to_bytes(),
            )
        )
    return entry
