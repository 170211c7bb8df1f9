"""What the registry's operations answer: models, versions, serving, runs, regulatory reads.

Documentation only (see `api.service._responses`). The words are SR 26-2's (inventory,
materiality tier, validation, ongoing monitoring), the EU AI Act's (human oversight,
Art. 14) and Regulation B's (adverse-action reason catalogue, 12 CFR 1002.9).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from api.service._responses import Answer, InclusionProof, LedgerEntry, Sha256
from api.service._responses_access import PolicyTerms


class RegistrationChange(Answer):
    """One `model.registered` entry: the registration or an amendment."""

    seq: int
    entry_hash: Sha256
    actor: str
    recorded_at: str
    reason: str


class VersionBrief(Answer):
    """A version of a model and its status, derived from its entries."""

    version: str
    status: str = Field(description="logged, rejected, approved, deployed, stopped, retired")
    logged_by: str
    logged_at: str
    kind: str = Field(description="run.training or run.recalibration")
    run_entry_hash: Sha256
    serving_in: list[str] = Field(description="The environments it serves in now")


class TenureEnd(Answer):
    """What ended a tenure: the promotion that replaced it, or a retirement."""

    kind: str
    version: str
    actor: str
    entry_hash: Sha256
    reason: str


class Tenure(Answer):
    """A version's time serving in an environment, from a promotion to what ended it."""

    environment: str
    version: str
    status: str = Field(description="serving, or how it ended (replaced, retired, ...)")
    description: str
    since_seq: int
    since: str = Field(description="RFC 3339 UTC time of the promotion")
    promotion: Sha256
    promoted_by: str
    reason: str
    rollback: bool
    model_sha256: str | None = Field(description="The model file the promotion is bound to")
    approvals: list[str] = Field(description="Entry hashes of the approvals it cites")
    ended_seq: int | None
    ended_at: str | None
    ended_by: TenureEnd | None


class ModelSummary(Answer):
    """A model: its latest registration (the inventory record), its versions, where they
    serve."""

    model: str
    registration: dict[str, Any] | None = Field(description="The latest record's payload")
    registered_by: str | None
    registration_history: list[RegistrationChange]
    retired: bool
    versions: list[VersionBrief]
    serving: dict[str, list[Tenure]] = Field(description="Tenures per environment")
    entries: int = Field(description="How many entries are about the model")


class ModelList(Answer):
    """Every model of the ledger."""

    models: list[ModelSummary]


class EntryBrief(Answer):
    """An entry in brief: its statement's parts and hash, not the whole entry."""

    seq: int
    kind: str
    actor: str
    recorded_at: str
    reason: str
    payload: dict[str, Any]
    entry_hash: Sha256
    signed: bool = Field(description="Whether the statement carries a signature")


class CatalogueState(Answer):
    """A version of the adverse-action reason catalogue (12 CFR 1002.9(b)(2)) and whether
    it is approved like a model change."""

    entry_hash: Sha256
    seq: int
    recorded_by: str
    catalogue_version: str
    status: str
    in_force: bool
    missing_approvals: list[str]
    entries: list[dict[str, Any]] = Field(description="feature, code and statement per reason")


class PolicyInUse(PolicyTerms):
    """The approval policy a version's status is derived under, and where it comes from."""

    source: str = Field(description="ledger (a policy entry, approved) or configured")
    materiality_tier: str | None
    environment: str
    entry_hash: Sha256 | None = None
    seq: int | None = None
    scope: dict[str, str] | None = Field(default=None, description="tier and environment")
    proposed_by: str | None = None
    approved_seq: int | None = None
    approved_by: str | None = None
    initial: str | None = None


class MonitoringState(Answer):
    """A version's ongoing monitoring in one environment (SR 26-2): the plan in force, its
    reports, breaches and the responses to them."""

    environment: str
    status: str
    plan: dict[str, Any] | None = Field(description="cadence, responders, measures, ...")
    reports: list[dict[str, Any]]
    breaches: list[dict[str, Any]]
    next_report_due: str | None
    overdue: list[Any]


class VersionView(Answer):
    """Everything the ledger holds about a version, and its derived status."""

    model: str
    version: str
    status: str
    run: LedgerEntry
    missing_approvals: list[str] = Field(description="Roles still to approve under `policy`")
    decisions: list[EntryBrief]
    evaluations: list[EntryBrief]
    deployments: list[EntryBrief]
    retirements: list[EntryBrief]
    catalogues: list[CatalogueState]
    catalogue_decisions: list[EntryBrief]
    oversight: list[EntryBrief] = Field(description="Human oversight (EU AI Act Art. 14)")
    stopped_by: EntryBrief | None = Field(description="The oversight stop in force, if any")
    policy: PolicyInUse
    model_files: list[str] = Field(description="SHA-256 of the run's model files")
    serving: list[Tenure]
    monitoring: list[MonitoringState]
    monitoring_entries: list[EntryBrief]
    plan_decisions: list[EntryBrief]
    evidence_missing: list[str] | None = Field(
        description="Evidence the policy requires before a promotion that the version lacks"
    )


class ServingTenure(Tenure):
    """A tenure serving at the time asked, with the run it serves."""

    run: Sha256
    run_seq: int
    model_files: list[str]


class HistoryTenure(Answer):
    """A tenure of the environment's history, in brief (not proven by the evidence)."""

    version: str
    since_seq: int
    since: str
    promotion: Sha256
    promoted_by: str
    model_sha256: str | None
    rollback: bool
    end: str | None
    ended_seq: int | None
    ended_by_version: str | None
    description: str


class ServingEvidence(Answer):
    """The entries an answer rests on, each with an inclusion proof to one checkpoint."""

    origin: str
    verifier_key: str
    checkpoint: str = Field(description="The C2SP signed note the proofs lead to")
    entries: list[LedgerEntry]
    proofs: dict[str, InclusionProof] = Field(description="Inclusion proofs by seq")


class ServingAnswer(Answer):
    """A "govledger-serving-answer/v1" document: what served in an environment at the
    time asked, checkable offline (`standalone.py serving`)."""

    format: str = Field(description="govledger-serving-answer/v1")
    model: str
    environment: str
    shadow: bool = Field(description="A shadow environment (scores, decides nothing)")
    question: dict[str, Any] = Field(description="now, at (a time) or seq, as asked")
    as_of_seq: int
    tree_size: int
    serving: list[ServingTenure]
    history: list[HistoryTenure]
    evidence: ServingEvidence
    completeness: str = Field(description="What the proofs show, and what they do not")


class RunRecord(Answer):
    """A run as a search answers it."""

    seq: int
    entry_hash: Sha256
    model: str
    version: str
    kind: str
    actor: str
    recorded_at: str
    run_id: str | None
    algorithm: str | None
    params: dict[str, Any]
    metrics: dict[str, Any]
    tags: dict[str, str]


class RunSearch(Answer):
    """A page of runs matching the filter, in the order asked."""

    runs: list[RunRecord]
    total: int = Field(description="How many runs match in all")
    next_offset: int | None = Field(description="Pass as `offset` for the next page")


class Regime(Answer):
    """A regulatory checklist."""

    id: str
    title: str
    items: int


class RegimeList(Answer):
    """The checklists a version can be checked against."""

    regimes: list[Regime]


class EvidenceRef(Answer):
    """An entry cited as evidence of a checklist item, and why it counts."""

    seq: int
    kind: str
    entry_hash: Sha256
    why: str


class ChecklistItem(Answer):
    """One requirement of a regime: satisfied by the entries cited, or a gap."""

    id: str
    title: str
    citation: str = Field(description="Where the regulation says so, e.g. 12 CFR 1002.9")
    requirement: str
    status: str = Field(description="satisfied or gap")
    evidence: list[EvidenceRef]
    missing: list[str] = Field(description="What is missing for a gap")
    statements: list[str]


class ComplianceCheck(Answer):
    """A version's completeness against a regime's checklist."""

    regime: str
    title: str
    source: str
    model: str
    version: str
    version_status: str
    ok: bool = Field(description="True when every item is satisfied")
    satisfied: int
    gaps: int
    items: list[ChecklistItem]


class InventoryModel(Answer):
    """A model's row of the model inventory (SR 26-2)."""

    model: str
    registered: bool
    owner: str | None
    users: list[str]
    description: str
    decision: str = Field(description="The decision the model informs")
    intended_use: str
    out_of_scope_uses: list[str]
    materiality_tier: str | None
    is_model: bool | None = Field(description="False: listed, but not a model (SR 26-2)")
    validation_status: str | None
    next_review: str | None
    review_overdue: bool
    registered_by: str | None
    registered_at: str | None
    amended_by: str | None
    amended_at: str | None
    amendment_reason: str
    amendments: int
    registration_hash: str | None
    registration_seq: int | None
    versions: list[dict[str, str]] = Field(description="version and status")
    retired: bool
    monitoring: list[dict[str, str]] = Field(description="Monitoring that needs attention")
    monitoring_flag: str


class Inventory(Answer):
    """The model inventory."""

    models: list[InventoryModel]
