"""Access is recorded in the ledger: the `users` and `api_keys` tables go.

Who holds which role and which API keys authenticate are now `access.*` entries of the log
(`ledger.governance._rules`), so that an examiner can ask who was a validator on a given day
and get the log's evidence, and an administrator cannot grant, use and revoke a role
unseen. Before this revision runs, `govledger init` carries the rows of both tables over
into the log as the ledger's initial access set, clearly marked (`initial: migrated`, actor
`govledger`; `ledger.store._access_upgrade`): every user, their roles, their keys by id and
SHA-256 of the secret (so issued keys keep working), and the configured approval policy.
This revision then drops the tables, and the foreign keys of `web_sessions` that pointed to
them (a session names its user and key; both are checked against the log at each request).

Downgrade recreates the two tables empty: the access set stays in the log.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_SESSION_COLUMNS = "token_hash, user_name, key_id, created_at, expires_at"


def _sessions_table(name: str, *, foreign_keys: bool) -> None:
    user = [sa.ForeignKey("users.name")] if foreign_keys else []
    key = [sa.ForeignKey("api_keys.key_id")] if foreign_keys else []
    op.create_table(
        name,
        sa.Column("token_hash", sa.LargeBinary(32), primary_key=True),
        sa.Column("user_name", sa.String(200), *user, nullable=False),
        sa.Column("key_id", sa.String(16), *key, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
    )


def _replace_sessions(*, foreign_keys: bool) -> None:
    _sessions_table("web_sessions_new", foreign_keys=foreign_keys)
    op.execute(
        f"INSERT INTO web_sessions_new ({_SESSION_COLUMNS}) "
        f"SELECT {_SESSION_COLUMNS} FROM web_sessions"
    )
    op.drop_index("ix_web_sessions_user_name", table_name="web_sessions")
    op.drop_index("ix_web_sessions_expires_at", table_name="web_sessions")
    op.drop_table("web_sessions")
    op.rename_table("web_sessions_new", "web_sessions")
    op.create_index("ix_web_sessions_user_name", "web_sessions", ["user_name"])
    op.create_index("ix_web_sessions_expires_at", "web_sessions", ["expires_at"])


def upgrade() -> None:
    _replace_sessions(foreign_keys=False)
    op.drop_table("api_keys")
    op.drop_table("users")


def downgrade() -> None:
    op.create_table(
        "users",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("roles", sa.String(200), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("disabled_at", sa.String(32), nullable=True),
    )
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(16), primary_key=True),
        sa.Column("user_name", sa.String(200), sa.ForeignKey("users.name"), nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("revoked_at", sa.String(32), nullable=True),
    )
    op.create_index("ix_api_keys_user_name", "api_keys", ["user_name"])
    op.execute("DELETE FROM web_sessions")  # their users and keys are not in the tables
    _replace_sessions(foreign_keys=True)
