"""Web sessions from single sign-on: a session may come from an OpenID Connect provider.

Such a session has no API key (`key_id` becomes nullable); it names the provider's issuer and
the subject it vouched for, and the roles the provider's claims granted at sign-in (comma-
separated role names), which each request intersects with the roles in force in the ledger.
Sessions are short-lived rows outside the log: nothing in the log changes. SQLite rebuilds
the table (batch mode) to relax the NOT NULL; PostgreSQL alters it in place.

Downgrade deletes the single sign-on sessions (they have no key to name) and restores the
NOT NULL.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("web_sessions") as batch:
        batch.alter_column("key_id", existing_type=sa.String(16), nullable=True)
        batch.add_column(sa.Column("issuer", sa.String(500), nullable=True))
        batch.add_column(sa.Column("subject", sa.String(255), nullable=True))
        batch.add_column(sa.Column("roles", sa.String(500), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM web_sessions WHERE key_id IS NULL")
    with op.batch_alter_table("web_sessions") as batch:
        batch.drop_column("roles")
        batch.drop_column("subject")
        batch.drop_column("issuer")
        batch.alter_column("key_id", existing_type=sa.String(16), nullable=False)
