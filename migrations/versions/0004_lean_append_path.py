"""Fewer pages per append: seq is the row key, unsigned entries skip the signature index.

Every append writes each B-tree it touches once more into the WAL (SQLite) or heap and
indexes (PostgreSQL), and on SQLite each page is 4 KiB of I/O under the commit's fsync.
Revision 0001 declared `entries.seq`, `merkle_nodes.node_id` and `checkpoints.size` as
BIGINT, which on SQLite is not an alias of the rowid: every row lived in the table's rowid
tree *and* in a separate unique index on its key. And `UNIQUE (signature)` put every
unsigned entry (most of them) into the signature index under NULL.

This revision, on SQLite, rebuilds the three append-only tables with `INTEGER PRIMARY KEY`
(the key is the rowid: one tree, and range scans by seq read the table in order) and
re-installs their append-only triggers; on both databases the signature's uniqueness
becomes a partial unique index over signed entries only. A single unsigned append on
SQLite then writes 13 WAL frames instead of 16 (counted with `PRAGMA wal_checkpoint` on a
30,000-entry ledger). Entries, hashes and seqs are copied unchanged, so every checkpoint
and proof issued before stays valid.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ENTRY_COLUMNS = (
    "seq, entry_id, recorded_at, kind, model, version, actor, reason, payload, "
    "issued_at, signature, key_id, prev_hash, entry_hash"
)

SQLITE_TABLES = {
    "entries": (
        f"""
        CREATE TABLE entries_rebuilt (
            seq INTEGER NOT NULL PRIMARY KEY,
            entry_id VARCHAR(36) NOT NULL UNIQUE,
            recorded_at VARCHAR(32) NOT NULL,
            kind VARCHAR(32) NOT NULL,
            model VARCHAR(200) NOT NULL,
            version VARCHAR(64) NOT NULL,
            actor VARCHAR(200) NOT NULL,
            reason TEXT NOT NULL,
            payload TEXT NOT NULL,
            issued_at VARCHAR(32),
            signature VARCHAR(100),
            key_id VARCHAR(64),
            prev_hash BLOB NOT NULL,
            entry_hash BLOB NOT NULL UNIQUE
        )
        """,
        ENTRY_COLUMNS,
        "seq",
    ),
    "merkle_nodes": (
        """
        CREATE TABLE merkle_nodes_rebuilt (
            node_id INTEGER NOT NULL PRIMARY KEY,
            hash BLOB NOT NULL
        )
        """,
        "node_id, hash",
        "node_id",
    ),
    "checkpoints": (
        """
        CREATE TABLE checkpoints_rebuilt (
            size INTEGER NOT NULL PRIMARY KEY,
            root BLOB NOT NULL,
            note TEXT NOT NULL,
            created_at VARCHAR(32) NOT NULL
        )
        """,
        "size, root, note, created_at",
        "size",
    ),
}

ENTRY_INDEXES = (
    "CREATE UNIQUE INDEX ux_entries_signature ON entries (signature) "
    "WHERE signature IS NOT NULL",
    "CREATE INDEX ix_entries_model_version ON entries (model, version)",
    "CREATE INDEX ix_entries_kind ON entries (kind)",
    "CREATE INDEX ix_entries_actor ON entries (actor)",
    "CREATE INDEX ix_entries_recorded_at ON entries (recorded_at)",
)


def _sqlite_append_only_triggers(table: str) -> list[str]:
    """The same triggers revision 0001 installed (DROP TABLE dropped them with the table)."""
    return [
        f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'govledger: {operation} on {table} is refused: "
        "the ledger is append-only'); END"
        for operation in ("UPDATE", "DELETE")
    ]


def _upgrade_sqlite() -> None:
    # DROP TABLE drops a table's triggers before its implicit delete, so the old rows go
    # with the old table without firing them; the copy is in the same transaction, and a
    # failure anywhere leaves revision 0003's tables as they were.
    for table, (create, columns, key) in SQLITE_TABLES.items():
        op.execute(create)
        op.execute(
            f"INSERT INTO {table}_rebuilt ({columns}) SELECT {columns} FROM {table} ORDER BY {key}"
        )
        op.execute(f"DROP TABLE {table}")
        op.execute(f"ALTER TABLE {table}_rebuilt RENAME TO {table}")
        for statement in _sqlite_append_only_triggers(table):
            op.execute(statement)
    for statement in ENTRY_INDEXES:
        op.execute(statement)


def _upgrade_postgresql() -> None:
    # BIGINT keys are already the tables' only key on PostgreSQL; only the signature
    # index changes. The constraint's name is PostgreSQL's default for 0001's UNIQUE.
    bind = op.get_bind()
    name = bind.execute(
        sa.text(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'entries'::regclass "
            "AND contype = 'u' AND conkey = ARRAY[("
            "SELECT attnum FROM pg_attribute WHERE attrelid = 'entries'::regclass "
            "AND attname = 'signature')]::smallint[]"
        )
    ).scalar_one()
    op.execute(f'ALTER TABLE entries DROP CONSTRAINT "{name}"')
    op.execute(ENTRY_INDEXES[0])


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def downgrade() -> None:
    raise RuntimeError("the ledger core schema cannot be downgraded: it holds the audit trail")
