"""Alembic environment for govledger (SQLite and PostgreSQL).

Run through `ledger.migrate.upgrade(engine)` (what `govledger init` does), or with the
alembic CLI: `alembic -c migrations/alembic.ini upgrade head` with GOVLEDGER_DATABASE_URL set.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import pool

from ledger.store.database import make_engine

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = os.environ.get("GOVLEDGER_DATABASE_URL", "sqlite:///govledger.db")
    engine = make_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
