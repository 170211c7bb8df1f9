"""Governance: every rule about what may be appended, as pure functions over facts.

An index of the rules, each in one place (private module, then function):

- the order of checks for one statement: `_admission.admit`
- a signature (strict Ed25519, a registered unrevoked key of the actor, fresh, not
  replayed): `_admission._check_signature`; the key rule itself is
  `ledger.log.ed25519_strict`
- four eyes on approvals and rejections: `_policy.check_four_eyes`; one person's same decision
  on a subject twice in a row: `_policy.check_not_repeated`
- four eyes on oversight of one's own version: `_policy.check_oversight_four_eyes`
- the approvals a deployment needs, and a version's status: `_policy.check_deployment`,
  `_policy.version_status`; whether one more approval would count (a review queue):
  `_policy.approval_would_count`, `_policy.role_needed`
- the evidence a policy requires before a promotion (named evaluations, regime checklists
  without gaps, a reviewed reason catalogue): `_evidence.evidence_missing`,
  `_evidence.check_evidence`; gathered for a promotion by `_admission.version_evidence`
- stop and resume (human oversight, EU AI Act Art. 14): `_oversight.check_oversight`,
  `_oversight.check_not_stopped`
- reason-code catalogues and the features they map (Regulation B 1002.9(b)(2)):
  `_catalogue.check_catalogue`
- the model inventory record (SR 26-2): `_inventory.check_registration`
- what a payload may cite, of which kind and model: `_citations.may_cite`,
  `_citations.citation_problem`
- the facts the rules read, and how they are built from entries: `_facts`
- who may submit which kind, as which actor, deciding in which role:
  `_permissions.authorize_statement` (the roles: `_roles.Role`, `_roles.Principal`)
- the roles an approval policy may count: `_roles.check_policy_roles`
- which refusals are kept as `request.refused` entries, and what one says:
  `_refusals.is_recorded`, `_refusals.refusal_statement`
- production monitoring (plans approved like a model change, reports measured under the plan
  in force with the statuses its thresholds give, breaches answered by the roles the plan
  names; under review and overdue): `_monitoring.check_report`, `_monitoring.check_response`,
  `_monitoring.monitoring_state`
- the rules recorded in the ledger (users, roles, API keys, approval policies per tier and
  environment, four eyes on access and on policies, the initial access set): `_rules.RulesState`
  (`check` admits a rule entry, `apply` folds it in); the policy a deployment must meet:
  `_rules.deployment_policy`
- what serves where (one version per environment, shadow challengers, replacement,
  rollback, the bound model file, the champion comparison a policy may require):
  `_serving.ServingHistory`, `_serving.check_promotion` (reached through
  `_rules.check_deployment_in_force`)
- scoring decisions recorded in batches (the version served in that environment at each
  decision's time, reasons from the catalogue in force, decision ids new) and the erasure
  and retention purge of their details: `_scoring.check_batch`, `_scoring.check_erasure`,
  `_scoring.check_purge`, `_scoring.DecisionRetention`; the catalogue in force for a
  version: `_admission.catalogue_in_force`; who records, erases, purges and reads them:
  `_permissions.WRITERS`, `_permissions.RECEIPT_READERS`
- which entries announce an event to webhook receivers (a deployment, a subject awaiting
  decisions, a decision, a red monitoring measure), and what the event says:
  `_events.events_for_entry`; what is overdue announces `monitoring.overdue` once per
  (model, version, environment, reason, due date): `_events.overdue_events`

Nothing here reads a database: the store hands admission a `_facts.LedgerFacts`, and its
write gate (`ledger.store._submit`) applies the role and refusal rules on every write path.
"""

from ledger.governance._admission import (
    FreshnessWindow,
    Submission,
    admit,
    catalogue_in_force,
    version_evidence,
)
from ledger.governance._catalogue import CatalogueState, catalogue_states
from ledger.governance._citations import (
    CITING_KINDS,
    Cited,
    citation_problem,
    citations_of,
    cited_hash,
    may_cite,
)
from ledger.governance._events import (
    EVENT_TYPES,
    MONITORING_REPORTED,
    NotificationEvent,
    events_for_entry,
    overdue_event_key,
    overdue_events,
)
from ledger.governance._evidence import (
    RegimeFinding,
    RegimeGaps,
    VersionEvidence,
    check_evidence,
    evidence_missing,
    gather_evidence,
)
from ledger.governance._facts import (
    KeyFact,
    MonitoringFacts,
    comparison_from,
    decision_fact,
    oversight_fact,
    run_fact,
    serving_event,
)
from ledger.governance._inventory import InventoryRow, inventory_record, inventory_row
from ledger.governance._monitoring import (
    BREACH_UNANSWERED,
    MISSED_CADENCE,
    Breach,
    MonitoringState,
    Overdue,
    PlanFact,
    PlanState,
    ReportFact,
    ResponseFact,
    check_plan,
    check_report,
    check_response,
    monitoring_state,
    plan_in_force,
    plan_states,
)
from ledger.governance._oversight import OversightFact, check_not_stopped, stop_in_force
from ledger.governance._permissions import READERS, RECEIPT_READERS, authorize_statement
from ledger.governance._policy import (
    ApprovalPolicy,
    DecisionFact,
    RunFact,
    VersionStatus,
    approval_would_count,
    approvals_missing,
    check_deployment,
    check_four_eyes,
    check_oversight_four_eyes,
    role_needed,
    version_status,
)
from ledger.governance._refusals import is_recorded, refusal_idempotency_key, refusal_statement
from ledger.governance._roles import DECIDING, Principal, Role, check_policy_roles, parse_roles
from ledger.governance._rules import (
    ANY,
    PRIVILEGED,
    SYSTEM_ACTOR,
    ApiKeyFact,
    GrantFact,
    LastAdmin,
    PolicyFact,
    RulesState,
    UnknownRole,
    UserFact,
    check_deployment_in_force,
    deployment_policy,
    initial_access_statements,
    parse_role,
    policy_terms,
)
from ledger.governance._scoring import (
    DecisionRetention,
    check_batch,
    check_erasure,
    check_purge,
    not_serving_at,
)
from ledger.governance._serving import (
    COMPARISON_EVALUATION,
    ComparisonFact,
    PromotionFact,
    PromotionRequest,
    RetirementFact,
    ServingHistory,
    Tenure,
    bound_model_file,
    check_environment,
    check_promotion,
    promotion_request,
    serving_history,
)
from ledger.log.payloads import DEFAULT_ENVIRONMENT, model_files

__all__ = [
    "ANY",
    "BREACH_UNANSWERED",
    "CITING_KINDS",
    "COMPARISON_EVALUATION",
    "DECIDING",
    "DEFAULT_ENVIRONMENT",
    "EVENT_TYPES",
    "MISSED_CADENCE",
    "MONITORING_REPORTED",
    "PRIVILEGED",
    "READERS",
    "RECEIPT_READERS",
    "SYSTEM_ACTOR",
    "ApiKeyFact",
    "ApprovalPolicy",
    "Breach",
    "CatalogueState",
    "Cited",
    "ComparisonFact",
    "DecisionFact",
    "DecisionRetention",
    "FreshnessWindow",
    "GrantFact",
    "InventoryRow",
    "KeyFact",
    "LastAdmin",
    "MonitoringFacts",
    "MonitoringState",
    "NotificationEvent",
    "Overdue",
    "OversightFact",
    "PlanFact",
    "PlanState",
    "PolicyFact",
    "Principal",
    "PromotionFact",
    "PromotionRequest",
    "RegimeFinding",
    "RegimeGaps",
    "ReportFact",
    "ResponseFact",
    "RetirementFact",
    "Role",
    "RulesState",
    "RunFact",
    "ServingHistory",
    "Submission",
    "Tenure",
    "UnknownRole",
    "UserFact",
    "VersionEvidence",
    "VersionStatus",
    "admit",
    "approval_would_count",
    "approvals_missing",
    "authorize_statement",
    "bound_model_file",
    "catalogue_in_force",
    "catalogue_states",
    "check_batch",
    "check_deployment",
    "check_deployment_in_force",
    "check_environment",
    "check_erasure",
    "check_evidence",
    "check_four_eyes",
    "check_not_stopped",
    "check_oversight_four_eyes",
    "check_plan",
    "check_policy_roles",
    "check_promotion",
    "check_purge",
    "check_report",
    "check_response",
    "citation_problem",
    "citations_of",
    "cited_hash",
    "comparison_from",
    "decision_fact",
    "deployment_policy",
    "events_for_entry",
    "evidence_missing",
    "gather_evidence",
    "initial_access_statements",
    "inventory_record",
    "inventory_row",
    "is_recorded",
    "may_cite",
    "model_files",
    "monitoring_state",
    "not_serving_at",
    "overdue_event_key",
    "overdue_events",
    "oversight_fact",
    "parse_role",
    "parse_roles",
    "plan_in_force",
    "plan_states",
    "policy_terms",
    "promotion_request",
    "refusal_idempotency_key",
    "refusal_statement",
    "role_needed",
    "run_fact",
    "serving_event",
    "serving_history",
    "stop_in_force",
    "version_evidence",
    "version_status",
]
