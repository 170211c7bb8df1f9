"""Test helpers for the access set recorded in the ledger.

A test ledger's users are its initial access set (`IdentityStore.bootstrap`, as an operator
records them before any admin acts). A user added later is added as real admins add one:
admin `adam` creates the user and grants the roles, admin `ada` confirms the privileged
ones (four eyes on access).
"""

from __future__ import annotations

from collections.abc import Iterable

from api.service import IdentityStore
from ledger.governance import PRIVILEGED, Role, parse_roles
from ledger.store import LedgerStore

FIRST_ADMIN = "adam"
SECOND_ADMIN = "ada"


def add_user_by_admins(
    store: LedgerStore, name: str, roles: Iterable[str] | str, *, team: str | None = None
) -> str:
    """Create `name` with `roles` as the admins do it (grant, then confirm); return the key."""
    identities = IdentityStore(store)
    parsed = parse_roles(list(roles) if not isinstance(roles, str) else roles)
    rules = identities.rules()
    if not rules.rule_entries:
        return identities.add_user(name, parsed, team=team)
    adam = identities.principal(FIRST_ADMIN)
    key = identities.add_user(name, parsed, by=adam, team=team)
    ada = identities.principal(SECOND_ADMIN)
    for grant in identities.rules().pending_grants():
        if grant.user == name and grant.role in PRIVILEGED:
            identities.confirm(ada, grant.entry_hash.hex(), "second admin: request checked")
    return key


def revoke_keys_by_admin(store: LedgerStore, name: str) -> int:
    """Revoke every API key of `name` as admin `adam`; return how many."""
    identities = IdentityStore(store)
    return identities.revoke_keys(name, by=identities.principal(FIRST_ADMIN), reason="test")


def principal(store: LedgerStore, name: str) -> object:
    """The principal of `name` with the roles in force."""
    return IdentityStore(store).principal(name)


__all__ = ["FIRST_ADMIN", "SECOND_ADMIN", "Role", "add_user_by_admins", "revoke_keys_by_admin"]
