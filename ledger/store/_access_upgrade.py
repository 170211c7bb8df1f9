"""Carry the access tables of an older release into the log, once, at upgrade.

Until migration 0007, users, their roles and their API keys lived in the `users` and
`api_keys` tables, where an administrator could change them unseen. `govledger init` runs
this between revisions 0006 and 0007: every row becomes part of the ledger's initial access
set, marked `initial: migrated` (actor `govledger`), with the configured approval policy
(GOVLEDGER_APPROVAL_POLICY) as the initial policy, then 0007 drops the tables. Keys keep
working: the log holds each key's id and the SHA-256 of its secret, exactly what the table
held. A disabled user is carried over without roles or keys; a revoked key is left out.
"""

from __future__ import annotations

from sqlalchemy import inspect

from ledger.governance import (
    SYSTEM_ACTOR,
    ApprovalPolicy,
    Role,
    Submission,
    initial_access_statements,
)
from ledger.log.entries import build_statement
from ledger.store._ledger_store import LedgerStore

UPGRADE_KEY = "govledger:access-upgrade-0007"
"""The Idempotency-Key of the carry-over: a second init (or a second process) replays it."""


def carry_over_access(store: LedgerStore, policy: ApprovalPolicy) -> int:
    """Append the old tables' users, roles and keys as the initial access set; return how
    many entries were appended (0 when there is nothing to carry, or it was carried)."""
    with store.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        if not {"users", "api_keys"} <= tables:
            return 0
        user_rows = conn.exec_driver_sql(
            "SELECT name, roles, disabled_at FROM users ORDER BY created_at, name"
        ).all()
        key_rows = conn.exec_driver_sql(
            "SELECT key_id, user_name, secret_hash FROM api_keys "
            "WHERE revoked_at IS NULL ORDER BY created_at, key_id"
        ).all()
    if not user_rows or store.rules().rule_entries:
        return 0
    disabled = {str(r[0]) for r in user_rows if r[2] is not None}
    users = {
        str(name): (
            frozenset() if name in disabled else frozenset(Role(r) for r in str(roles).split(",")),
            None,
        )
        for name, roles, _ in user_rows
    }
    keys = {
        str(key_id): (str(user), bytes(secret))
        for key_id, user, secret in key_rows
        if user not in disabled
    }
    statements = [
        build_statement(actor=SYSTEM_ACTOR, **arguments)
        for arguments in initial_access_statements(users, keys, policy, origin="migrated")
    ]
    appended = store.append_batch([Submission(s) for s in statements], idempotency_key=UPGRADE_KEY)
    return len(appended)
