"""A ledger history for the rules replay tests: signing keys registered before any access
set, then the initial access set (`IdentityStore.bootstrap`), and statements to build on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from api.service import IdentityStore
from ledger.governance import Role
from ledger.log.entries import Entry, Statement, build_statement
from ledger.store import LedgerStore
from tests.ledger.factories import MODEL, Actor, model_file, training
from tests.ledger.tamper import append_bypassing_admission

INITIAL_USERS = {
    "adam": {Role.ADMIN},
    "ada": {Role.ADMIN},
    "dana": {Role.DATA_SCIENTIST},
    "alice": {Role.APPROVER},
    "carol": {Role.COMPLIANCE},
}


@dataclass
class History:
    """A ledger whose signing keys predate its access set, and the people in it."""

    store: LedgerStore
    victor: Actor
    alice: Actor
    initial: int

    @property
    def identities(self) -> IdentityStore:
        return IdentityStore(self.store)

    def register(self, tier: str = "high") -> Entry:
        return self.store.append(registration(tier))

    def run(self, version: str, *, actor: str = "dana") -> Entry:
        return self.store.append(training(version, actor=actor))

    def approvals(self, run: Entry) -> list[Entry]:
        """victor's validation and alice's approval of the run (admission: four eyes only)."""
        return self.store.append_batch(
            [self.victor.approve(run, role="validator"), self.alice.approve(run, role="approver")]
        )

    def slip_in(self, statement: Statement) -> Entry:
        """Append around admission: what only the replay can tell."""
        return append_bypassing_admission(self.store, statement, signature=None, key_id=None)


def registration(tier: str) -> Statement:
    return build_statement(
        kind="model.registered",
        model=MODEL,
        actor="dana",
        payload={"owner": "credit risk", "materiality_tier": tier, "intended_use": "scoring"},
    )


def deployment(version: str, *, actor: str = "dana", environment: str = "production") -> Statement:
    return build_statement(
        kind="deployment.promoted",
        model=MODEL,
        version=version,
        actor=actor,
        reason="approved by validation and the approver",
        payload={"environment": environment, "model_sha256": model_file(version)},
    )


def make_history(store: LedgerStore) -> History:
    """Two signing keys registered before any access set (not gated), then the initial
    access set: admins adam and ada, data scientist dana (team risk-models), approver alice,
    compliance carol, and the configured policy (1 validator and 1 approver)."""
    victor, alice = Actor.make("victor"), Actor.make("alice")
    store.append_batch([victor.register(), alice.register()])
    IdentityStore(store).bootstrap(INITIAL_USERS, teams={"dana": "risk-models"})
    return History(store, victor, alice, initial=store.size() - 2)
