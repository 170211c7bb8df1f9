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
    MODEL_RETIRED = "model.retired"
    KEY_REGISTERED = "key.registered"
    KEY_REVOKED = "key.revoked"
    REQUEST_REFUSED = "request.refused"
    NOTE = "note"
    CATALOGUE_RECORDED = "catalogue.recorded"
    """A version's adverse-action reason catalogue (ledger.catalogue), approved like a run."""
    OVERSIGHT_RECORDED = "oversight.recorded"
    """A human oversight record: measures, override, stop or resume (ledger.oversight)."""


RUN_KINDS = frozenset({Kind.RUN_TRAINING, Kind.RUN_RECALIBRATION})
DECISION_KINDS = frozenset({Kind.APPROVAL_GRANTED, Kind.APPROVAL_REJECTED})

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
    }
)
"""Kinds whose statement must say why (the record's `statement.reason`)."""

SIGNATURE_REQUIRED = frozenset({Kind.APPROVAL_GRANTED, Kind.APPROVAL_REJECTED, Kind.KEY_REGISTERED})
"""Kinds that must carry an Ed25519 signature by the actor's key.

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
    }
)
"""Kinds that are about one model version, never the model as a whole."""

MODEL_OPTIONAL = frozenset({Kind.KEY_REGISTERED, Kind.KEY_REVOKED, Kind.NOTE, Kind.REQUEST_REFUSED})
"""Kinds that may be about no model at all (keys, free notes, refusals of such requests)."""


def parse_kind(value: str) -> Kind:
    """Return the Kind for a string, or raise UnknownKind listing the valid ones."""
    from ledger.errors import UnknownKind

    try:
        return Kind(value)
    except ValueError:
        valid = ", ".join(k.value for k in Kind)
        raise UnknownKind(f"unknown statement kind {value!r}; valid kinds are: {valid}") from None
