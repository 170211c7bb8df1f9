"""The ledger's own rules, read from its entries: who holds which role, which API keys
authenticate, and which approval policy is in force for a tier and an environment.

Access changes (`access.*`) and approval policies (`policy.*`) are entries like any other,
so an examiner can ask what was in force at any seq and get an answer with the log's
evidence. `RulesState` is the one fold over those entries, in seq order: admission applies
it under the sequencer lock (the state as of the entry being admitted), the service
authenticates against it, documents read it as of a seq, and the replay audit
(`ledger.verify`) folds the whole log with it. `RulesState.check` is the one admission rule
for a rule entry; `apply` is what an admitted rule entry changes.

The rules (SR 26-2 separation of duties; ISO/IEC 27001 A.5.18 access rights):

- Access changes are made by an admin. Nobody grants a role to themselves. A privileged role
  (admin and every role an approval is made as) is in force only once a *second* admin,
  neither the granter nor the grantee, confirms the grant (four eyes on access). The last
  admin's admin role cannot be revoked. A user may be issued, and may revoke, their own
  API keys.
- A policy is proposed by a compliance officer or an admin and is in force once approved by
  someone else, so that together a compliance officer and an admin, two people, signed it
  off. An approved policy replaces the one in force for its tier and environment.
- The *initial* access set and policy (payload `initial`: `bootstrap`, or `migrated` at an
  upgrade from the users table of an older release) are the ledger's own entries (actor
  `govledger`), written as one unbroken run of entries before any other rule entry: the
  first of them must be the ledger's first rule entry and each next one must directly follow
  the previous, so the set is closed by whatever entry comes after it, and every later
  change goes through the rules above. A replay checks the same offline.
- A role granted through an identity provider (`access.federated`, written by the service
  at an OpenID Connect sign-in from the operator's claim-to-role mapping) is the ledger's own
  entry (actor `govledger`), recorded once per issuer, claim, value, role and user; it creates
  the user if the access set has none of that name. The mapping is configuration, so it is
  the granter: a privileged role is in force only once an admin confirms the grant, as any
  other privileged grant, and the admin role is never granted this way.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ledger.errors import (
    Conflict,
    Forbidden,
    FourEyesViolation,
    InvalidName,
    InvalidStatement,
    UnknownEntry,
    UnknownMaterialityTier,
)
from ledger.governance._policy import ApprovalPolicy, DecisionFact
from ledger.governance._roles import DECIDING, Role
from ledger.governance._serving import PromotionRequest, check_promotion
from ledger.log.entries import Statement
from ledger.log.kinds import Kind
from ledger.log.names import check_user_name

SYSTEM_ACTOR = "govledger"
"""The actor of the ledger's own entries (the initial access set, recorded refusals are the
refused user's). No user can be called this."""

PRIVILEGED = DECIDING | {Role.ADMIN}
"""Roles whose grant waits for a second admin's confirmation: administration and every role
an approval is made as."""

ANY = "*"
"""A policy's tier or environment that matches any."""

POLICY_SIGNERS = (Role.COMPLIANCE, Role.ADMIN)
"""The two roles whose holders, two different people, put a policy in force."""


class UnknownRole(InvalidStatement):
    """A role name that govledger does not have."""

    slug = "unknown-role"


class LastAdmin(Conflict):
    """Revoking the admin role of the only admin: nobody could change access any more."""

    slug = "last-admin"


@dataclass(slots=True)
class UserFact:
    """A user of the access set and the roles in force for them."""

    name: str
    team: str | None
    created_seq: int
    roles: set[Role] = field(default_factory=set)


@dataclass(slots=True)
class GrantFact:
    """A grant of a role; a privileged one is pending until confirmed."""

    entry_hash: bytes
    seq: int
    user: str
    role: Role
    granter: str
    confirmed_seq: int | None = None
    confirmer: str | None = None
    withdrawn: bool = False

    @property
    def pending(self) -> bool:
        """Waiting for a second admin's confirmation."""
        return self.confirmed_seq is None and not self.withdrawn


@dataclass(slots=True)
class ApiKeyFact:
    """An issued API key: its id, its owner, SHA-256 of its secret."""

    key_id: str
    user: str
    secret_sha256: bytes
    issued_seq: int
    revoked_seq: int | None = None


@dataclass(slots=True)
class PolicyFact:
    """A proposed approval policy, and when (by whom) it was put in force."""

    entry_hash: bytes
    seq: int
    tier: str
    environment: str
    required: dict[str, int]
    independent_validation: bool
    proposer: str
    proposer_roles: frozenset[Role]
    initial: str | None
    approved_seq: int | None = None
    approver: str | None = None
    superseded_seq: int | None = None
    champion_comparison: bool = False
    rollback_approvals: bool = False
    monitoring_plan: bool = False
    required_evaluations: tuple[str, ...] = ()
    required_regimes: tuple[str, ...] = ()
    reviewed_catalogue: bool = False

    @property
    def in_force(self) -> bool:
        """Approved and not replaced by a later policy for the same scope."""
        return self.approved_seq is not None and self.superseded_seq is None

    def describe(self) -> str:
        """e.g. 'high / production: 2 validator and 1 approver'."""
        return f"{self.tier} / {self.environment}: {self.as_policy().describe()}"

    def as_policy(self, configured: ApprovalPolicy | None = None) -> ApprovalPolicy:
        """The policy deployments are checked against; what is configuration, not policy
        (the materiality tiers, the environments), comes from `configured`."""
        base = configured or ApprovalPolicy()
        return ApprovalPolicy(
            required=dict(self.required),
            materiality_tiers=base.materiality_tiers,
            independent_validation=self.independent_validation,
            entry_hash=self.entry_hash,
            scope=(self.tier, self.environment),
            champion_comparison=self.champion_comparison,
            rollback_approvals=self.rollback_approvals,
            monitoring_plan=self.monitoring_plan,
            environments=base.environments,
            shadow_environments=base.shadow_environments,
            required_evaluations=self.required_evaluations,
            required_regimes=self.required_regimes,
            reviewed_catalogue=self.reviewed_catalogue,
        )

    def to_dict(self) -> dict[str, Any]:
        """The policy as JSON (the API's policy listing, `govledger policy list --json`);
        a version's `policy` block uses the same field names."""
        return {
            "entry_hash": self.entry_hash.hex(),
            "seq": self.seq,
            "tier": self.tier,
            "environment": self.environment,
            **policy_terms(self.as_policy()),
            "proposed_by": self.proposer,
            "approved_seq": self.approved_seq,
            "approved_by": self.approver,
            "superseded_seq": self.superseded_seq,
            "in_force": self.in_force,
            "initial": self.initial,
        }


def policy_terms(policy: ApprovalPolicy) -> dict[str, Any]:
    """What a policy requires, as JSON: the one spelling of its terms for every view of a
    policy (the policy listing, a version's `policy` block)."""
    return {
        "required": dict(policy.required),
        "independent_validation": policy.independent_validation,
        "champion_comparison": policy.champion_comparison,
        "rollback_approvals": policy.rollback_approvals,
        "monitoring_plan": policy.monitoring_plan,
        "required_evaluations": list(policy.required_evaluations),
        "required_regimes": list(policy.required_regimes),
        "reviewed_catalogue": policy.reviewed_catalogue,
        "description": policy.describe(),
    }


_F = TypeVar("_F", GrantFact, PolicyFact)


def parse_role(value: str) -> Role:
    """The Role named `value`, or UnknownRole naming the valid ones (422)."""
    try:
        return Role(value)
    except ValueError:
        raise UnknownRole(
            f"unknown role {value!r}; roles are: {', '.join(r.value for r in Role)}"
        ) from None


@dataclass(slots=True)
class RulesState:
    """The rules in force after the entries applied so far (`upto`: the last seq seen)."""

    upto: int = -1
    users: dict[str, UserFact] = field(default_factory=dict)
    grants: dict[bytes, GrantFact] = field(default_factory=dict)
    keys: dict[str, ApiKeyFact] = field(default_factory=dict)
    policies: dict[bytes, PolicyFact] = field(default_factory=dict)
    in_force: dict[tuple[str, str], PolicyFact] = field(default_factory=dict)
    rule_entries: int = 0
    last_initial_seq: int | None = None
    unapplied: list[int] = field(default_factory=list)
    """Seqs of rule entries that could not be applied (written around admission)."""
    federated: set[tuple[str, str, str, str, str]] = field(default_factory=set)
    """(issuer, claim, value, role, user) of every identity-provider mapping recorded."""

    # -- questions ---------------------------------------------------------------------

    @property
    def recorded(self) -> bool:
        """True once the ledger records an access set (older ledgers, until upgraded, and
        ledgers nobody signs in to, such as benchmarks, record none)."""
        return bool(self.users)

    def roles_of(self, user: str) -> frozenset[Role]:
        """The roles in force for `user` (none for an unknown user)."""
        fact = self.users.get(user)
        return frozenset(fact.roles) if fact is not None else frozenset()

    def team_of(self, user: str) -> str | None:
        """The team the user was created in, if any."""
        fact = self.users.get(user)
        return None if fact is None else fact.team

    def admins(self) -> list[str]:
        """Users holding the admin role now."""
        return sorted(u.name for u in self.users.values() if Role.ADMIN in u.roles)

    def pending_grants(self) -> list[GrantFact]:
        """Grants of privileged roles waiting for a second admin, oldest first."""
        return sorted((g for g in self.grants.values() if g.pending), key=lambda g: g.seq)

    def api_key(self, key_id: str) -> ApiKeyFact | None:
        """The issued API key with this id, revoked or not."""
        return self.keys.get(key_id)

    def policy_for(self, tier: str | None, environment: str) -> PolicyFact | None:
        """The policy in force for a model of `tier` deployed to `environment`: the most
        specific of (tier, environment), (tier, *), (*, environment), (*, *)."""
        scopes = [(ANY, environment), (ANY, ANY)]
        if tier:
            scopes = [(tier, environment), (tier, ANY), *scopes]
        for scope in scopes:
            if scope in self.in_force:
                return self.in_force[scope]
        return None

    def policies_in_force(self) -> list[PolicyFact]:
        """Every policy in force, by scope."""
        return [self.in_force[s] for s in sorted(self.in_force)]

    def find_grant(self, ref: str) -> GrantFact:
        """The grant named by its seq or entry hash (hex); UnknownEntry otherwise."""
        found = _find(self.grants.values(), ref)
        if found is None:
            raise UnknownEntry(f"no grant of a role at {ref!r} (give its seq or entry hash)")
        return found

    def find_policy(self, ref: str) -> PolicyFact:
        """The proposed policy named by its seq or entry hash (hex); UnknownEntry otherwise."""
        found = _find(self.policies.values(), ref)
        if found is None:
            raise UnknownEntry(f"no proposed policy at {ref!r} (give its seq or entry hash)")
        return found

    def federation_recorded(
        self, issuer: str, claim: str, value: str, role: Role, user: str
    ) -> bool:
        """True once this mapping of a provider's claim to a role has its entry."""
        return (issuer, claim, value, role.value, user) in self.federated

    def copy(self) -> RulesState:
        """An independent copy (admission works on one while a batch is pending)."""
        return copy.deepcopy(self)

    # -- admission ---------------------------------------------------------------------

    def check(self, statement: Statement, seq: int, *, tiers: tuple[str, ...] = ()) -> None:
        """Raise the specific error that refuses this rule entry at `seq`, or return."""
        kind = Kind(statement.kind)
        payload = statement.payload
        if payload.get("initial"):
            self._check_initial(statement, kind, seq)
        elif kind is Kind.ACCESS_FEDERATED:
            if statement.actor != SYSTEM_ACTOR:
                raise Forbidden(
                    f"{kind.value} entries are the ledger's own (actor {SYSTEM_ACTOR}), written "
                    f"at a single sign-on, not {statement.actor}'s"
                )
        elif kind is Kind.POLICY_PROPOSED or kind is Kind.POLICY_APPROVED:
            held = self.roles_of(statement.actor)
            if not any(r in held for r in POLICY_SIGNERS):
                raise Forbidden(
                    f"{kind.value} is for a compliance officer or an admin; {statement.actor} "
                    f"holds {_names(held)}"
                )
        elif not self._own_key_change(statement, kind):
            self._require_admin(statement.actor, kind)
        _CHECKS[kind](self, statement, tiers)

    def _check_initial(self, statement: Statement, kind: Kind, seq: int) -> None:
        if statement.actor != SYSTEM_ACTOR:
            raise Forbidden(
                f"initial access entries are the ledger's own (actor {SYSTEM_ACTOR}), "
                f"not {statement.actor}'s"
            )
        if kind in (Kind.ACCESS_CONFIRMED, Kind.ACCESS_REVOKED, Kind.ACCESS_KEY_REVOKED):
            raise InvalidStatement(f"{kind.value} is never part of the initial access set")
        opening = self.rule_entries == 0
        continuing = self.last_initial_seq is not None and self.last_initial_seq == seq - 1
        if not (opening or continuing):
            admins = ", ".join(self.admins()) or "none"
            raise Conflict(
                "the initial access set is closed (it is written once, as one run of entries, "
                f"before any other rule entry; admins now: {admins}): an admin makes every "
                "access change (govledger users ... with an admin's GOVLEDGER_API_KEY)"
            )

    def _own_key_change(self, statement: Statement, kind: Kind) -> bool:
        if kind not in (Kind.ACCESS_KEY_ISSUED, Kind.ACCESS_KEY_REVOKED):
            return False
        return statement.payload["user"] == statement.actor and bool(self.roles_of(statement.actor))

    def _require_admin(self, actor: str, kind: Kind) -> None:
        held = self.roles_of(actor)
        if Role.ADMIN not in held:
            raise Forbidden(
                f"{kind.value} is an access change and needs the admin role; {actor} holds "
                f"{_names(held)}"
            )

    def _user(self, name: str) -> UserFact:
        fact = self.users.get(name)
        if fact is None:
            raise UnknownEntry(f"no user {name} in the access set: create it first")
        return fact

    def _check_user_created(self, st: Statement, tiers: tuple[str, ...]) -> None:
        name = str(st.payload["user"])
        if name == SYSTEM_ACTOR:
            raise InvalidName(f"{SYSTEM_ACTOR} is the ledger's own name: choose another")
        if st.payload.get("initial") != "migrated":  # names an older release accepted stay
            check_user_name(name)
        if name in self.users:
            raise Conflict(
                f"user {name} already exists (created at seq {self.users[name].created_seq})"
            )

    def _check_granted(self, st: Statement, tiers: tuple[str, ...]) -> None:
        user = self._user(str(st.payload["user"]))
        role = parse_role(str(st.payload["role"]))
        if st.actor == user.name:
            raise FourEyesViolation(
                f"{st.actor} cannot grant a role to themselves (four eyes on access): ask "
                "another admin"
            )
        if role in user.roles:
            raise Conflict(f"{user.name} already holds {role.value}")
        for grant in self.pending_grants():
            if grant.user == user.name and grant.role is role:
                raise Conflict(
                    f"{user.name} already has a pending grant of {role.value} (seq {grant.seq}, "
                    f"entry {grant.entry_hash.hex()}): a second admin confirms it"
                )

    def _check_confirmed(self, st: Statement, tiers: tuple[str, ...]) -> None:
        grant = self.grants.get(bytes.fromhex(str(st.payload["grant"])))
        if grant is None:
            raise UnknownEntry(f"no grant {st.payload['grant']} in the ledger")
        if not grant.pending:
            state = "withdrawn" if grant.withdrawn else f"confirmed at seq {grant.confirmed_seq}"
            raise Conflict(f"the grant at seq {grant.seq} is not pending: {state}")
        if st.actor == grant.granter:
            raise FourEyesViolation(
                f"{st.actor} granted {grant.role.value} to {grant.user} and so cannot confirm it "
                "(four eyes on access): a second admin confirms"
            )
        if st.actor == grant.user:
            raise FourEyesViolation(
                f"{st.actor} cannot confirm a grant to themselves (four eyes on access)"
            )

    def _check_revoked(self, st: Statement, tiers: tuple[str, ...]) -> None:
        user = self._user(str(st.payload["user"]))
        role = parse_role(str(st.payload["role"]))
        pending = [g for g in self.pending_grants() if g.user == user.name and g.role is role]
        if role not in user.roles and not pending:
            raise Conflict(f"{user.name} does not hold {role.value} and has no pending grant of it")
        if role is Role.ADMIN and role in user.roles and self.admins() == [user.name]:
            raise LastAdmin(
                f"{user.name} is the only admin: grant admin to someone else (and have it "
                "confirmed) before revoking it"
            )

    def _check_key_issued(self, st: Statement, tiers: tuple[str, ...]) -> None:
        self._user(str(st.payload["user"]))
        if st.payload["key_id"] in self.keys:
            raise Conflict(f"API key {st.payload['key_id']} was already issued")

    def _check_key_revoked(self, st: Statement, tiers: tuple[str, ...]) -> None:
        key = self.keys.get(str(st.payload["key_id"]))
        if key is None or key.user != st.payload["user"]:
            raise UnknownEntry(f"{st.payload['user']} has no API key {st.payload['key_id']}")
        if key.revoked_seq is not None:
            raise Conflict(f"API key {key.key_id} was already revoked at seq {key.revoked_seq}")

    def _check_federated(self, st: Statement, tiers: tuple[str, ...]) -> None:
        name = str(st.payload["user"])
        role = parse_role(str(st.payload["role"]))
        if role is Role.ADMIN:
            raise Forbidden(
                "the admin role is never granted through an identity provider: an admin "
                "grants it and a second admin confirms (govledger users grant)"
            )
        if name == SYSTEM_ACTOR:
            raise InvalidName(f"{SYSTEM_ACTOR} is the ledger's own name: choose another")
        if name not in self.users:
            check_user_name(name)
        mapping = tuple(str(st.payload[k]) for k in ("issuer", "claim", "value", "role", "user"))
        if mapping in self.federated:
            raise Conflict(f"the mapping {' / '.join(mapping)} is already recorded")

    def _check_policy_proposed(self, st: Statement, tiers: tuple[str, ...]) -> None:
        payload = st.payload
        for name in payload["required"]:
            role = parse_role(str(name))
            if role not in DECIDING:
                raise InvalidStatement(
                    f"a policy cannot require approvals by {role.value}: nobody decides as "
                    f"{role.value}; approvals are made as {_names(DECIDING)}"
                )
        tier = str(payload.get("tier", ANY))
        if tier != ANY and tiers and tier not in tiers:
            raise UnknownMaterialityTier(
                f"materiality tier {tier!r} is not one of the configured tiers "
                f"({', '.join(tiers)}; GOVLEDGER_MATERIALITY_TIERS), nor {ANY} for any"
            )

    def _check_policy_approved(self, st: Statement, tiers: tuple[str, ...]) -> None:
        policy = self.policies.get(bytes.fromhex(str(st.payload["policy"])))
        if policy is None:
            raise UnknownEntry(f"no proposed policy {st.payload['policy']} in the ledger")
        if policy.approved_seq is not None:
            raise Conflict(
                f"the policy of seq {policy.seq} was already approved at seq {policy.approved_seq}"
            )
        if st.actor == policy.proposer:
            raise FourEyesViolation(
                f"{st.actor} proposed this policy and so cannot approve it (four eyes): a "
                "policy is in force once a compliance officer and an admin, two people, "
                "signed it off"
            )
        approver_roles = self.roles_of(st.actor)
        if not _covers(policy.proposer_roles, approver_roles):
            raise Forbidden(
                f"a policy is in force once a compliance officer and an admin, two people, "
                f"signed it off: {policy.proposer} proposed it holding "
                f"{_names(policy.proposer_roles)}, {st.actor} holds {_names(approver_roles)}; "
                "ask the other of the two roles"
            )

    # -- what an admitted entry changes --------------------------------------------------

    def apply(self, seq: int, entry_hash: bytes, statement: Statement) -> None:
        """Fold one admitted entry in (entries of other kinds only advance `upto`).

        An entry that cannot be applied (one naming a grant, user, key or policy the ledger
        does not hold, or a role it does not know: only ever written around admission) changes
        nothing and is listed in `unapplied`, so one bad row cannot stop every later
        admission or sign-in; the replay audit and `govledger verify` name it."""
        self.upto = max(self.upto, seq)
        if not statement.kind.startswith(("access.", "policy.")):
            return
        try:
            self._apply(seq, entry_hash, statement)
        except (KeyError, ValueError, TypeError, AttributeError):
            self.unapplied.append(seq)

    def _apply(self, seq: int, entry_hash: bytes, statement: Statement) -> None:
        """Every look-up that can fail comes before the first change (nothing half-applied)."""
        kind = statement.kind
        payload = statement.payload
        initial = payload.get("initial")
        if kind == Kind.ACCESS_USER_CREATED:
            name = str(payload["user"])
            team = payload.get("team")
            self.users[name] = UserFact(name, None if team is None else str(team), seq)
        elif kind == Kind.ACCESS_GRANTED:
            role = Role(str(payload["role"]))
            self.users[str(payload["user"])]
            grant = GrantFact(entry_hash, seq, str(payload["user"]), role, statement.actor)
            self.grants[entry_hash] = grant
            if role not in PRIVILEGED or initial:
                self._confirm(grant, seq, statement.actor)
        elif kind == Kind.ACCESS_CONFIRMED:
            confirmed = self.grants[bytes.fromhex(str(payload["grant"]))]
            self.users[confirmed.user]
            self._confirm(confirmed, seq, statement.actor)
        elif kind == Kind.ACCESS_REVOKED:
            role = Role(str(payload["role"]))
            user = self.users[str(payload["user"])]
            user.roles.discard(role)
            for grant in self.grants.values():
                if grant.user == user.name and grant.role is role and grant.pending:
                    grant.withdrawn = True
        elif kind == Kind.ACCESS_FEDERATED:
            role = Role(str(payload["role"]))
            mapping = (
                str(payload["issuer"]),
                str(payload["claim"]),
                str(payload["value"]),
                role.value,
                str(payload["user"]),
            )
            name = mapping[4]
            if name not in self.users:
                self.users[name] = UserFact(name, None, seq)
            self.federated.add(mapping)
            grant = GrantFact(entry_hash, seq, name, role, statement.actor)
            self.grants[entry_hash] = grant
            if role not in PRIVILEGED:
                self._confirm(grant, seq, statement.actor)
        elif kind == Kind.ACCESS_KEY_ISSUED:
            key_id = str(payload["key_id"])
            self.keys[key_id] = ApiKeyFact(
                key_id, str(payload["user"]), bytes.fromhex(str(payload["secret_sha256"])), seq
            )
        elif kind == Kind.ACCESS_KEY_REVOKED:
            self.keys[str(payload["key_id"])].revoked_seq = seq
        elif kind == Kind.POLICY_PROPOSED:
            policy = PolicyFact(
                entry_hash=entry_hash,
                seq=seq,
                tier=str(payload.get("tier", ANY)),
                environment=str(payload.get("environment", ANY)),
                required={str(k): int(v) for k, v in payload["required"].items()},
                independent_validation=bool(payload.get("independent_validation", False)),
                proposer=statement.actor,
                proposer_roles=self.roles_of(statement.actor),
                initial=None if initial is None else str(initial),
                champion_comparison=bool(payload.get("champion_comparison", False)),
                rollback_approvals=bool(payload.get("rollback_approvals", False)),
                monitoring_plan=bool(payload.get("monitoring_plan", False)),
                required_evaluations=tuple(
                    str(e) for e in payload.get("required_evaluations") or ()
                ),
                required_regimes=tuple(str(r) for r in payload.get("required_regimes") or ()),
                reviewed_catalogue=bool(payload.get("reviewed_catalogue", False)),
            )
            self.policies[entry_hash] = policy
            if initial:
                self._put_in_force(policy, seq, statement.actor)
        elif kind == Kind.POLICY_APPROVED:
            policy = self.policies[bytes.fromhex(str(payload["policy"]))]
            self._put_in_force(policy, seq, statement.actor)
        self.rule_entries += 1
        if initial:
            self.last_initial_seq = seq

    def _confirm(self, grant: GrantFact, seq: int, confirmer: str) -> None:
        grant.confirmed_seq, grant.confirmer = seq, confirmer
        self.users[grant.user].roles.add(grant.role)

    def _put_in_force(self, policy: PolicyFact, seq: int, approver: str) -> None:
        scope = (policy.tier, policy.environment)
        previous = self.in_force.get(scope)
        if previous is not None:
            previous.superseded_seq = seq
        policy.approved_seq, policy.approver = seq, approver
        self.in_force[scope] = policy


_CHECKS = {
    Kind.ACCESS_USER_CREATED: RulesState._check_user_created,
    Kind.ACCESS_GRANTED: RulesState._check_granted,
    Kind.ACCESS_CONFIRMED: RulesState._check_confirmed,
    Kind.ACCESS_REVOKED: RulesState._check_revoked,
    Kind.ACCESS_KEY_ISSUED: RulesState._check_key_issued,
    Kind.ACCESS_KEY_REVOKED: RulesState._check_key_revoked,
    Kind.ACCESS_FEDERATED: RulesState._check_federated,
    Kind.POLICY_PROPOSED: RulesState._check_policy_proposed,
    Kind.POLICY_APPROVED: RulesState._check_policy_approved,
}


def deployment_policy(
    rules: RulesState, fallback: ApprovalPolicy, tier: str | None, environment: str
) -> ApprovalPolicy:
    """The policy a deployment of a model of `tier` to `environment` must meet: the one in
    force in the ledger, or, in a ledger that records no policy, the configured one."""
    fact = rules.policy_for(tier, environment)
    return fallback if fact is None else fact.as_policy(fallback)


def check_deployment_in_force(
    rules: RulesState,
    fallback: ApprovalPolicy,
    tier: str | None,
    request: PromotionRequest,
) -> list[DecisionFact]:
    """The promotion rule as admission and the replay audit both apply it: the policy in
    force for the model's tier and the environment (approvals counted with the access
    set's teams for independent validation), the bound model file, the serving state
    (`ledger.governance._serving.check_promotion`); the specific error otherwise."""
    policy = deployment_policy(rules, fallback, tier, request.environment)
    return check_promotion(request, policy, rules.team_of)


def initial_access_statements(
    users: Mapping[str, tuple[frozenset[Role], str | None]],
    keys: Mapping[str, tuple[str, bytes]],
    policy: ApprovalPolicy | None,
    *,
    origin: str,
) -> Iterator[dict[str, Any]]:
    """The statements (as `build_statement` arguments) of an initial access set: each user,
    their roles (admin grants last: the set is admitted only while no admin is in force),
    their API keys (`keys`: key_id -> (user, SHA-256 of the secret)), and the policy."""
    initial = {"initial": origin}
    for name, (_, team) in users.items():
        payload: dict[str, Any] = {"user": name, **initial}
        if team:
            payload["team"] = team
        yield {"kind": Kind.ACCESS_USER_CREATED.value, "payload": payload}
    for key_id, (user, secret_hash) in keys.items():
        yield {
            "kind": Kind.ACCESS_KEY_ISSUED.value,
            "payload": {
                "user": user,
                "key_id": key_id,
                "secret_sha256": secret_hash.hex(),
                **initial,
            },
        }
    grants = [(n, r) for n, (roles, _) in users.items() for r in sorted(roles)]
    grants.sort(key=lambda g: g[1] is Role.ADMIN)
    for name, role in grants:
        yield {
            "kind": Kind.ACCESS_GRANTED.value,
            "reason": f"initial access set ({origin})",
            "payload": {"user": name, "role": role.value, **initial},
        }
    if policy is not None:
        yield {
            "kind": Kind.POLICY_PROPOSED.value,
            "reason": f"initial approval policy ({origin}): GOVLEDGER_APPROVAL_POLICY",
            "payload": {
                "tier": ANY,
                "environment": ANY,
                "required": dict(policy.required),
                **initial,
            },
        }


def _find(facts: Iterable[_F], ref: str) -> _F | None:
    wanted = ref.strip().lower()
    for fact in facts:
        if str(fact.seq) == wanted or fact.entry_hash.hex() == wanted:
            return fact
    return None


def _covers(proposer: frozenset[Role], approver: frozenset[Role]) -> bool:
    compliance, admin = POLICY_SIGNERS
    return (compliance in proposer and admin in approver) or (
        admin in proposer and compliance in approver
    )


def _names(roles: frozenset[Role] | set[Role]) -> str:
    return ", ".join(sorted(r.value for r in roles)) or "no role"
