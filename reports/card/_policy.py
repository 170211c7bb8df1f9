"""The approval policy a model card names, from the ledger's policy entries.

A deployment is admitted against the policy in force for the model's materiality tier and
the deployment's environment (`ledger.governance.deployment_policy`): a policy a compliance
officer proposed (`policy.proposed`) and an admin approved (`policy.approved`), or the other
way round. The card names that policy, cites both entries (so `evidence.json` proves them),
and `verify-card` re-derives the same block from them (`ledger_policies`), so the policy on
the pages is bound to the entries like the approvals are. A ledger that records no policy
for that scope (one of an older release, or not bootstrapped) admitted the deployment
against the configured policy, and the card says so.
"""

from __future__ import annotations

from collections.abc import Callable

from ledger.log.entries import Entry
from ledger.log.kinds import Kind
from ledger.store import LedgerStore, VersionView
from reports.card._model import CardPolicy, LedgerPolicy
from reports.citations import EntryRef
from reports.rules import requirements

Cite = Callable[[Entry, str], EntryRef]


def ledger_policy(proposal: Entry, approval: Entry | None, use: Cite) -> LedgerPolicy:
    """The policy of a `policy.proposed` entry and the `policy.approved` entry that put it
    in force (None for the initial policy, in force as it was recorded); both are cited."""
    p = proposal.statement.payload
    scope = f"{p.get('tier', '*')} / {p.get('environment', '*')}"
    initial = p.get("initial")
    proposed = use(proposal, f"approval policy for {scope} (proposal)")
    approved = (
        proposed if approval is None else use(approval, f"approval of the policy for {scope}")
    )
    return LedgerPolicy(
        description=f"{scope}: {requirements(p.get('required') or {})}",
        independent_validation=bool(p.get("independent_validation", False)),
        proposal=proposed,
        approval=approved,
        initial=None if initial is None else str(initial),
    )


def card_policy(store: LedgerStore, view: VersionView, use: Cite, *, max_seq: int) -> CardPolicy:
    """The policy the card of `view` names; the ledger's entries are cited when the signed
    checkpoint (of `max_seq` entries) covers them, as the card's evidence must."""
    deployment = view.deployments[-1] if view.deployments else None
    fact = view.policy_fact
    found = None
    if fact is not None and fact.approved_seq is not None and fact.approved_seq < max_seq:
        proposal = store.entry(fact.seq)
        approval = None if fact.approved_seq == fact.seq else store.entry(fact.approved_seq)
        found = ledger_policy(proposal, approval, use)
    return CardPolicy(
        requirements=view.policy.describe(),
        environment=view.environment,
        materiality_tier=view.materiality_tier,
        deployment=None if deployment is None else use(deployment, "deployment"),
        ledger=found,
    )


def ledger_policies(entries: list[Entry], use: Cite) -> list[LedgerPolicy]:
    """Every policy whose proposal and putting in force are among `entries` (proven
    evidence), as `ledger_policy` builds it: what a card citing them shows."""
    approvals = {
        str(e.statement.payload.get("policy")): e
        for e in entries
        if e.statement.kind == Kind.POLICY_APPROVED.value
    }
    found = []
    for entry in entries:
        if entry.statement.kind != Kind.POLICY_PROPOSED.value:
            continue
        if entry.statement.payload.get("initial"):
            found.append(ledger_policy(entry, None, use))
        elif entry.entry_hash.hex() in approvals:
            found.append(ledger_policy(entry, approvals[entry.entry_hash.hex()], use))
    return found
