"""The ledger's own rules as documents tell them: access changes and approval policies.

Access changes (`access.*`: users, roles, API keys) and approval policies (`policy.*`) are
ledger entries (`ledger.governance.RulesState` folds them). An examiner reads them in the
audit report ("Access changes in the period", "Policies in force": ISO/IEC 27001 A.5.18
review of access rights, SR 26-2 separation of duties and tiered approval), a reader sees
them on the web timeline, and a model card names the policy its deployment satisfied.
`rule_summary` is the one wording of such an entry for all of them, so a change reads the
same wherever it is shown.

Nothing here reads the store: callers hand in entries and `RulesState`s. An API key is
named by its id only: the ledger holds SHA-256 of its secret, and no document prints even
that.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ledger.governance import PRIVILEGED, GrantFact, PolicyFact, Role, RulesState
from ledger.log.entries import Entry, Statement
from ledger.log.kinds import ACCESS_KINDS, Kind
from reports.limits import clip

_ACCESS = {k.value for k in ACCESS_KINDS}
_POLICY = {Kind.POLICY_PROPOSED.value, Kind.POLICY_APPROVED.value}


def is_rule_kind(kind: str) -> bool:
    """True for an access change or a policy entry."""
    return kind in _ACCESS or kind in _POLICY


def requirements(required: Mapping[str, Any]) -> str:
    """A policy's approvals in words, e.g. '2 validator and 1 model_risk_committee'
    (`ApprovalPolicy.describe`'s wording)."""
    return " and ".join(f"{n} {role}" for role, n in required.items()) or "none"


def _scope(payload: Mapping[str, Any]) -> str:
    return f"{payload.get('tier', '*')} / {payload.get('environment', '*')}"


def _initial(payload: Mapping[str, Any], what: str) -> str:
    initial = payload.get("initial")
    return f" ({what}, {initial})" if initial else ""


def _short(digest: object) -> str:
    return f"{str(digest)[:12]}…"


def _privileged(role: str) -> bool:
    try:
        return Role(role) in PRIVILEGED
    except ValueError:
        return False


def _evidence(payload: dict[str, Any]) -> str:
    """What a policy requires before a promotion besides approvals, e.g. '; before a
    promotion: fairness evaluation, eu-ai-act checklist without gaps'."""
    needs = [f"{e} evaluation" for e in payload.get("required_evaluations") or []]
    needs += [f"{r} checklist without gaps" for r in payload.get("required_regimes") or []]
    if payload.get("reviewed_catalogue"):
        needs.append("a reviewed reason catalogue")
    return f"; before a promotion: {', '.join(needs)}" if needs else ""


def rule_summary(statement: Statement, rules: RulesState | None = None) -> str:
    """One line saying what an access or policy entry changed ("" for other kinds).

    `rules` resolves what a confirmation or a policy approval refers to (the grant, the
    proposal); any state that has folded the referenced entry gives the same line, the state
    before the entry or a later one, so the audit report and the timeline agree. The
    initial access set and policy (bootstrap, or migrated from an older release) say so."""
    p: dict[str, Any] = statement.payload
    kind = statement.kind
    user = str(p.get("user", ""))
    if kind == Kind.ACCESS_USER_CREATED.value:
        team = f" in team {p['team']}" if p.get("team") else ""
        return f"user {user} created{team}" + _initial(p, "initial access set")
    if kind == Kind.ACCESS_GRANTED.value:
        role = str(p.get("role", ""))
        pending = (
            ": pending until a second admin confirms it"
            if _privileged(role) and not p.get("initial")
            else ""
        )
        return f"role {role} granted to {user}{pending}" + _initial(p, "initial access set")
    if kind == Kind.ACCESS_CONFIRMED.value:
        grant = _grant(rules, p.get("grant"))
        if grant is None:
            return f"grant {_short(p.get('grant'))} confirmed: the role is in force"
        return (
            f"role {grant.role.value} of {grant.user} confirmed (granted at seq {grant.seq} "
            f"by {grant.granter}): in force"
        )
    if kind == Kind.ACCESS_REVOKED.value:
        return f"role {p.get('role', '')} revoked from {user}"
    if kind == Kind.ACCESS_KEY_ISSUED.value:
        return f"API key {p.get('key_id', '')} issued to {user}" + _initial(p, "initial access set")
    if kind == Kind.ACCESS_KEY_REVOKED.value:
        return f"API key {p.get('key_id', '')} of {user} revoked"
    if kind == Kind.ACCESS_FEDERATED.value:
        role = str(p.get("role", ""))
        pending = ": pending until an admin confirms it" if _privileged(role) else ""
        return (
            f"role {role} granted to {user} by {p.get('issuer', '')} "
            f"({p.get('claim', '')} = {p.get('value', '')}){pending}"
        )
    if kind == Kind.POLICY_PROPOSED.value:
        independent = "; independent validation" if p.get("independent_validation") else ""
        state = " in force at once" if p.get("initial") else " awaiting approval"
        return (
            f"policy proposed for {_scope(p)}: {requirements(p.get('required') or {})}"
            f"{independent}{_evidence(p)};{state}" + _initial(p, "initial policy")
        )
    if kind == Kind.POLICY_APPROVED.value:
        policy = _policy(rules, p.get("policy"))
        if policy is None:
            return f"policy {_short(p.get('policy'))} approved: in force"
        return (
            f"policy for {policy.describe()} approved (proposed at seq {policy.seq} by "
            f"{policy.proposer}): in force"
        )
    return ""


def _grant(rules: RulesState | None, digest: object) -> GrantFact | None:
    if rules is None or not isinstance(digest, str):
        return None
    try:
        return rules.grants.get(bytes.fromhex(digest))
    except ValueError:
        return None


def _policy(rules: RulesState | None, digest: object) -> PolicyFact | None:
    if rules is None or not isinstance(digest, str):
        return None
    try:
        return rules.policies.get(bytes.fromhex(digest))
    except ValueError:
        return None


@dataclass(frozen=True)
class AccessChange:
    """One access change of a period, as the audit report lists it."""

    seq: int
    recorded_at: str
    actor: str
    kind: str
    change: str
    """What changed, in words (`rule_summary`)."""
    reason: str
    initial: str | None
    """`bootstrap` or `migrated` for an entry of the initial access set, else None."""
    entry_hash: str


def access_changes(entries: Iterable[Entry], rules: RulesState) -> list[AccessChange]:
    """The access changes among `entries`, in seq order; `rules` as in `rule_summary`."""
    found = []
    for entry in entries:
        st = entry.statement
        if st.kind not in _ACCESS:
            continue
        initial = st.payload.get("initial")
        found.append(
            AccessChange(
                seq=entry.seq,
                recorded_at=entry.recorded_at,
                actor=st.actor,
                kind=st.kind,
                change=rule_summary(st, rules),
                reason=clip(st.reason, where=f"the entry at seq {entry.seq}"),
                initial=None if initial is None else str(initial),
                entry_hash=entry.entry_hash.hex(),
            )
        )
    return sorted(found, key=lambda c: c.seq)


@dataclass(frozen=True)
class PolicyRow:
    """An approval policy as documents list it: scope, requirements, who put it in force."""

    tier: str
    environment: str
    requirements: str
    independent_validation: bool
    proposed_seq: int
    proposer: str
    entry_hash: str
    """Of its `policy.proposed` entry."""
    approved_seq: int | None
    approver: str | None
    initial: str | None

    @property
    def scope(self) -> str:
        """'high / production' (`*` for any)."""
        return f"{self.tier} / {self.environment}"

    @property
    def description(self) -> str:
        """'high / production: 2 validator and 1 approver' (`PolicyFact.describe`)."""
        return f"{self.scope}: {self.requirements}"


def policy_row(policy: PolicyFact, *, approved: PolicyFact | None = None) -> PolicyRow:
    """A policy as a row; `approved` (the same policy in a later state) gives an approval
    made after the state `policy` comes from."""
    decided = approved if approved is not None and approved.approved_seq is not None else policy
    return PolicyRow(
        tier=policy.tier,
        environment=policy.environment,
        requirements=requirements(policy.required),
        independent_validation=policy.independent_validation,
        proposed_seq=policy.seq,
        proposer=policy.proposer,
        entry_hash=policy.entry_hash.hex(),
        approved_seq=decided.approved_seq,
        approver=decided.approver,
        initial=policy.initial,
    )


def policies_in_force(rules: RulesState) -> list[PolicyRow]:
    """Every policy in force in `rules`, by scope."""
    return [policy_row(p) for p in rules.policies_in_force()]


def policies_awaiting(
    rules: RulesState, first_seq: int, stop_seq: int, *, now: RulesState | None = None
) -> list[PolicyRow]:
    """Policies proposed in seqs [first_seq, stop_seq) that `rules` (the state at the end of
    that range) holds unapproved, oldest first; with `now`, a row carries an approval made
    since (its `approved_seq` is then past the range)."""
    later = now.policies if now is not None else {}
    return [
        policy_row(p, approved=later.get(p.entry_hash))
        for p in sorted(rules.policies.values(), key=lambda p: p.seq)
        if first_seq <= p.seq < stop_seq and p.approved_seq is None
    ]
