"""Request bodies of the HTTP API (documented in OpenAPI).

These models only shape the request; the statement itself is validated by the ledger core
(`ledger.records.build_statement` and the payload models), so the rules live in one place.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Scalar = str | int | float | bool | None


class Body(BaseModel):
    """Base: unknown fields are errors (so `actor` in a body is refused, not ignored)."""

    model_config = ConfigDict(extra="forbid")


class StatementIn(Body):
    """A statement of any kind; the actor is always the authenticated user."""

    kind: str = Field(description="One of the statement kinds (ledger.kinds.Kind)")
    model: str = ""
    version: str = ""
    reason: str = ""
    payload: dict[str, Any] = Field(default_factory=dict)
    issued_at: str | None = Field(default=None, description="RFC 3339 UTC time of signing")
    signature: str | None = Field(
        default=None,
        description="Ed25519 signature (base64), or a passkey's assertion "
        "(webauthn.v1.<authenticatorData>.<clientDataJSON>.<signature>, base64url)",
    )
    key_id: str | None = Field(default=None, description="The signing key's id (hex)")


class BatchIn(Body):
    """Several statements appended atomically, in order."""

    statements: list[StatementIn] = Field(min_length=1, max_length=10_000)


class ArtifactIn(Body):
    """An artifact cited by digest (upload the bytes first to have them stored)."""

    name: str
    sha256: str
    size: int | None = None
    media_type: str | None = None
    stored: bool = False
    role: str | None = Field(
        default=None,
        description="'model' marks the run's model file, which a deployment binds; "
        "'explanation-background' the sample its reason codes are explained against",
    )
    serialization: dict[str, Any] | None = Field(
        default=None,
        description="A model file's flavour, format, library and library_version, as "
        "Run.log_model(model) records them",
    )


class DatasetIn(Body):
    """A dataset fingerprint."""

    name: str
    rows: int
    sha256: str
    role: str = "training"
    columns: list[str] | None = None
    fingerprint: str | None = Field(
        default=None,
        description="The scheme the digest was computed by, e.g. 'govledger-columns/1' "
        "(docs/fingerprint.md); absent: a data frame's CSV text, or the bytes",
    )


class EvaluationIn(Body):
    """Explainer results for a version (see explain/ EvaluationResult.to_ledger)."""

    model: str
    version: str
    evaluation: str
    summary: dict[str, Any] = Field(default_factory=dict)
    datasets: list[DatasetIn] = Field(default_factory=list)
    artifacts: list[ArtifactIn] = Field(default_factory=list)
    library_versions: dict[str, str] = Field(default_factory=dict)
    run: str | None = None
    compared_with: str | None = Field(
        default=None,
        description="entry_hash of the other version's run a comparison was made against",
    )


class RunIn(Body):
    """A training or recalibration run, logged in one call (optionally with evaluations)."""

    model: str
    version: str
    kind: Literal["training", "recalibration"] = "training"
    reason: str = ""
    run_id: str | None = None
    algorithm: str | None = None
    params: dict[str, Scalar] = Field(default_factory=dict)
    metrics: dict[str, float | None] = Field(default_factory=dict)
    metrics_before: dict[str, float | None] | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    datasets: list[DatasetIn] = Field(default_factory=list)
    code_revision: str | None = None
    artifacts: list[ArtifactIn] = Field(default_factory=list)
    parent_run: str | None = Field(default=None, description="entry_hash of the parent run")
    breaches: list[str] | None = Field(
        default=None, description="monitoring reports whose breach this recalibration answers"
    )
    features: list[str] | None = Field(
        default=None, description="The input features the model scores (reason codes use them)"
    )
    environment: dict[str, Any] | None = Field(
        default=None,
        description="What the run trained with ('govledger-environment/1': python, platform, "
        "packages or lock_file, git), as the client captures it",
    )
    seeds: dict[str, int | str] | None = Field(
        default=None, description="Random seeds the run declared, by what they seed"
    )
    metric_series: dict[str, list[list[Any]]] | None = Field(
        default=None,
        description="Metrics logged with a step: [step, value] or [step, value, RFC 3339 "
        "time] per point, in the order logged (training curves)",
    )
    allow_unregistered: bool | None = Field(
        default=None,
        description="Log the run although its model has no model.registered entry (refused "
        "otherwise, naming the closest registered models: a typo would start a new model)",
    )
    evaluations: list[EvaluationIn] = Field(default_factory=list, max_length=100)


class ModelIn(Body):
    """A model's registration in the inventory; registering it again amends the record
    (the latest registration wins) and needs a reason."""

    model: str
    reason: str = Field(default="", description="Why the record changes (amendments)")
    description: str = ""
    decision: str = ""
    owner: str | None = None
    users: list[str] = Field(default_factory=list)
    intended_use: str = ""
    out_of_scope_uses: list[str] = Field(default_factory=list)
    materiality_tier: str | None = None
    is_model: bool = True
    validation_status: str | None = None
    next_review: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class SignedDecisionIn(Body):
    """An approval or rejection signed on the approver's machine."""

    kind: Literal["approval.granted", "approval.rejected"]
    model: str
    version: str
    reason: str
    payload: dict[str, Any]
    issued_at: str
    signature: str
    key_id: str


class DeploymentIn(Body):
    """Promote a version into an environment, bound to its model file (refused with 409
    unless the policy's approvals are present). `model_sha256` names the model file when
    the run cites several (it is filled in when the run cites one); `rollback` promotes a
    version that served there before; `replaces` (the promotion serving now) makes the
    promotion fail if another got there first."""

    model: str
    version: str
    reason: str
    environment: str = "production"
    model_sha256: str | None = None
    rollback: bool = False
    replaces: str | None = None


class RetirementIn(Body):
    """Retire a model (version empty) or one version."""

    model: str
    version: str = ""
    reason: str
    replacement: str | None = None


class KeyRegistrationIn(Body):
    """A key.registered statement, self-signed by the key it registers."""

    payload: dict[str, Any]
    issued_at: str
    signature: str
    key_id: str


class KeyRevocationIn(Body):
    """Why a key is revoked."""

    reason: str


class ReasonEntryIn(Body):
    """One catalogue line: a feature the model scores (optionally some values) -> a reason."""

    feature: str
    values: list[Scalar] | None = None
    code: str
    statement: str


class CatalogueIn(Body):
    """A new version of a model version's adverse-action reason catalogue (Regulation B).

    Refused (422 feature-not-scored) if an entry names a feature the version does not score;
    in force once approved: signed decisions with payload.subject = the entry's hash."""

    model: str
    version: str
    reason: str
    catalogue_version: str
    entries: list[ReasonEntryIn] = Field(min_length=1, max_length=5000)
    supersedes: str | None = None


class DecisionScopeIn(Body):
    """Which decisions: application ids and/or a period (days or RFC 3339 UTC times)."""

    application_ids: list[str] = Field(default_factory=list, max_length=10000)
    since: str | None = None
    until: str | None = None


class OversightIn(Body):
    """A human oversight record (EU AI Act Art. 14): measures, override, stop or resume.

    A stop makes the version "stopped" and refuses its deployment until a resume."""

    model: str
    version: str
    action: Literal["measures", "override", "stop", "resume"]
    reason: str
    decisions: DecisionScopeIn | None = None
    outcome: str | None = None
    assigned_to: list[str] = Field(default_factory=list)
    capabilities: list[Literal["understand", "interpret", "override", "stop"]] = Field(
        default_factory=list
    )
    procedure: str = ""
    refers_to: list[str] = Field(default_factory=list)


class VersionRecordIn(Body):
    """A record about one version whose payload the ledger validates for its kind
    (`ledger.log.payloads`): a monitoring plan, report or response."""

    model: str
    version: str
    reason: str = ""
    payload: dict[str, Any]
