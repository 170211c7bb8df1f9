"""The ledger's database tables (SQLModel). The schema itself is created by Alembic.

`entries`, `merkle_nodes` and `checkpoints` are append-only: migrations install triggers that
refuse UPDATE and DELETE on them. `ledger_head` is the sequencer row (size, last hash,
Merkle frontier), locked by every append. `signing_keys` is a derived index of
key.registered / key.revoked entries, rebuildable from the log. `signed_statements`
(append-only too) keeps signed statements unique by their bytes.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, LargeBinary, String, Text, text
from sqlmodel import Field, SQLModel

from ledger.store.sql import GOVERNANCE_KIND_SQL

# A 64-bit key that is also SQLite's rowid (`INTEGER PRIMARY KEY`, migration 0004): one
# B-tree per append-only table instead of a rowid tree plus a unique index on the key.
RowKey = BigInteger().with_variant(Integer(), "sqlite")


class EntryRow(SQLModel, table=True):
    """One ledger entry; `payload` holds the payload's RFC 8785 canonical JSON text.

    Indexes (migration 0005): no index on `recorded_at`, which never decreases along `seq`
    (a time range is a seq range); the kind index covers the rare governance kinds only.
    """

    __tablename__ = "entries"
    __table_args__ = (
        Index("ix_entries_model_version", "model", "version"),
        Index(
            "ix_entries_governance_kind",
            "kind",
            sqlite_where=text(GOVERNANCE_KIND_SQL),
            postgresql_where=text(GOVERNANCE_KIND_SQL),
        ),
        Index("ix_entries_actor", "actor"),
        Index(
            "ux_entries_signature",
            "signature",
            unique=True,
            sqlite_where=text("signature IS NOT NULL"),
            postgresql_where=text("signature IS NOT NULL"),
        ),
    )

    seq: int = Field(sa_column=Column(RowKey, primary_key=True, autoincrement=False))
    entry_id: str = Field(sa_column=Column(String(36), nullable=False, unique=True))
    recorded_at: str = Field(sa_column=Column(String(32), nullable=False))
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    model: str = Field(sa_column=Column(String(200), nullable=False))
    version: str = Field(sa_column=Column(String(64), nullable=False))
    actor: str = Field(sa_column=Column(String(200), nullable=False))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    payload: str = Field(sa_column=Column(Text, nullable=False))
    issued_at: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    signature: str | None = Field(default=None, sa_column=Column(String(100), nullable=True))
    key_id: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    prev_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    entry_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False, unique=True))


class MerkleNodeRow(SQLModel, table=True):
    """A complete aligned Merkle subtree hash; node_id = (level << 48) | index."""

    __tablename__ = "merkle_nodes"

    node_id: int = Field(sa_column=Column(RowKey, primary_key=True, autoincrement=False))
    hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))


class CheckpointRow(SQLModel, table=True):
    """A signed tree head the ledger issued (C2SP checkpoint text)."""

    __tablename__ = "checkpoints"

    size: int = Field(sa_column=Column(RowKey, primary_key=True, autoincrement=False))
    root: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    note: str = Field(sa_column=Column(Text, nullable=False))
    created_at: str = Field(sa_column=Column(String(32), nullable=False))


class LedgerHeadRow(SQLModel, table=True):
    """The sequencer row: one per ledger, locked for the length of every append."""

    __tablename__ = "ledger_head"

    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    last_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    last_recorded_at: str = Field(sa_column=Column(String(32), nullable=False))
    frontier: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class LedgerMetaRow(SQLModel, table=True):
    """Ledger-wide facts: origin, checkpoint verifier key, creation time, format."""

    __tablename__ = "ledger_meta"

    key: str = Field(sa_column=Column(String(64), primary_key=True))
    value: str = Field(sa_column=Column(Text, nullable=False))


class IdempotencyRow(SQLModel, table=True):
    """A write's Idempotency-Key, the hash of its request and the entries it produced."""

    __tablename__ = "idempotency_keys"

    key: str = Field(sa_column=Column(String(255), primary_key=True))
    request_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    first_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    count: int = Field(sa_column=Column(Integer, nullable=False))
    created_at: str = Field(sa_column=Column(String(32), nullable=False))


class SigningKeyRow(SQLModel, table=True):
    """Derived index of registered actor keys (from key.registered / key.revoked entries)."""

    __tablename__ = "signing_keys"

    key_id: str = Field(sa_column=Column(String(64), primary_key=True))
    actor: str = Field(sa_column=Column(String(200), nullable=False, index=True))
    public_key: str = Field(sa_column=Column(String(64), nullable=False))
    registered_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    revoked_seq: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class SignedStatementRow(SQLModel, table=True):
    """One row per signed entry: the replay guard the database enforces (migration 0006).

    `statement_digest` is SHA-256 of the canonical statement (what the signature covers),
    `signature` the signature's 64 decoded bytes; each is UNIQUE, so neither the same signed
    statement nor the same signature in another base64 spelling can be written twice.
    """

    __tablename__ = "signed_statements"

    seq: int = Field(sa_column=Column(RowKey, primary_key=True, autoincrement=False))
    statement_digest: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False, unique=True))
    signature: bytes = Field(sa_column=Column(LargeBinary(64), nullable=False, unique=True))


entries = EntryRow.__table__  # type: ignore[attr-defined]
merkle_nodes = MerkleNodeRow.__table__  # type: ignore[attr-defined]
checkpoints = CheckpointRow.__table__  # type: ignore[attr-defined]
ledger_head = LedgerHeadRow.__table__  # type: ignore[attr-defined]
ledger_meta = LedgerMetaRow.__table__  # type: ignore[attr-defined]
idempotency_keys = IdempotencyRow.__table__  # type: ignore[attr-defined]
signing_keys = SigningKeyRow.__table__  # type: ignore[attr-defined]
signed_statements = SignedStatementRow.__table__  # type: ignore[attr-defined]

APPEND_ONLY_TABLES = ("entries", "merkle_nodes", "checkpoints", "signed_statements")
