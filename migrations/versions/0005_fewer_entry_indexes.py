"""Two fewer index pages per append: no recorded_at index, a kind index over rare kinds only.

Every index on `entries` is one more B-tree page that a single append writes, syncs (SQLite:
one more WAL frame under the commit's fsync) and later checkpoints, and one more index tuple
PostgreSQL inserts and WAL-logs. Two of them cost that on every append and bought little:

- `ix_entries_recorded_at`: the ledger stamps `recorded_at` under the sequencer lock as
  max(now, the previous entry's), so it never decreases along `seq` (verification checks
  it). A time range is therefore a range of seqs, found by bisection over the primary key
  (`LedgerStore.seq_range`), in about 2 log2(n) point reads.
- `ix_entries_kind`: looked up by kind alone are the rare governance events (approvals,
  deployments, retirements, key changes, refusals, catalogues, oversight); the three kinds
  that make nearly every entry (training runs, evaluations, notes) are always looked up by
  model and version, and a scan in seq order meets them densely. The index now covers the
  other kinds only (`ix_entries_governance_kind`, partial). Queries by a rare kind name the
  index's predicate in their WHERE clause (`ledger.sql.GOVERNANCE_KIND_SQL`), which is how
  SQLite's planner recognises a partial index; PostgreSQL proves it either way.

Nothing in the log changes; every checkpoint and proof issued before stays valid.
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The predicate as ledger.sql.GOVERNANCE_KIND_SQL spells it (copied: a migration never
# imports code that may change after it).
GOVERNANCE_KIND_SQL = "kind NOT IN ('evaluation.recorded', 'note', 'run.training')"


def upgrade() -> None:
    op.drop_index("ix_entries_recorded_at", table_name="entries")
    op.drop_index("ix_entries_kind", table_name="entries")
    op.execute(
        f"CREATE INDEX ix_entries_governance_kind ON entries (kind) WHERE {GOVERNANCE_KIND_SQL}"
    )


def downgrade() -> None:
    raise RuntimeError("the ledger core schema cannot be downgraded: it holds the audit trail")
