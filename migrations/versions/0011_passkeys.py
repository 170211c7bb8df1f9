"""Passkeys: a registered key may be a passkey's, whose WebAuthn assertions sign statements.

A passkey's assertion is longer than an Ed25519 signature (authenticator data, client data
and signature, `ledger.log.webauthn`: up to 16,400 characters), and its public key is a DER
SubjectPublicKeyInfo (up to 200 characters of base64). On PostgreSQL `entries.signature`
widens from 100 and `signing_keys.public_key` from 64 characters; a VARCHAR widening is a
catalogue update there, no table rewrite. SQLite enforces no VARCHAR length, so its tables
(`entries` is append-only, rebuilt only when it must be) are left as they are. What else a
passkey's assertions are checked against is in its `key.registered` entry: nothing in the
log changes, and no row is written.

Downgrade narrows the columns again; it refuses while a passkey is registered (its key and
its signatures would not fit).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

SIGNATURE_CHARS = 16400
"""`ledger.log.webauthn.MAX_SIGNATURE_CHARS` when this revision was written."""
PUBLIC_KEY_CHARS = 200


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.alter_column(
        "entries",
        "signature",
        existing_type=sa.String(100),
        type_=sa.String(SIGNATURE_CHARS),
        existing_nullable=True,
    )
    op.alter_column(
        "signing_keys",
        "public_key",
        existing_type=sa.String(64),
        type_=sa.String(PUBLIC_KEY_CHARS),
        existing_nullable=False,
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        return
    passkeys = bind.execute(
        sa.text("SELECT COUNT(*) FROM signing_keys WHERE LENGTH(public_key) > 64")
    ).scalar_one()
    if passkeys:
        raise RuntimeError(
            f"{passkeys} passkey(s) are registered: revision 0010 cannot hold them; "
            "restore a backup taken before the upgrade instead"
        )
    op.alter_column(
        "entries",
        "signature",
        existing_type=sa.String(SIGNATURE_CHARS),
        type_=sa.String(100),
        existing_nullable=True,
    )
    op.alter_column(
        "signing_keys",
        "public_key",
        existing_type=sa.String(PUBLIC_KEY_CHARS),
        type_=sa.String(64),
        existing_nullable=False,
    )
