"""The kinds of statement a ledger entry can carry, and what each kind demands.

Kept apart from the payload models so that the verifier, the API and the CLI can ask
"does this kind need a reason / a signature?" without importing pydantic models.
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """Statement kinds: what an entry can record about a model's life."""

    MODEL_REGISTERED = "model.registered"
    RUN_TRAINING = "run.training"
    RUN_RECALIBRATION = "run.recalibration"
    EVALUATION_RECORDED = "evaluation.recorded"
    APPROVAL_GRANTED = "approval.granted"
    APPROVAL_REJECTED = "approval.rejected"
    DEPLOYMENT_PROMOTED = "deployment.promoted"
    """A version promoted into an environment, bound to its model file (a rollback too)."""
    SERVING_CHECKED = "serving.checked"
    """A scoring host's check of its model file against what serves (verify-model)."""
    MONITORING_PLAN = "monitoring.plan"
    """What to monitor of a version in production: measures and their amber and red
    thresholds, the reference sample, the cadence, who answers a breach; approved like a
    model change (decisions with `subject` = this entry)."""
    MONITORING_REPORTED = "monitoring.reported"
    """The measures of one production period under a plan (outcomes, when matured, for an
    earlier decision period); a red measure is a breach that demands a response."""
    MONITORING_RESPONDED = "monitoring.responded"
    """The answer to a breach: accept (until a review date), recalibrate (the new version
    links the breach) or stop, with a reason, by a role the plan names."""
    MODEL_RETIRED = "model.retired"
    KEY_REGISTERED = "key.registered"
    KEY_REVOKED = "key.revoked"
    REQUEST_REFUSED = "request.refused"
    NOTE = "note"
    CATALOGUE_RECORDED = "catalogue.recorded"
    """A version's adverse-action reason catalogue (ledger.catalogue), approved like a run."""
    OVERSIGHT_RECORDED = "oversight.recorded"
    """A human oversight record: measures, override, stop or resume (ledger.oversight)."""
    ACCESS_USER_CREATED = "access.user_created"
    """A user enters the ledger's access set (name and team; roles come by grants)."""
    ACCESS_GRANTED = "access.granted"
    """A role granted to a user; a privileged role is in force only once confirmed."""
    ACCESS_CONFIRMED = "access.confirmed"
    """A second admin confirms a pending grant of a privileged role (four eyes on access)."""
    ACCESS_REVOKED = "access.revoked"
    """A role taken from a user, in force from this entry on."""
    ACCESS_KEY_ISSUED = "access.key_issued"
    """An API key issued to a user: its id and the SHA-256 of its secret, never the secret."""
    ACCESS_KEY_REVOKED = "access.key_revoked"
    """An API key that no longer authenticates, from this entry on."""
    ACCESS_FEDERATED = "access.federated"
    """A role granted through an identity provider's claim (OpenID Connect sign-in): the
    issuer, the claim and its value, the role and the user, recorded the first time the
    mapping is used; a privileged role is in force only once an admin confirms it."""
    POLICY_PROPOSED = "policy.proposed"
    """An approval policy for a materiality tier and an environment, not yet in force."""
    POLICY_APPROVED = "policy.approved"
    """The second approval that puts a proposed policy in force (compliance and admin)."""
    SCORING_BATCH = "scoring.batch"
    """A batch of individual credit decisions of one version in one environment: the
    RFC 9162 root over their domain-separated leaves, the count and the time range; the
    decisions' details live in the erasable detail store (`ledger.log.scoring`)."""
    SCORING_ERASED = "scoring.erased"
    """The details of named decisions erased on a recorded request (GDPR Art. 17), with the
    legal basis; their leaves stay proven."""
    SCORING_PURGED = "scoring.purged"
    """The details of the decisions of batches decided wholly before a cut-off purged once
    the retention period ran out (12 CFR 1002.12(b))."""
    RUN_IMPORTED = "run.imported"
    """A run copied from another tracking system (an MLflow tracking server), as that
    system reports it: its source, its claimed times, params, metrics, tags, artifacts.
    A record of what the source said, never a version's run: nothing may approve,
    deploy or cite it as one."""
    REGISTRY_IMPORTED = "registry.imported"
    """A registered model version as another registry (MLflow's) reports it at import: its
    stage and aliases there, with their claimed times. An MLflow stage of Production is
    recorded as what it was; it is no approval and no deployment in this ledger."""


RUN_KINDS = frozenset({Kind.RUN_TRAINING, Kind.RUN_RECALIBRATION})
MONITORING_KINDS = frozenset(
    {Kind.MONITORING_PLAN, Kind.MONITORING_REPORTED, Kind.MONITORING_RESPONDED}
)
"""Production monitoring of a version (`ledger.governance._monitoring`)."""
DECISION_KINDS = frozenset({Kind.APPROVAL_GRANTED, Kind.APPROVAL_REJECTED})
ACCESS_KINDS = frozenset(
    {
        Kind.ACCESS_USER_CREATED,
        Kind.ACCESS_GRANTED,
        Kind.ACCESS_CONFIRMED,
        Kind.ACCESS_REVOKED,
        Kind.ACCESS_KEY_ISSUED,
        Kind.ACCESS_KEY_REVOKED,
        Kind.ACCESS_FEDERATED,
    }
)
"""Who may act: users, their roles and their API keys (`ledger.governance._rules`)."""
POLICY_KINDS = frozenset({Kind.POLICY_PROPOSED, Kind.POLICY_APPROVED})
"""Which approvals a deployment needs, per materiality tier and environment."""
RULE_KINDS = ACCESS_KINDS | POLICY_KINDS
SCORING_KINDS = frozenset({Kind.SCORING_BATCH, Kind.SCORING_ERASED, Kind.SCORING_PURGED})
"""Individual scoring decisions: batches, erasures and purges of their details."""
IMPORTED_KINDS = frozenset({Kind.RUN_IMPORTED, Kind.REGISTRY_IMPORTED})
"""Records copied from another system, each naming its source; about no model of this
ledger (`model` empty), so no rule about a version reads them."""
"""The ledger's own rules, recorded as entries: every check reads them at its seq."""

REASON_REQUIRED = frozenset(
    {
        Kind.APPROVAL_GRANTED,
        Kind.APPROVAL_REJECTED,
        Kind.RUN_RECALIBRATION,
        Kind.DEPLOYMENT_PROMOTED,
        Kind.MODEL_RETIRED,
        Kind.KEY_REVOKED,
        Kind.REQUEST_REFUSED,
        Kind.CATALOGUE_RECORDED,
        Kind.OVERSIGHT_RECORDED,
        Kind.ACCESS_GRANTED,
        Kind.ACCESS_CONFIRMED,
        Kind.ACCESS_REVOKED,
        Kind.ACCESS_KEY_REVOKED,
        Kind.ACCESS_FEDERATED,
        Kind.POLICY_PROPOSED,
        Kind.POLICY_APPROVED,
        Kind.MONITORING_PLAN,
        Kind.MONITORING_RESPONDED,
    }
)
"""Kinds whose statement must say why (the record's `statement.reason`)."""

SIGNATURE_REQUIRED = frozenset({Kind.APPROVAL_GRANTED, Kind.APPROVAL_REJECTED, Kind.KEY_REGISTERED})
"""Kinds that must carry a signature by the actor's key (an Ed25519 key file, or a passkey's
WebAuthn assertion, `ledger.log.webauthn`).

Approvals and rejections are signed on the approver's machine; `key.registered` is signed by
the key being registered (proof of possession)."""

VERSION_REQUIRED = frozenset(
    {
        Kind.RUN_TRAINING,
        Kind.RUN_RECALIBRATION,
        Kind.EVALUATION_RECORDED,
        Kind.APPROVAL_GRANTED,
        Kind.APPROVAL_REJECTED,
        Kind.DEPLOYMENT_PROMOTED,
        Kind.CATALOGUE_RECORDED,
        Kind.OVERSIGHT_RECORDED,
        Kind.MONITORING_PLAN,
        Kind.MONITORING_REPORTED,
        Kind.MONITORING_RESPONDED,
        Kind.SCORING_BATCH,
    }
)
"""Kinds that are about one model version, never the model as a whole."""

MODEL_OPTIONAL = (
    frozenset(
        {
            Kind.KEY_REGISTERED,
            Kind.KEY_REVOKED,
            Kind.NOTE,
            Kind.REQUEST_REFUSED,
            Kind.SCORING_ERASED,
            Kind.SCORING_PURGED,
        }
    )
    | RULE_KINDS
    | IMPORTED_KINDS
)
"""Kinds that may be about no model at all (keys, free notes, rules, refusals of such
requests, imported records); rule and imported kinds are about no model ever
(`ledger.log.entries`)."""


def parse_kind(value: str) -> Kind:
    """Return the Kind for a string, or raise UnknownKind listing the valid ones."""
    from ledger.errors import UnknownKind

    try:
        return Kind(value)
    except ValueError:
        valid = ", ".join(k.value for k in Kind)
        raise UnknownKind(f"unknown statement kind {value!r}; valid kinds are: {valid}") from None
