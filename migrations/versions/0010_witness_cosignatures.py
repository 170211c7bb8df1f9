"""Witness cosignatures: the cosignature lines the ledger's witnesses returned.

The service sends each new checkpoint to its witnesses (c2sp.org/tlog-witness) and keeps
the cosignature line each returns, by witness vkey and tree size, so that `GET
/v1/checkpoint` serves the note with them appended. The lines prove themselves against the
witness keys, so the table is operational: not hash-chained, no append writes it. Nothing
in the log changes.

Downgrade drops the table (the witnesses cosign again when asked).

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_ROW_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "witness_cosignatures",
        sa.Column("witness", sa.String(512), primary_key=True),
        sa.Column("size", _ROW_KEY, primary_key=True, autoincrement=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("witness_cosignatures")
