"""Notifications as signed webhooks: the outbox of events and deliveries, and its cursor.

Risk officers and model owners hear of deployments, versions awaiting decisions, decisions
and monitoring breaches through webhooks (Standard Webhooks 1.0). The events are derived
from the log by the service's notifier, which tails it: `webhook_cursor` holds the last seq
turned into events, `webhook_events` the events (unique by key, so none is made twice), and
`webhook_deliveries` each event's delivery to each configured endpoint, with its attempts,
its next attempt and the lease of the attempt in flight.

These tables are operational, not evidence: they are not hash-chained, not append-only, and
no append writes them (the append rate is untouched). The cursor row is not created here:
the first notifier creates it at the head of the log, so a ledger that turns webhooks on
announces what happens from then on, not its whole history. Nothing in the log changes.

Downgrade drops the three tables (the events can be derived again from the log).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ROW_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "webhook_events",
        sa.Column("id", _ROW_KEY, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(40), nullable=False, unique=True),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("event_key", sa.String(255), nullable=False, unique=True),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.String(32), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("fanned_out_at", sa.String(32), nullable=True),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", _ROW_KEY, primary_key=True, autoincrement=True),
        sa.Column(
            "event_id", sa.BigInteger(), sa.ForeignKey("webhook_events.id"), nullable=False
        ),
        sa.Column("endpoint", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.String(32), nullable=False),
        sa.Column("claimed_until", sa.String(32), nullable=True),
        sa.Column("claim_token", sa.String(32), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("delivered_at", sa.String(32), nullable=True),
        sa.UniqueConstraint(
            "event_id", "endpoint", name="uq_webhook_deliveries_event_endpoint"
        ),
    )
    op.create_index(
        "ix_webhook_deliveries_queue",
        "webhook_deliveries",
        ["endpoint", "status", "event_id"],
    )
    op.create_table(
        "webhook_cursor",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("webhook_cursor")
    op.drop_index("ix_webhook_deliveries_queue", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_events")
