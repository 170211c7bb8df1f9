"""A ledger whose rules are its entries: users and roles changed by admins, a tiered policy
proposed by compliance and approved by an admin, and a high-materiality model deployed under
it, then a stricter policy put in force after the deployment.

Everything is written as the service writes it: the initial access set by
`IdentityStore.bootstrap`, later users by two admins (`tests.access`), policies, runs,
decisions and the deployment through `LedgerStore.submit` for the user who makes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api.service import IdentityStore
from ledger.governance import Principal, Role, Submission
from ledger.log.entries import Entry, build_statement
from ledger.store import LedgerStore
from tests.access import add_user_by_admins, revoke_keys_by_admin
from tests.ledger.factories import model_artifact, model_file
from tests.reports.builders import Signer

MODEL = "sme-loan-pd"
BUILDER = "dana"
BUILDER_TEAM = "credit-models"
HOSTILE_TEAM = "<script>alert('team')</script>"
HIGH_PRODUCTION = {"validator": 2, "model_risk_committee": 1}
STRICTER = {"validator": 3, "model_risk_committee": 1}


@dataclass
class RulesLedger:
    """What `build_rules_ledger` wrote, by name."""

    store: LedgerStore
    entries: dict[str, Entry] = field(default_factory=dict)
    signers: dict[str, Signer] = field(default_factory=dict)

    def principal(self, name: str) -> Principal:
        return IdentityStore(self.store).principal(name)

    def submit(self, name: str, kind: str, *, reason: str = "", **fields: Any) -> Entry:
        statement = build_statement(kind=kind, actor=name, reason=reason, **fields)
        return self.store.submit(self.principal(name), [Submission(statement)])[0]

    def decide(self, name: str, run: Entry, role: str, reason: str) -> Entry:
        signer = self.signers[name]
        return self.store.submit(
            self.principal(name), [signer.decide(run, role=role, reason=reason)]
        )[0]

    def propose(self, name: str, tier: str, environment: str, required: dict[str, int]) -> Entry:
        return self.submit(
            name,
            "policy.proposed",
            reason=f"tiered approval for {tier} models in {environment} (SR 26-2)",
            payload={
                "tier": tier,
                "environment": environment,
                "required": required,
                "independent_validation": True,
            },
        )

    def approve_policy(self, name: str, proposal: Entry) -> Entry:
        return self.submit(
            name,
            "policy.approved",
            reason="reviewed with model risk",
            payload={"policy": proposal.entry_hash.hex()},
        )


def build_rules_ledger(store: LedgerStore, *, bootstrap: bool = True) -> RulesLedger:
    """The ledger described above; `entries` names the interesting ones.

    `bootstrap=False` builds on a ledger whose access set already holds admins `adam` and
    `ada`, compliance officer `carol` and data scientist `dana` (the API tests' service)."""
    ledger = RulesLedger(store)
    e = ledger.entries
    if bootstrap:
        IdentityStore(store).bootstrap(
            {
                "adam": {Role.ADMIN},
                "ada": {Role.ADMIN},
                "carol": {Role.COMPLIANCE},
                BUILDER: {Role.DATA_SCIENTIST},
            },
            teams={BUILDER: BUILDER_TEAM},
        )
    add_user_by_admins(store, "vito", ["validator"], team="model-validation")
    add_user_by_admins(store, "walt", ["validator"], team="model-validation")
    add_user_by_admins(store, "vince", ["validator"], team=BUILDER_TEAM)
    add_user_by_admins(store, "mona", ["model_risk_committee"], team=HOSTILE_TEAM)
    add_user_by_admins(store, "olga", ["viewer"])
    e["policy"] = ledger.propose("carol", "high", "production", HIGH_PRODUCTION)
    e["policy_approval"] = ledger.approve_policy("adam", e["policy"])
    for name in ("vito", "walt", "vince", "mona"):
        ledger.signers[name] = Signer(name)
        store.submit(ledger.principal(name), [ledger.signers[name].register()])
    e["registration"] = ledger.submit(
        BUILDER,
        "model.registered",
        model=MODEL,
        payload={"description": "PD for small-business loans", "materiality_tier": "high"},
    )
    e["run"] = ledger.submit(
        BUILDER,
        "run.training",
        model=MODEL,
        version="1.0",
        payload={
            "algorithm": "logistic regression",
            "params": {"C": 1.0},
            "artifacts": [model_artifact("1.0", MODEL)],
        },
    )
    e["vince"] = ledger.decide("vince", e["run"], "validator", "validated (same team as builder)")
    e["vito"] = ledger.decide("vito", e["run"], "validator", "independent validation done")
    e["walt"] = ledger.decide("walt", e["run"], "validator", "second validation done")
    e["mona"] = ledger.decide("mona", e["run"], "model_risk_committee", "committee approves")
    e["deployment"] = ledger.submit(
        BUILDER,
        "deployment.promoted",
        model=MODEL,
        version="1.0",
        reason="approved under the high / production policy",
        payload={"environment": "production", "model_sha256": model_file("1.0", MODEL)},
    )
    e["stricter"] = ledger.propose("carol", "high", "production", STRICTER)
    e["stricter_approval"] = ledger.approve_policy("adam", e["stricter"])
    e["staging"] = ledger.propose("carol", "high", "staging", {"validator": 1})
    e["run_1_1"] = ledger.submit(
        BUILDER,
        "run.training",
        model=MODEL,
        version="1.1",
        payload={"algorithm": "gbm", "artifacts": [model_artifact("1.1", MODEL)]},
    )
    ledger.decide("vito", e["run_1_1"], "validator", "validated 1.1")
    identities = IdentityStore(store)
    e["revoked"] = identities.revoke_role(
        identities.principal("adam"), "olga", Role.VIEWER, "left the team"
    )
    revoke_keys_by_admin(store, "olga")
    store.checkpoint()
    return ledger
