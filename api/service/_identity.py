"""Users and API keys: who may call the service, and as whom (authentication), and the
access changes an admin makes, as entries of the ledger.

Who holds which role and which keys authenticate is the ledger's access set
(`ledger.governance.RulesState`, read by `LedgerStore.rules`): this module turns a credential
into the `Principal` the store's write gate checks, and turns `govledger users ...` (and the
access routes) into `access.*` statements submitted through that gate, where admission
applies the rules (admin only, no self-grant, four eyes on privileged roles, never the last
admin).

An API key is `glk_<key_id>_<secret>`: `key_id` (8 random bytes, hex) finds the key, and only
SHA-256(secret) is recorded (`access.key_issued`); the secret (32 random bytes) is printed
once at creation and never again. SHA-256 suffices because the secret is a uniformly random
256-bit value, not a password; the comparison is constant-time (hmac.compare_digest).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from ledger.errors import GovledgerError, NotFound
from ledger.governance import (
    PRIVILEGED,
    SYSTEM_ACTOR,
    Principal,
    Role,
    RulesState,
    Submission,
    initial_access_statements,
)
from ledger.log.entries import Entry, Statement, build_statement, normalize_name
from ledger.log.kinds import Kind
from ledger.store import LedgerStore

KEY_PREFIX = "glk_"


class Unauthenticated(GovledgerError):
    """No credential, or one that is unknown, malformed or revoked."""

    status = 401
    slug = "unauthenticated"


def hash_secret(secret: str) -> bytes:
    """SHA-256 of an API key's secret: all the ledger ever holds of it."""
    return hashlib.sha256(secret.encode("utf-8")).digest()


def parse_key(token: str) -> tuple[str, str]:
    """(key_id, secret) of an API key; Unauthenticated if it is not one."""
    parts = token.split("_", 2)
    if len(parts) != 3 or f"{parts[0]}_" != KEY_PREFIX or len(parts[1]) != 16:
        raise Unauthenticated("malformed API key")
    return parts[1], parts[2]


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new API key (shown once) and the entry that recorded it."""

    key: str
    key_id: str
    secret_hash: bytes


def new_key() -> IssuedKey:
    """A fresh random API key."""
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    return IssuedKey(f"{KEY_PREFIX}{key_id}_{secret}", key_id, hash_secret(secret))


class IdentityStore:
    """Authentication against the ledger's access set, and access changes as entries."""

    def __init__(self, store: LedgerStore) -> None:
        self.store = store

    @property
    def engine(self) -> Engine:
        """The ledger database's engine."""
        return self.store.engine

    # -- authentication ----------------------------------------------------------------

    def rules(self) -> RulesState:
        """The access set in force now."""
        return self.store.rules()

    def authenticate(self, token: str | None) -> Principal:
        """The principal an API key belongs to; Unauthenticated for anything else."""
        if not token:
            raise Unauthenticated("an API key is required: send 'Authorization: Bearer glk_...'")
        key_id, secret = parse_key(token)
        rules = self.rules()
        key = rules.api_key(key_id)
        expected = key.secret_sha256 if key is not None else hash_secret("not-a-key")
        valid = hmac.compare_digest(expected, hash_secret(secret))
        if key is None or not valid or key.revoked_seq is not None:
            raise Unauthenticated("API key is unknown or revoked")
        return self.principal(key.user, rules)

    def principal(self, name: str, rules: RulesState | None = None) -> Principal:
        """The user `name` with the roles in force; Unauthenticated if they hold none."""
        roles = (rules or self.rules()).roles_of(name)
        if not roles:
            raise Unauthenticated(f"{name} holds no role: ask an admin to grant one")
        return Principal(name=name, roles=roles)

    def key_active(self, key_id: str, user: str) -> bool:
        """True while `key_id` is an unrevoked key of `user` (web sessions check this)."""
        key = self.rules().api_key(key_id)
        return key is not None and key.user == user and key.revoked_seq is None

    # -- access changes ----------------------------------------------------------------

    def bootstrap(
        self, users: Mapping[str, Iterable[Role]], *, teams: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """Record users as (part of) the ledger's initial access set; return their keys.

        Only a ledger whose rule entries so far are all initial ones, the last of them the
        ledger's last entry, takes this (`ledger.governance._rules`): the set an operator
        records before any admin acts. The first call also records the configured approval
        policy as the initial policy."""
        teams = teams or {}
        issued = {name: new_key() for name in users}
        for name in users:
            normalize_name(name, "user name", max_length=200, allow_empty=False)
        rows = {name: (frozenset(roles), teams.get(name)) for name, roles in users.items()}
        keys = {k.key_id: (name, k.secret_hash) for name, k in issued.items()}
        policy = None if self.rules().rule_entries else self.store.policy
        statements = [
            build_statement(actor=SYSTEM_ACTOR, **arguments)
            for arguments in initial_access_statements(rows, keys, policy, origin="bootstrap")
        ]
        self.store.append_batch([Submission(s) for s in statements])
        return {name: k.key for name, k in issued.items()}

    def add_user(
        self,
        name: str,
        roles: Iterable[Role],
        *,
        by: Principal | None = None,
        team: str | None = None,
        reason: str = "",
    ) -> str:
        """Create a user with their first API key and grant their roles; return the key.

        `by`: the admin making the change; None records the user in the initial access set
        (`bootstrap`). Privileged roles granted by an admin wait for a second admin's
        confirmation (`confirm`)."""
        if by is None:
            return self.bootstrap({name: roles}, teams={name: team} if team else None)[name]
        name = normalize_name(name, "user name", max_length=200, allow_empty=False)
        key = new_key()
        payload: dict[str, Any] = {"user": name}
        if team:
            payload["team"] = team
        statements = [
            self._statement(by, Kind.ACCESS_USER_CREATED, payload, ""),
            self._statement(
                by,
                Kind.ACCESS_KEY_ISSUED,
                {"user": name, "key_id": key.key_id, "secret_sha256": key.secret_hash.hex()},
                "",
            ),
        ]
        why = reason or f"new user {name}"
        statements += [
            self._statement(by, Kind.ACCESS_GRANTED, {"user": name, "role": r.value}, why)
            for r in sorted(set(roles))
        ]
        self._submit(by, statements)
        return key.key

    def grant(self, by: Principal, name: str, role: Role, reason: str) -> Entry:
        """Grant `role` to `name` (pending until a second admin confirms, if privileged)."""
        payload = {"user": name, "role": role.value}
        return self._submit(by, [self._statement(by, Kind.ACCESS_GRANTED, payload, reason)])[0]

    def confirm(self, by: Principal, grant: str, reason: str) -> Entry:
        """Confirm a pending grant, named by its entry hash (hex) or its seq."""
        payload = {"grant": self._grant_hash(grant)}
        return self._submit(by, [self._statement(by, Kind.ACCESS_CONFIRMED, payload, reason)])[0]

    def revoke_role(self, by: Principal, name: str, role: Role, reason: str) -> Entry:
        """Take `role` from `name` (or withdraw a pending grant of it)."""
        payload = {"user": name, "role": role.value}
        return self._submit(by, [self._statement(by, Kind.ACCESS_REVOKED, payload, reason)])[0]

    def new_key(self, name: str, *, by: Principal) -> str:
        """Issue another API key for a user; return it (the only time it is visible)."""
        key = new_key()
        payload = {"user": name, "key_id": key.key_id, "secret_sha256": key.secret_hash.hex()}
        self._submit(by, [self._statement(by, Kind.ACCESS_KEY_ISSUED, payload, "")])
        return key.key

    def revoke_keys(self, name: str, *, by: Principal, reason: str = "") -> int:
        """Revoke every active API key of a user; return how many there were."""
        rules = self.rules()
        if name not in rules.users:
            raise NotFound(f"no user {name}")
        active = sorted(
            k.key_id for k in rules.keys.values() if k.user == name and k.revoked_seq is None
        )
        why = reason or f"keys of {name} revoked by {by.name}"
        statements = [
            self._statement(by, Kind.ACCESS_KEY_REVOKED, {"user": name, "key_id": k}, why)
            for k in active
        ]
        if statements:
            self._submit(by, statements)
        return len(statements)

    def list_users(self) -> list[dict[str, object]]:
        """Users with their roles in force, pending grants, team and active key count."""
        rules = self.rules()
        pending: dict[str, list[str]] = {}
        for grant in rules.pending_grants():
            pending.setdefault(grant.user, []).append(grant.role.value)
        active: dict[str, int] = {}
        for key in rules.keys.values():
            if key.revoked_seq is None:
                active[key.user] = active.get(key.user, 0) + 1
        return [
            {
                "name": user.name,
                "roles": sorted(r.value for r in user.roles),
                "pending": sorted(pending.get(user.name, [])),
                "team": user.team,
                "active_keys": active.get(user.name, 0),
                "created_seq": user.created_seq,
            }
            for user in sorted(rules.users.values(), key=lambda u: u.name)
        ]

    # -- helpers -------------------------------------------------------------------------

    @staticmethod
    def _statement(by: Principal, kind: Kind, payload: dict[str, Any], reason: str) -> Statement:
        return build_statement(kind=kind.value, actor=by.name, reason=reason, payload=payload)

    def _submit(self, by: Principal, statements: list[Statement]) -> list[Entry]:
        return self.store.submit(by, [Submission(s) for s in statements])

    def _grant_hash(self, grant: str) -> str:
        return self.rules().find_grant(grant).entry_hash.hex()


def needs_confirmation(role: Role) -> bool:
    """True when a grant of `role` waits for a second admin (four eyes on access)."""
    return role in PRIVILEGED
