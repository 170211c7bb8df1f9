"""Users and API keys: who may call the service, and as whom (authentication).

What a user may then do is the core's rule (`ledger.governance._roles`, `.permissions`): this
module only turns a credential into the `Principal` the store's write gate checks.

An API key is `glk_<key_id>_<secret>`: `key_id` (8 random bytes, hex) finds the row, and only
SHA-256(secret) is stored; the secret (32 random bytes) is printed once at creation and never
again. SHA-256 suffices because the secret is a uniformly random 256-bit value, not a
password; the comparison is constant-time (hmac.compare_digest).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from ledger.errors import Conflict, GovledgerError, NotFound
from ledger.governance import Principal, Role, parse_roles
from ledger.log.entries import normalize_name
from ledger.log.names import check_user_name
from ledger.log.timestamps import format_rfc3339
from ledger.store import api_keys, users

KEY_PREFIX = "glk_"


class Unauthenticated(GovledgerError):
    """No credential, or one that is unknown, malformed or revoked."""

    status = 401
    slug = "unauthenticated"


def _hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


def _now() -> str:
    return format_rfc3339(datetime.now(UTC))


class IdentityStore:
    """Users and API keys in the ledger database (tables from migration 0002)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add_user(self, name: str, roles: frozenset[Role]) -> str:
        """Create a user and its first API key; return the key (shown once)."""
        name = normalize_name(name, "user name", max_length=200, allow_empty=False)
        check_user_name(name)  # new users only: existing users keep their names
        with self.engine.begin() as conn:
            if conn.execute(select(users.c.name).where(users.c.name == name)).first():
                raise Conflict(f"user {name} already exists; use `govledger users key {name}`")
            conn.execute(
                insert(users).values(
                    name=name, roles=",".join(sorted(r.value for r in roles)), created_at=_now()
                )
            )
        return self.new_key(name)

    def new_key(self, name: str) -> str:
        """Issue another API key for a user; return it (the only time it is visible)."""
        key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            if not conn.execute(select(users.c.name).where(users.c.name == name)).first():
                raise NotFound(f"no user {name}")
            conn.execute(
                insert(api_keys).values(
                    key_id=key_id,
                    user_name=name,
                    secret_hash=_hash_secret(secret),
                    created_at=_now(),
                )
            )
        return f"{KEY_PREFIX}{key_id}_{secret}"

    def revoke_keys(self, name: str) -> int:
        """Revoke every API key of a user; return how many were active."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(api_keys)
                .where(api_keys.c.user_name == name, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=_now())
            )
        return int(result.rowcount or 0)

    def list_users(self) -> list[dict[str, object]]:
        """Users with their roles and number of active keys."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(users).order_by(users.c.name)).all()
            counts = dict(
                conn.execute(
                    select(api_keys.c.user_name, api_keys.c.key_id).where(
                        api_keys.c.revoked_at.is_(None)
                    )
                ).all()
            )
        active: dict[str, int] = {}
        for user_name in counts.values():
            active[user_name] = active.get(user_name, 0) + 1
        return [
            {
                "name": r.name,
                "roles": r.roles.split(","),
                "active_keys": active.get(r.name, 0),
                "created_at": r.created_at,
            }
            for r in rows
        ]

    def authenticate(self, token: str | None) -> Principal:
        """The principal an API key belongs to; Unauthenticated for anything else."""
        if not token:
            raise Unauthenticated("an API key is required: send 'Authorization: Bearer glk_...'")
        parts = token.split("_", 2)
        if len(parts) != 3 or f"{parts[0]}_" != KEY_PREFIX or len(parts[1]) != 16:
            raise Unauthenticated("malformed API key")
        key_id, secret = parts[1], parts[2]
        with self.engine.connect() as conn:
            row = conn.execute(
                select(
                    api_keys.c.secret_hash,
                    api_keys.c.revoked_at,
                    users.c.name,
                    users.c.roles,
                    users.c.disabled_at,
                )
                .join(users, users.c.name == api_keys.c.user_name)
                .where(api_keys.c.key_id == key_id)
            ).first()
        expected = bytes(row[0]) if row is not None else _hash_secret("not-a-key")
        valid = hmac.compare_digest(expected, _hash_secret(secret))
        if row is None or not valid or row[1] is not None or row[4] is not None:
            raise Unauthenticated("API key is unknown or revoked")
        return Principal(name=str(row[2]), roles=parse_roles(str(row[3])))
