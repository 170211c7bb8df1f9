"""Replay protection on what was signed, not on how it was spelt: the `signed_statements` table.

Until now the database kept a signature unique as *text* (`ux_entries_signature`), but one
64-byte Ed25519 signature has several base64 spellings (non-zero padding bits, for one), so
a replayed approval re-encoded that way was a new string. This revision adds one row per
signed entry, written by the writer in the entry's transaction: the entry's seq, the SHA-256
of its canonical statement (the bytes the signature covers) and the signature's 64 decoded
bytes, both UNIQUE. The database itself then refuses a second entry with the same signature
bytes or the same signed statement, whatever its text. Unsigned entries (nearly all) add no
row, so their appends write no more pages than before.

Back-filled from the signed entries already in the log, in seq order; where the log already
holds a replay (the same bytes or statement twice), the first entry is kept and the later one
left out, for `govledger verify` to report. Append-only like the log (the same triggers).
Nothing in the log changes; every checkpoint and proof issued before stays valid.
"""

import base64
import binascii
import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The canonical statement as ledger.records builds it (RFC 8785: keys in order, strings
# escaped by json's encoder, the payload stored as canonical text). Copied: a migration never
# imports code that may change after it.
STATEMENT_FORMAT = (
    '{"actor":%s,"issued_at":%s,"kind":%s,"model":%s,"payload":%s,"reason":%s,"version":%s}'
)
_encode = json.encoder.encode_basestring  # type: ignore[attr-defined]

TABLE = "signed_statements"
BATCH = 1000


def _create_table() -> None:
    op.create_table(
        TABLE,
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("statement_digest", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("signature", sa.LargeBinary(64), nullable=False, unique=True),
    )


def _append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION govledger_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION govledger_refuse_change()"
        )
        return
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_{operation.lower()} BEFORE {operation} ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, 'govledger: {operation} on {TABLE} is refused: "
            "the ledger is append-only'); END"
        )


def _back_fill() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT seq, actor, issued_at, kind, model, payload, reason, version, signature "
            "FROM entries WHERE signature IS NOT NULL ORDER BY seq"
        )
    ).fetchall()
    insert = sa.text(
        f"INSERT INTO {TABLE} (seq, statement_digest, signature) "
        "VALUES (:seq, :statement_digest, :signature)"
    )
    seen: set[bytes] = set()
    batch: list[dict[str, object]] = []
    for seq, actor, issued_at, kind, model, payload, reason, version, signature in rows:
        try:
            raw = base64.b64decode(str(signature), validate=True)
        except (binascii.Error, ValueError):
            continue  # not a signature at all: verification reports that entry
        statement = STATEMENT_FORMAT % (
            _encode(actor),
            "null" if issued_at is None else _encode(issued_at),
            _encode(kind),
            _encode(model),
            payload,
            _encode(reason),
            _encode(version),
        )
        digest = hashlib.sha256(statement.encode("utf-8")).digest()
        if len(raw) != 64 or raw in seen or digest in seen:
            continue  # a replay already in the log: the first stands, verification reports
        seen.update((raw, digest))
        batch.append({"seq": int(seq), "statement_digest": digest, "signature": raw})
        if len(batch) >= BATCH:
            bind.execute(insert, batch)
            batch = []
    if batch:
        bind.execute(insert, batch)


def upgrade() -> None:
    _create_table()
    _back_fill()
    _append_only()


def downgrade() -> None:
    raise RuntimeError("the ledger core schema cannot be downgraded: it holds the audit trail")
