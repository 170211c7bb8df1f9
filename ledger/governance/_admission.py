"""Whether a submitted statement may join the ledger, given what the ledger holds.

Run inside the append transaction (under the sequencer lock), so the facts it reads cannot
change before the entry is written. Every refusal is a specific GovledgerError and nothing is
written: signatures (registered, unrevoked key of the actor, valid over the canonical
statement, not replayed, fresh), and the state rules (version logged once, approvals of
known versions only, four eyes, deployment policy, retirement; materiality tiers and
reasoned amendments of the inventory, catalogues naming scored features only, decisions on a
catalogue, and no deployment of a stopped version).

Signatures follow the strict Ed25519 rule of `ledger.ed25519_strict` (one base64 spelling,
no weak keys, S < L), and a replay is a signature whose bytes, or a statement whose SHA-256,
the ledger already holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ledger.errors import (
    Conflict,
    InvalidStatement,
    KeyNotOwned,
    KeyRevoked,
    ModelRetired,
    ReplayedStatement,
    SignatureInvalid,
    SignatureRequired,
    StaleStatement,
    UnknownEntry,
    UnknownKey,
    UnknownModelVersion,
    VersionAlreadyLogged,
)
from ledger.governance._catalogue import (
    CatalogueState,
    catalogue_states,
    check_catalogue,
    scored_features,
)
from ledger.governance._citations import Cited, citation_problem, citations_of, cited_hash, may_cite
from ledger.governance._evidence import (
    RegimeGaps,
    VersionEvidence,
    check_evidence,
    gather_evidence,
)
from ledger.governance._facts import LedgerFacts
from ledger.governance._inventory import check_registration, check_run_registered
from ledger.governance._monitoring import (
    PlanState,
    check_plan,
    check_report,
    check_response,
    plan_states,
)
from ledger.governance._oversight import check_not_stopped, check_oversight
from ledger.governance._permissions import authorize_statement
from ledger.governance._policy import (
    ApprovalPolicy,
    RunFact,
    check_four_eyes,
    check_not_repeated,
    check_oversight_four_eyes,
)
from ledger.governance._roles import Principal
from ledger.governance._rules import RulesState, check_deployment_in_force, deployment_policy
from ledger.governance._scoring import DecisionRetention, check_batch, check_erasure, check_purge
from ledger.governance._serving import (
    PromotionRequest,
    check_environment,
    promotion_request,
    serving_history,
)
from ledger.log import ed25519_strict, signing, webauthn
from ledger.log.decision_batch import DecisionBatch
from ledger.log.entries import Statement
from ledger.log.kinds import DECISION_KINDS, RULE_KINDS, RUN_KINDS, SIGNATURE_REQUIRED, Kind
from ledger.log.names import check_model_name, check_version_name, model_name_problem
from ledger.log.timestamps import parse_rfc3339

_KEY_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True, slots=True)
class Submission:
    """A statement as submitted, with the actor's signature if any.

    `gated`: submitted on a user's behalf through the store's write gate, so admission checks
    that the actor holds, at this seq, a role that may submit it (`authorize_statement` over
    the roles of `LedgerFacts.rules()`). Writes that no user makes (fixtures, benchmarks,
    imports) are not gated; rule entries are checked whichever way they come."""

    statement: Statement
    signature: str | None = None
    key_id: str | None = None
    gated: bool = False
    decisions: DecisionBatch | None = None
    """A `scoring.batch` statement's decisions (`ledger.log.scoring.parse_batch`): the
    store writes their detail rows in the transaction of the entry."""


@dataclass(frozen=True, slots=True)
class FreshnessWindow:
    """How far a signed statement's issued_at may be from the ledger clock."""

    max_age: timedelta = timedelta(hours=24)
    max_future: timedelta = timedelta(minutes=5)


def admit(
    submission: Submission,
    facts: LedgerFacts,
    policy: ApprovalPolicy,
    now: datetime,
    window: FreshnessWindow,
    *,
    seq: int,
    retention: DecisionRetention = DecisionRetention(),
    regime_gaps: RegimeGaps | None = None,
) -> None:
    """Raise the specific error that refuses this submission at `seq`, or return if it may
    be appended there; `regime_gaps` evaluates the regime checklists a policy may require
    (`ledger.governance._evidence`)."""
    statement = submission.statement
    kind = Kind(statement.kind)
    rules = facts.rules()
    if submission.gated and rules.recorded and kind not in RULE_KINDS:
        _check_role_in_force(submission, rules, facts)
    _check_new_names(statement, kind, facts)
    _check_signature(submission, kind, facts, now, window)
    if kind in RULE_KINDS:
        rules.check(statement, seq, tiers=policy.materiality_tiers)
    elif kind in RUN_KINDS:
        _check_run(statement, kind, facts)
        if submission.gated:
            check_run_registered(
                statement,
                registered_at_seq=facts.registration_seq(statement.model),
                registered_models=facts.registered_models,
            )
    elif kind in DECISION_KINDS:
        _check_decision(statement, facts)
    elif kind is Kind.EVALUATION_RECORDED:
        run = _require_version(statement, facts)
        other = statement.payload.get("compared_with")
        if other is not None and bytes.fromhex(str(other)) == run.entry_hash:
            raise InvalidStatement(
                f"compared_with names the run of {statement.model} {statement.version} "
                "itself: a comparison names the other version's run (the champion's)"
            )
    elif kind is Kind.DEPLOYMENT_PROMOTED:
        run = _require_version(statement, facts)
        check_not_stopped(
            statement.model, statement.version, facts.oversight_for(run.model, run.version)
        )
        request = _promotion(statement, run, facts, policy)
        check_deployment_in_force(rules, policy, facts.materiality_tier(statement.model), request)
        in_force = deployment_policy(
            rules, policy, facts.materiality_tier(statement.model), request.environment
        )
        if not request.rollback or in_force.rollback_approvals:  # a rollback: admitted before
            check_evidence(
                in_force,
                statement.model,
                statement.version,
                version_evidence(
                    statement.model, statement.version, request.environment, facts, policy,
                    regime_gaps,
                ),
            )  # fmt: skip
    elif kind is Kind.MONITORING_PLAN:
        _require_version(statement, facts)
        check_plan(statement.payload)
        check_environment(str(statement.payload.get("environment", "production")), policy)
    elif kind is Kind.MONITORING_REPORTED:
        _require_version(statement, facts)
        promotions, retirements = facts.serving_events(statement.model)
        check_report(
            statement.payload,
            model=statement.model,
            version=statement.version,
            states=_plan_states(statement, facts, policy),
            history=serving_history(promotions, retirements, policy.shadow_environments),
            now=now,
        )
    elif kind is Kind.MONITORING_RESPONDED:
        _check_response(statement, _require_version(statement, facts), facts, now)
    elif kind is Kind.SERVING_CHECKED:
        if statement.version:
            _require_version(statement, facts)
        elif not facts.model_known(statement.model):
            raise UnknownModelVersion(f"model {statement.model!r} is not in the ledger")
    elif kind is Kind.MODEL_REGISTERED:
        check_registration(
            statement, policy, registered_at_seq=facts.registration_seq(statement.model)
        )
    elif kind is Kind.CATALOGUE_RECORDED:
        _require_version(statement, facts)
        model, version = statement.model, statement.version
        run_payload = facts.run_payload(model, version) or {}
        check_catalogue(
            model,
            version,
            statement.payload,
            scored_features(run_payload),
            facts.catalogue_versions(model, version),
        )
    elif kind is Kind.OVERSIGHT_RECORDED:
        run = _require_version(statement, facts)
        check_oversight_four_eyes(run, statement.actor, str(statement.payload["action"]))
        check_oversight(
            statement.model,
            statement.version,
            str(statement.payload["action"]),
            facts.oversight_for(statement.model, statement.version),
        )
    elif kind is Kind.MODEL_RETIRED:
        if statement.version:
            _require_version(statement, facts)
        elif not facts.model_known(statement.model):
            raise UnknownModelVersion(f"model {statement.model!r} is not in the ledger")
    elif kind is Kind.SCORING_BATCH:
        _check_scoring_batch(submission, facts, policy)
    elif kind is Kind.SCORING_ERASED:
        ids = [str(i) for i in statement.payload["decision_ids"]]
        check_erasure(statement.payload, facts.decision_details(ids))
    elif kind is Kind.SCORING_PURGED:
        before = str(statement.payload["before"])
        check_purge(statement.payload, now, retention, facts.purgeable_batches(before))
    elif kind is Kind.KEY_REVOKED:
        key = facts.signing_key(str(statement.payload["key_id"]))
        if key is None:
            raise UnknownKey(f"key {statement.payload['key_id']} is not registered")
        if key.revoked:
            raise Conflict(f"key {key.key_id} is already revoked")
    _check_citations(statement, facts)


def _plan_states(
    statement: Statement, facts: LedgerFacts, policy: ApprovalPolicy, environment: str = ""
) -> list[PlanState]:
    """The version's monitoring plans with their status under the policy in force for the
    model's tier and the environment (the statement's, unless given)."""
    env = environment or str(statement.payload.get("environment", "production"))
    rules = facts.rules()
    in_force = deployment_policy(rules, policy, facts.materiality_tier(statement.model), env)
    return plan_states(
        in_force,
        facts.monitoring_for(statement.model, statement.version).plans,
        facts.decisions_for(statement.model, statement.version),
        rules.team_of,
    )


def _check_response(statement: Statement, run: RunFact, facts: LedgerFacts, now: datetime) -> None:
    monitoring = facts.monitoring_for(statement.model, statement.version)
    wanted = bytes.fromhex(str(statement.payload["report"]))
    report = next((r for r in monitoring.reports if r.entry_hash == wanted), None)
    plan = (
        None
        if report is None
        else next((p for p in monitoring.plans if p.entry_hash == report.plan), None)
    )
    rules = facts.rules()

    def cited(entry_hash: bytes) -> tuple[str, str, dict[str, Any]] | None:
        found = facts.subject_by_hash(entry_hash)
        if found is None or found.model != statement.model:
            return None
        if found.kind in RUN_KINDS:
            return found.kind, found.version, facts.run_payload(found.model, found.version) or {}
        if found.kind == Kind.OVERSIGHT_RECORDED.value:
            actions = facts.oversight_for(found.model, found.version)
            action = next((o.action for o in actions if o.entry_hash == entry_hash), "")
            return found.kind, found.version, {"action": action}
        return found.kind, found.version, {}

    check_response(
        statement.payload,
        actor=statement.actor,
        actor_roles=rules.roles_of(statement.actor) if rules.recorded else None,
        run=run,
        report=report,
        plan=plan,
        cited=cited,
        now=now,
    )


def _promotion(
    statement: Statement, run: RunFact, facts: LedgerFacts, policy: ApprovalPolicy
) -> PromotionRequest:
    """The facts a promotion's rules read: the model's serving history, the run's payload
    (its model files), the decisions, the comparisons, other versions' runs."""
    promotions, retirements = facts.serving_events(statement.model)
    return promotion_request(
        statement.payload,
        history=serving_history(promotions, retirements, policy.shadow_environments),
        run=run,
        run_payload=facts.run_payload(run.model, run.version) or {},
        decisions=facts.decisions_for(statement.model, statement.version),
        comparisons=facts.comparisons_for(statement.model, statement.version),
        run_of=lambda version: facts.run_for(statement.model, version),
        monitored_in=frozenset(
            s.plan.environment for s in _plan_states(statement, facts, policy) if s.in_force
        ),
    )


def _check_scoring_batch(
    submission: Submission, facts: LedgerFacts, policy: ApprovalPolicy
) -> None:
    """A batch of decisions (`ledger.governance._scoring.check_batch`) of a logged version,
    in a configured environment."""
    statement, batch = submission.statement, submission.decisions
    if facts.run_for(statement.model, statement.version) is None:
        raise UnknownModelVersion(
            f"{statement.model} {statement.version} was never logged: its decisions cannot be "
            "recorded"
        )
    environment = str(statement.payload["environment"])
    check_environment(environment, policy)
    promotions, retirements = facts.serving_events(statement.model)
    oversight = {statement.version: facts.oversight_for(statement.model, statement.version)}
    check_batch(
        statement,
        batch,
        history=serving_history(
            promotions, retirements, policy.shadow_environments, oversight=oversight
        ),
        catalogue=catalogue_in_force(
            statement.model, statement.version, environment, facts, policy
        ),
        taken={} if batch is None else facts.decisions_taken(batch.decision_ids),
    )


def version_evidence(
    model: str,
    version: str,
    environment: str,
    facts: LedgerFacts,
    policy: ApprovalPolicy,
    regime_gaps: RegimeGaps | None = None,
) -> VersionEvidence:
    """What the version has of the evidence the policy in force for its tier and
    `environment` may require (`ledger.governance._evidence`): its evaluations, a reason
    catalogue approved under that policy, and the required regimes' gaps."""
    in_force = deployment_policy(facts.rules(), policy, facts.materiality_tier(model), environment)
    if not (
        in_force.required_evaluations or in_force.required_regimes or in_force.reviewed_catalogue
    ):
        return VersionEvidence()  # nothing required: no query
    return gather_evidence(
        in_force,
        model,
        version,
        evaluations=facts.evaluations_for(model, version) if in_force.required_evaluations else (),
        catalogue_reviewed=in_force.reviewed_catalogue
        and catalogue_in_force(model, version, environment, facts, policy) is not None,
        regime_gaps=regime_gaps,
    )


def catalogue_in_force(
    model: str, version: str, environment: str, facts: LedgerFacts, policy: ApprovalPolicy
) -> CatalogueState | None:
    """The reason catalogue in force for a version: the latest one approved under the
    policy in force for the model's tier and the environment."""
    catalogues = facts.catalogues_for(model, version)
    if not catalogues:
        return None
    rules = facts.rules()
    in_force = deployment_policy(rules, policy, facts.materiality_tier(model), environment)
    states = catalogue_states(in_force, catalogues, facts.decisions_for(model, version))
    return next((s for s in states if s.in_force), None)


def _check_role_in_force(submission: Submission, rules: RulesState, facts: LedgerFacts) -> None:
    """The actor holds, as of this seq, a role that may submit the statement: a role revoked
    after the request was authenticated no longer counts."""
    statement = submission.statement
    owner = None
    if statement.kind == Kind.KEY_REVOKED.value:
        key = facts.signing_key(str(statement.payload.get("key_id", "")))
        owner = None if key is None else key.actor
    principal = Principal(statement.actor, rules.roles_of(statement.actor))
    authorize_statement(principal, statement, key_owner=owner)


def _check_citations(statement: Statement, facts: LedgerFacts) -> None:
    """Every entry the payload cites (`ledger.citations`) is in the ledger and about the
    right model: an approval's evidence (EU AI Act Annex IV 2(g): the test reports the
    signer reviewed), a recalibration's parent run, a deployment's approvals, what a note
    or an oversight record refers to."""
    if not may_cite(statement.kind, statement.payload_json):
        return  # most statements cite nothing: no payload parsing for them
    for citation, value in citations_of(statement.kind, statement.payload):
        wanted = cited_hash(value)
        fact = None if wanted is None else facts.subject_by_hash(wanted)
        found = None if fact is None else Cited(fact.seq, fact.kind, fact.model, fact.version)
        problem = citation_problem(
            citation, value, found, seq=None, model=statement.model, version=statement.version
        )
        if problem is not None:
            raise UnknownEntry(problem) if found is None else InvalidStatement(problem)


def _check_new_names(statement: Statement, kind: Kind, facts: LedgerFacts) -> None:
    """A name enters the ledger only in the grammar of `ledger.names`: a model name the ledger
    does not hold yet (a registration, a run or a note about a new model), and the version of
    a run. Names already in the ledger, even ones an older ledger accepted, may be referred to
    (amendments, evaluations, decisions...). A legal name costs no query."""
    if kind is Kind.REQUEST_REFUSED:  # the ledger's own record of what was asked
        return
    if statement.model and model_name_problem(statement.model):
        if not facts.model_known(statement.model):
            check_model_name(statement.model)
    if kind in RUN_KINDS:
        check_version_name(statement.version)


def _require_version(statement: Statement, facts: LedgerFacts) -> RunFact:
    run = facts.run_for(statement.model, statement.version)
    if run is None:
        raise UnknownModelVersion(
            f"{statement.model} {statement.version} was never logged: log its training run "
            "first (run.training)"
        )
    if facts.is_retired(statement.model, statement.version):
        raise ModelRetired(f"{statement.model} {statement.version} is retired")
    return run


def _check_run(statement: Statement, kind: Kind, facts: LedgerFacts) -> None:
    existing = facts.run_for(statement.model, statement.version)
    if existing is not None:
        raise VersionAlreadyLogged(
            f"{statement.model} {statement.version} was already logged at seq {existing.seq}; "
            "give the new run a new version"
        )
    if facts.is_retired(statement.model, ""):
        raise ModelRetired(f"model {statement.model} is retired")
    if kind is Kind.RUN_RECALIBRATION and statement.payload.get("parent_run") is None:
        raise InvalidStatement(  # pragma: no cover - the payload model requires it
            "a recalibration must name its parent_run"
        )


def _check_decision(statement: Statement, facts: LedgerFacts) -> None:
    """A decision is about the version's run (`run`, or `subject` naming it) or about one of
    the version's catalogues (`subject`); its author may not decide (four eyes), and no one
    makes the same decision on it twice in a row."""
    run = _require_version(statement, facts)
    payload = statement.payload
    check_not_repeated(
        facts.decisions_for(statement.model, statement.version),
        bytes.fromhex(payload.get("subject") or payload["run"]),
        statement.actor,
        str(payload["role"]),
        statement.kind == Kind.APPROVAL_GRANTED.value,
        tuple(bytes.fromhex(e) for e in payload.get("evidence", ())),
    )
    if payload.get("run") is not None:
        decided_run = bytes.fromhex(payload["run"])
        if decided_run != run.entry_hash:
            raise InvalidStatement(
                f"the decision is signed over run {decided_run.hex()}, but "
                f"{statement.model} {statement.version} was logged by entry "
                f"{run.entry_hash.hex()}: re-sign over the version's run"
            )
        check_four_eyes(run, statement.actor)
        return
    subject_hash = bytes.fromhex(payload["subject"])
    if subject_hash == run.entry_hash:
        check_four_eyes(run, statement.actor)
        return
    subject = facts.subject_by_hash(subject_hash)
    if subject is None:
        raise UnknownEntry(f"subject {subject_hash.hex()} is not an entry in the ledger")
    decidable = (Kind.CATALOGUE_RECORDED.value, Kind.MONITORING_PLAN.value)
    if subject.kind not in decidable or (subject.model, subject.version) != (
        statement.model,
        statement.version,
    ):
        raise InvalidStatement(
            f"a decision's subject must be the run, a catalogue.recorded or a monitoring.plan "
            f"entry of "
            f"{statement.model} {statement.version}; {subject_hash.hex()} is a {subject.kind} "
            f"of {subject.model} {subject.version}".rstrip()
        )
    check_four_eyes(subject, statement.actor)


def _check_signature(
    submission: Submission,
    kind: Kind,
    facts: LedgerFacts,
    now: datetime,
    window: FreshnessWindow,
) -> None:
    statement = submission.statement
    signature, key_id = submission.signature, submission.key_id
    if signature is None and key_id is None:
        if kind in SIGNATURE_REQUIRED:
            raise SignatureRequired(
                f"{kind.value} must be signed by the actor's registered key on their own "
                "machine (LedgerClient.approve(..., key=PATH) does this)"
            )
        return
    if signature is None or key_id is None:
        raise SignatureInvalid("a signature needs both signature and key_id")
    if not _KEY_ID.fullmatch(key_id):
        raise SignatureInvalid("key_id must be 32 lowercase hex characters (govledger keys create)")
    if statement.issued_at is None:
        raise InvalidStatement("a signed statement must carry issued_at, the time of signing")
    issued = parse_rfc3339(statement.issued_at, "issued_at")
    if issued < now - window.max_age or issued > now + window.max_future:
        raise StaleStatement(
            f"statement was signed at {statement.issued_at}, too far from the ledger's time "
            f"{now.isoformat()}: sign it again now"
        )
    passkey: webauthn.PasskeyCredential | None
    if kind is Kind.KEY_REGISTERED:
        public_key = str(statement.payload["public_key"])
        passkey = webauthn.credential_of(statement.payload)
        if passkey is None:
            fingerprint = signing.key_id_for(ed25519_strict.parse_public_key(public_key))
        else:
            webauthn.load_public_key(public_key, passkey.algorithm)
            fingerprint = webauthn.key_id_for(public_key)
        if fingerprint != statement.payload["key_id"]:
            raise InvalidStatement("key_id must be the first 16 bytes of SHA-256(public key), hex")
        if key_id != statement.payload["key_id"]:
            raise SignatureInvalid("a key registration must be signed by the key it registers")
        if facts.signing_key(key_id) is not None:
            raise Conflict(f"key {key_id} is already registered")
    else:
        key = facts.signing_key(key_id)
        if key is None:
            raise UnknownKey(
                f"key {key_id} is not registered: register it first (govledger keys register)"
            )
        if key.revoked:
            raise KeyRevoked(f"key {key_id} was revoked and can no longer sign statements")
        if key.actor != statement.actor:
            raise KeyNotOwned(f"key {key_id} belongs to {key.actor}, not to {statement.actor}")
        public_key, passkey = key.public_key, key.passkey
        if passkey is None:
            ed25519_strict.parse_public_key(public_key)  # a weak key registered before the rule
    signature_bytes = signing.signature_bytes(signature)
    signed = statement.signing_bytes()
    signing.check_statement_signature(public_key, passkey, signed, signature)
    if facts.signature_seen(signature_bytes, signing.statement_digest(signed)):
        raise ReplayedStatement(
            "this signed statement (or its signature) is already in the ledger: a replay. "
            "To decide again, sign a new statement"
        )
