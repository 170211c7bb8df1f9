"""Alembic environment for govledger (SQLite and PostgreSQL).

Run through `ledger.migrate.upgrade(engine)` (what `govledger init` does), or with the
alembic CLI: `alembic -c migrations/alembic.ini upgrade head` with GOVLEDGER_DATABASE_URL set.
`target_metadata` is the one schema of `ledger.store._tables`, so `alembic revision
--autogenerate` drafts a new revision from what that module describes and the database lacks
(tests/ledger/test_migrations.py checks that a migrated database lacks nothing).
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import pool

from ledger.store import make_engine, metadata

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = os.environ.get("GOVLEDGER_DATABASE_URL", "sqlite:///govledger.db")
    engine = make_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
