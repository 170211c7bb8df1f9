"""The replay audit: every entry re-checked against the rules in force at its seq.

An examiner asks four questions of a model's record (SR 26-2 separation of duties and
effective challenge; ISO/IEC 27001 A.5.18 access rights; EU AI Act Art. 12 and 14): was
every decision made by someone who held that role at the time, did no one approve what
they built, did every deployment meet the approval policy in force for its materiality tier
and environment then, and was no refused request later accepted anyway? Verification
(`verify_ledger`) proves that the entries are the ones recorded; this replay proves that
what they record was allowed when it was recorded.

`replay_rules` folds entries in seq order with the ledger's one fold of its rules
(`RulesState.apply`) and the few model facts those rules read (each version's run and who
logged it, decisions, reason catalogues, materiality tiers, stops), and re-checks each
entry with the very functions admission calls (`ledger.governance`): `RulesState.check`
for a rule entry; for any other entry `authorize_statement` with the roles in force, four
eyes on decisions and oversight, and for a deployment `check_not_stopped` and
`check_deployment_in_force` (the policy in force, the serving state folded so far, the
bound model file, the champion comparison) with the teams of the access set. No rule is
restated here, so a rule changed in governance changes the replay with it. A promotion
that names no model file was written before promotions were bound to one: it is checked
against the approval policy alone and counted (`unbound_promotions`).

Which entries are *gated* follows the write gate: every entry once the ledger records an
access set (`RulesState.recorded`), except `request.refused` (the ledger's own record of a
refusal) and the initial access set (`payload.initial`, written by the ledger itself; the
replay still checks that it is one unbroken run before any other rule entry). Entries
before any access set (a ledger from an older release, until upgraded) are counted as not
gated: nobody's roles were recorded then. Every entry, violating or not, is folded in as
the ledger folds it, so each check reads the state the service acted on.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ledger.errors import GovledgerError, UnknownModelVersion, VerificationError
from ledger.governance import (
    ApprovalPolicy,
    ComparisonFact,
    DecisionFact,
    MonitoringFacts,
    OversightFact,
    PlanState,
    Principal,
    PromotionFact,
    RulesState,
    RunFact,
    ServingHistory,
    authorize_statement,
    check_deployment,
    check_deployment_in_force,
    check_four_eyes,
    check_not_stopped,
    check_oversight_four_eyes,
    check_plan,
    check_report,
    check_response,
    comparison_from,
    decision_fact,
    deployment_policy,
    oversight_fact,
    plan_states,
    promotion_request,
    run_fact,
    serving_event,
)
from ledger.log.entries import Entry, Statement
from ledger.log.kinds import DECISION_KINDS, MONITORING_KINDS, RULE_KINDS, RUN_KINDS, Kind
from ledger.log.timestamps import parse_rfc3339

if TYPE_CHECKING:
    from ledger.store import LedgerStore

MAX_LISTED = 1000
"""How many violations a report lists (all are counted): the first is the one to chase."""

NO_RULES_ADVICE = (
    "upgrade it with `govledger init` (a ledger of an older release carries its users into "
    "the log) or record the initial access set (`govledger users add NAME --role admin` "
    "without GOVLEDGER_API_KEY)"
)

_RUN_KINDS = frozenset(k.value for k in RUN_KINDS)
_DECISION_KINDS = frozenset(k.value for k in DECISION_KINDS)
_RULE_KINDS = frozenset(k.value for k in RULE_KINDS)
_MODEL_FILE = '"role":"model"'
_COMPARED = '"compared_with":'
_BREACHES = '"breaches":'
"""Substrings of canonical payload text that tell which runs and evaluations to parse."""
_MONITORING_KINDS = frozenset(k.value for k in MONITORING_KINDS)
_MALFORMED = (KeyError, ValueError, TypeError)
"""What reading a payload that no admission would have taken raises (a row edited in the
database); the replay records it as a violation instead of stopping."""


@dataclass(frozen=True, slots=True)
class RuleViolation:
    """An entry the rules in force at its seq would have refused, and why."""

    seq: int
    kind: str
    actor: str
    model: str
    version: str
    problem: str
    """The slug of the refusal admission would have raised (`four-eyes-violation`...)."""
    why: str
    refused_seq: int | None = None
    """The earlier `request.refused` entry of the same request (actor, kind, model,
    version) that this entry accepts anyway: silently accepted."""

    def describe(self) -> str:
        """e.g. 'approval.granted of credit-scoring 1.0 by victor, against the rules in force
        then: victor cannot decide as validator: they do not hold that role'."""
        subject = " ".join(part for part in (self.model, self.version) if part)
        about = f" of {subject}" if subject else ""
        text = f"{self.kind}{about} by {self.actor}, against the rules in force then: {self.why}"
        if self.refused_seq is not None:
            text += (
                f" (silently accepted: it accepts what seq {self.refused_seq} refused for "
                "the same actor, kind, model and version)"
            )
        return text

    def to_dict(self) -> dict[str, object]:
        """JSON form (API, --json)."""
        return {
            "seq": self.seq,
            "kind": self.kind,
            "actor": self.actor,
            "model": self.model,
            "version": self.version,
            "problem": self.problem,
            "why": self.why,
            "refused_seq": self.refused_seq,
            "silently_accepted": self.refused_seq is not None,
        }


@dataclass(frozen=True, slots=True)
class RulesReplayReport:
    """The outcome of a replay: how much was gated, and every violation (the first first).

    `ok` only when the ledger records an access set and no gated entry breaks the rules in
    force at its seq; a ledger with no access set has no rules to replay and is not ok."""

    entries: int
    gated: int
    not_gated: int
    """Entries before the ledger recorded any access set."""
    initial: int
    """Entries of the initial access set (checked as one run, not gated)."""
    refusals: int
    access_set_seq: int | None
    """The seq of the first user of the access set; None: the ledger records none."""
    violations: tuple[RuleViolation, ...] = ()
    """The first MAX_LISTED violations, in seq order."""
    violation_count: int = 0
    configured_policy_used: int = 0
    """Deployments checked against the configured policy, for want of one in the ledger."""
    unbound_promotions: int = 0
    """Gated promotions that name no model file (written before promotions were bound)."""
    seconds: float = 0.0

    @property
    def recorded(self) -> bool:
        """True when the ledger records an access set, so there are rules to replay."""
        return self.access_set_seq is not None

    @property
    def ok(self) -> bool:
        """Rules to replay, and no violation of them."""
        return self.recorded and self.violation_count == 0

    @property
    def first_violation(self) -> RuleViolation | None:
        """The violation at the lowest seq, if any."""
        return self.violations[0] if self.violations else None

    def summary(self) -> str:
        """One line: "OK: N gated entries replayed, 0 violations ...", the first violation,
        or that there are no rules to replay."""
        if not self.recorded:
            return (
                f"no rules to replay: the ledger ({self.entries} entries) records no access "
                f"set; {NO_RULES_ADVICE}"
            )
        first = self.first_violation
        if first is not None:
            more = self.violation_count - 1
            others = f"; {more} more violation{'s' if more != 1 else ''}" if more else ""
            return f"FAILED at seq {first.seq}: {first.problem}: {first.describe()}{others}"
        notes = [f"access set recorded from seq {self.access_set_seq}"]
        if self.not_gated:
            notes.append(f"{self.not_gated} earlier entries not gated (no access set then)")
        if self.refusals:
            notes.append(f"{self.refusals} recorded refusals")
        if self.unbound_promotions:
            notes.append(
                f"{self.unbound_promotions} promotions name no model file (written before "
                "deployments were bound to one; checked against the approval policy alone)"
            )
        if self.configured_policy_used:
            notes.append(
                f"{self.configured_policy_used} deployments checked against the configured "
                "policy (none in the ledger)"
            )
        return (
            f"OK: {self.gated} gated entries replayed, 0 violations ({'; '.join(notes)}) "
            f"in {self.seconds:.2f}s"
        )

    def to_dict(self) -> dict[str, object]:
        """JSON form for the API and the CLI's --json."""
        first = self.first_violation
        return {
            "ok": self.ok,
            "recorded": self.recorded,
            "entries": self.entries,
            "gated": self.gated,
            "not_gated": self.not_gated,
            "initial": self.initial,
            "refusals": self.refusals,
            "access_set_seq": self.access_set_seq,
            "violation_count": self.violation_count,
            "violations": [v.to_dict() for v in self.violations],
            "first_violation": None if first is None else first.to_dict(),
            "configured_policy_used": self.configured_policy_used,
            "unbound_promotions": self.unbound_promotions,
            "seconds": round(self.seconds, 3),
            "message": self.summary(),
        }


@dataclass
class _Replay:
    """The fold: the rules (RulesState) and the model facts the checks read."""

    policy: ApprovalPolicy
    rules: RulesState = field(default_factory=RulesState)
    runs: dict[tuple[str, str], RunFact] = field(default_factory=dict)
    catalogues: dict[bytes, RunFact] = field(default_factory=dict)
    decisions: dict[tuple[str, str], list[DecisionFact]] = field(default_factory=dict)
    oversight: dict[tuple[str, str], list[OversightFact]] = field(default_factory=dict)
    tiers: dict[str, str | None] = field(default_factory=dict)
    key_owners: dict[str, str] = field(default_factory=dict)
    run_payloads: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    serving: dict[str, ServingHistory] = field(default_factory=dict)
    comparisons: dict[tuple[str, str], list[ComparisonFact]] = field(default_factory=dict)
    unbound_promotions: int = 0
    monitoring: dict[tuple[str, str], MonitoringFacts] = field(default_factory=dict)
    cited: dict[bytes, tuple[str, str, str, dict[str, Any]]] = field(default_factory=dict)
    """What a monitoring response may cite: recalibrations naming breaches, oversight
    records; by entry hash, (kind, model, version, payload)."""
    now: str = ""
    """The recorded_at of the entry being checked: the clock admission read."""
    refused: dict[tuple[str, str, str, str], int] = field(default_factory=dict)
    violations: list[RuleViolation] = field(default_factory=list)
    violation_count: int = 0
    entries: int = 0
    gated: int = 0
    not_gated: int = 0
    initial: int = 0
    refusals: int = 0
    access_set_seq: int | None = None
    configured_policy_used: int = 0

    def feed(self, entry: Entry) -> None:
        """Check one entry against the state before it, then fold it in."""
        if entry.seq != self.entries:
            raise VerificationError(
                f"the rules replay needs every entry from seq 0 in order, but entry "
                f"{entry.seq} came where {self.entries} was due: a partial log cannot be "
                "replayed (export the whole ledger with `govledger export`)",
                seq=entry.seq,
            )
        self.entries += 1
        self.now = entry.recorded_at
        statement = entry.statement
        kind = statement.kind
        try:
            payload = statement.payload if _reads_payload(kind) else {}
            if kind in _RULE_KINDS:
                self._check_rule(entry, payload)
            elif kind == Kind.REQUEST_REFUSED:
                self.refusals += 1
                key = (statement.actor, str(payload.get("attempted_kind", "")))
                self.refused[(*key, statement.model, statement.version)] = entry.seq
            elif self.rules.recorded:
                self.gated += 1
                self._check_gated(statement, payload)
            else:
                self.not_gated += 1
        except GovledgerError as refusal:
            self._violation(entry, refusal.slug, refusal.message)
            violated = True
        except _MALFORMED as exc:
            self._violation(entry, "malformed", f"its payload cannot be read ({exc!r})")
            return
        else:
            violated = False
        try:
            self._fold(entry, payload)
        except _MALFORMED as exc:  # only an entry its check refused can fail to apply
            if not violated:
                self._violation(entry, "malformed", f"it cannot be applied ({exc!r})")

    # -- checks: the functions admission calls ---------------------------------------------

    def _check_rule(self, entry: Entry, payload: dict[str, Any]) -> None:
        if payload.get("initial"):
            self.initial += 1
        else:
            self.gated += 1
        self.rules.check(entry.statement, entry.seq, tiers=self.policy.materiality_tiers)

    def _check_gated(self, statement: Statement, payload: dict[str, Any]) -> None:
        kind = statement.kind
        owner = None
        if kind == Kind.KEY_REVOKED:
            owner = self.key_owners.get(str(payload.get("key_id", "")))
        principal = Principal(statement.actor, self.rules.roles_of(statement.actor))
        authorize_statement(principal, statement, key_owner=owner)
        if kind in _DECISION_KINDS:
            run = self._run(statement)
            subject: RunFact | None = run
            if payload.get("run") is None:  # a decision on a catalogue of the version
                decided = bytes.fromhex(str(payload["subject"]))
                subject = run if decided == run.entry_hash else self.catalogues.get(decided)
            if subject is not None:  # an unknown subject is a bad reference (verify_ledger)
                check_four_eyes(subject, statement.actor)
        elif kind == Kind.DEPLOYMENT_PROMOTED:
            self._check_promotion(statement, payload)
        elif kind == Kind.OVERSIGHT_RECORDED:
            run = self._run(statement)
            check_oversight_four_eyes(run, statement.actor, str(payload["action"]))
        elif kind == Kind.MONITORING_PLAN:
            check_plan(payload)
        elif kind == Kind.MONITORING_REPORTED:
            self._run(statement)
            check_report(
                payload,
                model=statement.model,
                version=statement.version,
                states=self._plan_states(statement, str(payload.get("environment", "production"))),
                history=self._history(statement.model),
                now=parse_rfc3339(self.now),
            )
        elif kind == Kind.MONITORING_RESPONDED:
            self._check_response(statement, payload)

    def _plan_states(self, statement: Statement, environment: str) -> list[PlanState]:
        key = (statement.model, statement.version)
        policy = deployment_policy(
            self.rules, self.policy, self.tiers.get(statement.model), environment
        )
        plans = self.monitoring.get(key, MonitoringFacts()).plans
        return plan_states(policy, plans, self.decisions.get(key, []), self.rules.team_of)

    def _check_response(self, statement: Statement, payload: dict[str, Any]) -> None:
        run = self._run(statement)
        facts = self.monitoring.get((statement.model, statement.version), MonitoringFacts())
        wanted = bytes.fromhex(str(payload["report"]))
        report = next((r for r in facts.reports if r.entry_hash == wanted), None)
        plan = (
            None
            if report is None
            else next((p for p in facts.plans if p.entry_hash == report.plan), None)
        )

        def cited(entry_hash: bytes) -> tuple[str, str, dict[str, Any]] | None:
            found = self.cited.get(entry_hash)
            if found is None or found[1] != statement.model:
                return None
            return found[0], found[2], found[3]

        check_response(
            payload,
            actor=statement.actor,
            actor_roles=self.rules.roles_of(statement.actor),
            run=run,
            report=report,
            plan=plan,
            cited=cited,
            now=parse_rfc3339(self.now),
        )

    def _check_promotion(self, statement: Statement, payload: dict[str, Any]) -> None:
        run = self._run(statement)
        key = (statement.model, statement.version)
        check_not_stopped(statement.model, statement.version, self.oversight.get(key, []))
        tier = self.tiers.get(statement.model)
        environment = str(payload.get("environment", "production"))
        if self.rules.policy_for(tier, environment) is None:
            self.configured_policy_used += 1
        decisions = self.decisions.get(key, [])
        if payload.get("model_sha256") is None:
            self.unbound_promotions += 1
            policy = deployment_policy(self.rules, self.policy, tier, environment)
            check_deployment(policy, run, decisions, self.rules.team_of)
            return
        request = promotion_request(
            payload,
            history=self._history(statement.model),
            run=run,
            run_payload=self.run_payloads.get(key, {}),
            decisions=decisions,
            comparisons=self.comparisons.get(key, []),
            run_of=lambda version: self.runs.get((statement.model, version)),
            monitored_in=frozenset(
                s.plan.environment for s in self._plan_states(statement, environment) if s.in_force
            ),
        )
        check_deployment_in_force(self.rules, self.policy, tier, request)

    def _history(self, model: str) -> ServingHistory:
        if model not in self.serving:
            self.serving[model] = ServingHistory(self.policy.shadow_environments)
        return self.serving[model]

    def _run(self, statement: Statement) -> RunFact:
        run = self.runs.get((statement.model, statement.version))
        if run is None:
            raise UnknownModelVersion(
                f"{statement.model} {statement.version} had no training run at this seq"
            )
        return run

    def _violation(self, entry: Entry, problem: str, why: str) -> None:
        st = entry.statement
        refused = self.refused.get((st.actor, st.kind, st.model, st.version))
        self.violation_count += 1
        if len(self.violations) < MAX_LISTED:
            self.violations.append(
                RuleViolation(entry.seq, st.kind, st.actor, st.model, st.version, problem, why,
                              refused)
            )  # fmt: skip

    # -- the fold ----------------------------------------------------------------------

    def _fold(self, entry: Entry, payload: dict[str, Any]) -> None:
        st = entry.statement
        kind, key = st.kind, (st.model, st.version)
        if kind in _RULE_KINDS:
            self.rules.apply(entry.seq, entry.entry_hash, st)
            if self.access_set_seq is None and self.rules.recorded:
                self.access_set_seq = entry.seq
        elif kind in _RUN_KINDS:
            self.runs.setdefault(
                key, run_fact(entry.entry_hash, entry.seq, kind, st.model, st.version, st.actor)
            )
            if _MODEL_FILE in st.payload_json:  # parse only the runs that cite a model file
                self.run_payloads.setdefault(key, st.payload)
            if _BREACHES in st.payload_json:  # a recalibration answering a breach
                self.cited[entry.entry_hash] = (kind, st.model, st.version, st.payload)
        elif kind in (Kind.DEPLOYMENT_PROMOTED, Kind.MODEL_RETIRED):
            event = serving_event(
                entry.seq,
                entry.entry_hash,
                kind,
                st.actor,
                st.model,
                st.version,
                entry.recorded_at,
                st.reason,
                st.payload_json,
            )
            history = self._history(st.model)
            if isinstance(event, PromotionFact):
                history.promote(event)
            else:
                history.retire(event)
        elif kind == Kind.EVALUATION_RECORDED and _COMPARED in st.payload_json:
            found = comparison_from(entry.seq, entry.entry_hash, st.version, st.payload_json)
            if found is not None:
                self.comparisons.setdefault(key, []).append(found)
        elif kind in _DECISION_KINDS:
            self.decisions.setdefault(key, []).append(
                decision_fact(entry.seq, entry.entry_hash, st.actor, kind, st.reason,
                              st.payload_json)
            )  # fmt: skip
        elif kind == Kind.MODEL_REGISTERED:
            tier = payload.get("materiality_tier")
            self.tiers[st.model] = None if tier is None else str(tier)
        elif kind == Kind.CATALOGUE_RECORDED:
            self.catalogues[entry.entry_hash] = run_fact(
                entry.entry_hash, entry.seq, kind, st.model, st.version, st.actor
            )
        elif kind == Kind.OVERSIGHT_RECORDED:
            self.oversight.setdefault(key, []).append(
                oversight_fact(
                    entry.seq,
                    entry.entry_hash,
                    st.actor,
                    st.reason,
                    st.payload_json,
                    entry.recorded_at,
                )
            )
            action = {"action": payload.get("action")}
            self.cited[entry.entry_hash] = (kind, st.model, st.version, action)
        elif kind in _MONITORING_KINDS:
            facts = self.monitoring.setdefault(key, MonitoringFacts())
            facts.add(entry.seq, entry.entry_hash, kind, st.actor, st.model, st.version,
                      entry.recorded_at, st.payload_json)  # fmt: skip
            if kind == Kind.MONITORING_PLAN:  # decided on like a catalogue (four eyes)
                self.catalogues[entry.entry_hash] = run_fact(
                    entry.entry_hash, entry.seq, kind, st.model, st.version, st.actor
                )
        elif kind == Kind.KEY_REGISTERED:
            self.key_owners.setdefault(str(payload["key_id"]), st.actor)

    def report(self, seconds: float) -> RulesReplayReport:
        return RulesReplayReport(
            entries=self.entries,
            gated=self.gated,
            not_gated=self.not_gated,
            initial=self.initial,
            refusals=self.refusals,
            access_set_seq=self.access_set_seq,
            violations=tuple(self.violations),
            violation_count=self.violation_count,
            configured_policy_used=self.configured_policy_used,
            unbound_promotions=self.unbound_promotions,
            seconds=seconds,
        )


_PAYLOAD_KINDS = _RULE_KINDS | {
    Kind.REQUEST_REFUSED,
    Kind.APPROVAL_GRANTED,
    Kind.APPROVAL_REJECTED,
    Kind.DEPLOYMENT_PROMOTED,
    Kind.OVERSIGHT_RECORDED,
    Kind.MONITORING_PLAN,
    Kind.MONITORING_REPORTED,
    Kind.MONITORING_RESPONDED,
    Kind.MODEL_REGISTERED,
    Kind.KEY_REGISTERED,
    Kind.KEY_REVOKED,
}
"""The kinds whose payload the replay reads (most entries, runs and evaluations, are not)."""


def _reads_payload(kind: str) -> bool:
    return kind in _PAYLOAD_KINDS


def replay_rules(
    entries: Iterable[Entry], *, policy: ApprovalPolicy | None = None
) -> RulesReplayReport:
    """Replay `entries` (every entry from seq 0, in seq order) against the rules in force at
    each seq; return the report.

    `policy` is the configured approval policy: what admission checks a deployment against
    when the ledger records none for its tier and environment (and its materiality tiers,
    what a policy's tier may name). Raises VerificationError when the entries do not run
    gaplessly from seq 0: a partial log cannot be replayed."""
    started = time.perf_counter()
    replay = _Replay(policy=policy or ApprovalPolicy())
    for entry in entries:
        replay.feed(entry)
    return replay.report(time.perf_counter() - started)


def replay_ledger_rules(store: LedgerStore, *, chunk: int = 10_000) -> RulesReplayReport:
    """`replay_rules` over every entry of the ledger in the database, with its configured
    policy; run `verify_ledger` first to know that the entries are the recorded ones."""
    return replay_rules(store.iter_entries(chunk=chunk), policy=store.policy)
