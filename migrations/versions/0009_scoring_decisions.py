"""Scoring decisions: the erasable detail store and the index of decision batches.

Each `scoring.batch` entry holds the root of a tree over its decisions' leaves
(`ledger.log.scoring`); the decisions themselves are rows of `scoring_decisions`, written in
the same transaction as their entry: the decision id (unique across the ledger), the batch's
seq and the leaf's index (the primary key: a batch's leaves are one range of it, read in
order for its receipts' inner proofs), the leaf hash, and the decision's RFC 8785 JSON.
`scoring_batches` indexes the batches (version, environment, count, time range) for
purges and documents; it is derived from the entries and append-only like them.

A decision's details may be erased (GDPR Art. 17) or purged after the retention period
(12 CFR 1002.12(b)) by an entry recording it: the row keeps its leaf hash and gets the seq
of that entry, its JSON becomes NULL. Triggers refuse every other change (and any DELETE),
so the leaf hash, the id, the batch and the index never change and details never come
back; verification catches what bypasses the triggers.

No index on the applicant's keyed hash: its values are random, so each decision would
dirty one page of such an index (about 4 KiB of write-ahead log per decision on SQLite);
complaints handling looks an applicant up by scanning a period's batches instead.

The (model, version) index of `entries` gains the kind: a version's scoring batches are
most of its entries, and each question admission asks of a version (its run, catalogues,
decisions, oversight) now seeks the kind instead of reading them all.

Downgrade drops both tables (and with them every decision's details) and restores the
(model, version) index.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-20
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ROW_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_ERASE_ONLY = (
    "NEW.decision_id IS NOT OLD.decision_id OR NEW.batch_seq IS NOT OLD.batch_seq "
    "OR NEW.leaf_index IS NOT OLD.leaf_index OR NEW.leaf_hash IS NOT OLD.leaf_hash "
    "OR NEW.detail IS NOT NULL OR NEW.erased_seq IS NULL OR OLD.erased_seq IS NOT NULL"
)
"""An UPDATE of a decision row that is not an erasure: anything but details set to NULL,
once, with the seq of the erasing entry."""


def upgrade() -> None:
    # A version's scoring batches are most of its entries: the questions admission asks of
    # a version (its run, catalogues, decisions, oversight) seek the kind too.
    op.create_index(
        "ix_entries_model_version_kind", "entries", ["model", "version", "kind"]
    )
    op.drop_index("ix_entries_model_version", table_name="entries")
    op.create_table(
        "scoring_batches",
        sa.Column("seq", _ROW_KEY, primary_key=True, autoincrement=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("environment", sa.String(64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_decided_at", sa.String(32), nullable=False),
        sa.Column("last_decided_at", sa.String(32), nullable=False),
    )
    op.create_index(
        "ix_scoring_batches_model_version", "scoring_batches", ["model", "version"]
    )
    op.create_table(
        "scoring_decisions",
        sa.Column("batch_seq", sa.BigInteger(), nullable=False),
        sa.Column("leaf_index", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.String(128), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("erased_seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("batch_seq", "leaf_index", name="pk_scoring_decisions"),
        sa.UniqueConstraint("decision_id", name="uq_scoring_decisions_decision_id"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION govledger_erase_only() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'DELETE' OR ({_ERASE_ONLY.replace(" IS NOT ", " IS DISTINCT FROM ")})
                THEN
                    RAISE EXCEPTION 'govledger: % on % is refused: a decision''s leaf never '
                        'changes and its details may only be erased, once, by a recorded '
                        'entry', TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
                END IF;
                RETURN NEW;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER scoring_decisions_erase_only BEFORE UPDATE OR DELETE ON "
            "scoring_decisions FOR EACH ROW EXECUTE FUNCTION govledger_erase_only()"
        )
        for table in ("scoring_decisions", "scoring_batches"):
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION govledger_refuse_change()"
            )
        op.execute(
            "CREATE TRIGGER scoring_batches_append_only BEFORE UPDATE OR DELETE ON "
            "scoring_batches FOR EACH ROW EXECUTE FUNCTION govledger_refuse_change()"
        )
        return
    op.execute(
        "CREATE TRIGGER scoring_decisions_erase_only BEFORE UPDATE ON scoring_decisions "
        f"WHEN {_ERASE_ONLY} BEGIN SELECT RAISE(ABORT, 'govledger: UPDATE on "
        "scoring_decisions is refused: a decision''s leaf never changes and its details may "
        "only be erased, once, by a recorded entry'); END"
    )
    op.execute(
        "CREATE TRIGGER scoring_decisions_no_delete BEFORE DELETE ON scoring_decisions "
        "BEGIN SELECT RAISE(ABORT, 'govledger: DELETE on scoring_decisions is refused: "
        "erase details by a recorded entry instead'); END"
    )
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER scoring_batches_no_{operation.lower()} BEFORE {operation} ON "
            f"scoring_batches BEGIN SELECT RAISE(ABORT, 'govledger: {operation} on "
            "scoring_batches is refused: the ledger is append-only'); END"
        )


def downgrade() -> None:
    op.create_index("ix_entries_model_version", "entries", ["model", "version"])
    op.drop_index("ix_entries_model_version_kind", table_name="entries")
    op.drop_table("scoring_decisions")
    op.drop_index("ix_scoring_batches_model_version", table_name="scoring_batches")
    op.drop_table("scoring_batches")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS govledger_erase_only()")
