"""The model card as plain data: every field read from ledger entries and stored artifacts.

`reports.card_data.build_card` fills these; the HTML templates, the CycloneDX writer and
the evidence builder only read them. Nothing here is typed in by hand: a number on the card
is a number in a cited entry (or in an artifact whose digest a cited entry holds), and every
section names the entry it comes from (`EntryRef`), which `evidence.json` then proves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reports.card._evaluations import (
    ExplanationSection,
    GenericEvaluation,
    PerformanceSection,
    ReasonCodeSection,
    StabilitySection,
)
from reports.card._fairness_section import FairnessSection
from reports.card._monitoring import MonitoringSection
from reports.card._serving import ServingSection
from reports.citations import EntryRef
from reports.tables import Table


@dataclass
class Registration:
    """The model's inventory record (its latest `model.registered` entry)."""

    entry: EntryRef
    description: str = ""
    decision: str = ""
    owner: str | None = None
    users: list[str] = field(default_factory=list)
    intended_use: str = ""
    out_of_scope_uses: list[str] = field(default_factory=list)
    materiality_tier: str | None = None
    is_model: bool = True
    validation_status: str | None = None
    next_review: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class Dataset:
    """A dataset fingerprint cited by the run or an evaluation."""

    name: str
    rows: int | None
    sha256: str
    role: str
    cited_by: str


@dataclass
class RunDetails:
    """The run that logged the version (training or recalibration)."""

    entry: EntryRef
    kind: str
    run_id: str | None
    algorithm: str | None
    code_revision: str | None
    params: dict[str, Any]
    metrics: dict[str, Any]
    metrics_before: dict[str, Any]
    tags: dict[str, str]
    artifacts: list[dict[str, Any]]
    reason: str
    params_note: str = ""
    """How many parameters are shown of how many (`reports.limits`)."""
    metrics_note: str = ""
    curves: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    """Training curves (metrics logged with a step) as drawn: at most `MAX_CURVES`, sorted
    by name, each thinned to `MAX_CURVE_POINTS` (step, value) points."""
    curves_note: str = ""


@dataclass
class LineageStep:
    """A run in the version's family: its parents and the recalibrations made from it."""

    relation: str
    version: str
    kind: str
    actor: str
    recorded_at: str
    reason: str
    entry_hash: str
    seq: int


@dataclass
class Approval:
    """One approval or rejection, with the outcome of re-checking its signature."""

    entry: EntryRef
    actor: str
    role: str
    granted: bool
    recorded_at: str
    issued_at: str | None
    reason: str
    conditions: list[str]
    key_id: str | None
    signature_status: str
    signature_ok: bool
    signature_detail: str
    decides_this_run: bool


@dataclass
class Event:
    """A deployment, retirement, refused request or note about the version."""

    entry: EntryRef
    kind: str
    actor: str
    recorded_at: str
    reason: str
    details: dict[str, Any]


@dataclass
class LedgerPolicy:
    """An approval policy recorded in the ledger: its proposal and what put it in force.

    Read from the two entries only (`reports.card._policy.ledger_policy`), so that
    `verify-card` can re-derive it from the evidence."""

    description: str
    """'high / production: 2 validator and 1 model_risk_committee'."""
    independent_validation: bool
    proposal: EntryRef
    """The `policy.proposed` entry."""
    approval: EntryRef
    """The `policy.approved` entry that put it in force (the proposal itself for the
    initial policy, in force as it was recorded)."""
    initial: str | None = None
    """`bootstrap` or `migrated` for the ledger's initial policy."""


@dataclass
class CardPolicy:
    """The approval policy a card names: the one the version's deployment satisfied, or,
    before any deployment, the one a deployment to production must meet now."""

    requirements: str
    """The approvals it requires, e.g. '2 validator and 1 approver'."""
    environment: str
    materiality_tier: str | None
    deployment: EntryRef | None
    """The (latest) deployment that satisfied it; None when the version is not deployed."""
    ledger: LedgerPolicy | None
    """The ledger's policy entry; None when the ledger records no policy for this tier and
    environment and the configured policy (GOVLEDGER_APPROVAL_POLICY) applied."""


@dataclass
class Headline:
    """Section 1: what a decision maker reads first."""

    decision: str
    status: str
    performance: str
    fairness: str
    approved_by: list[str]
    open_issues: list[str]


@dataclass
class Evidence:
    """Section 10: the checkpoint the card's evidence is proven against."""

    origin: str
    verifier_key: str
    checkpoint_note: str
    checkpoint_size: int
    checkpoint_root: str
    cited: list[EntryRef]


@dataclass
class ExtraSection:
    """A section added by a later feature (e.g. "Regulatory mapping").

    Rendered between "Approvals and sign-off" and "Evidence" with the next section number;
    its `cited` entries join the evidence (their inclusion proofs go into evidence.json).
    """

    title: str
    anchor: str
    intro: str = ""
    tables: list[Table] = field(default_factory=list)
    cited: list[EntryRef] = field(default_factory=list)


@dataclass
class ModelCard:
    """Everything a model card shows about one model version."""

    model: str
    version: str
    generated_at: str
    status: str
    policy: str
    missing_approvals: list[str]
    headline: Headline
    registration: Registration | None
    run: RunDetails
    lineage: list[LineageStep]
    datasets: list[Dataset]
    performance: PerformanceSection | None
    explanation: ExplanationSection | None
    reason_codes: ReasonCodeSection | None
    fairness: FairnessSection | None
    stability: StabilitySection | None
    other_evaluations: list[GenericEvaluation]
    approvals: list[Approval]
    deployments: list[Event]
    retirements: list[Event]
    refusals: list[Event]
    notes: list[Event]
    evidence: Evidence
    extra_sections: list[ExtraSection] = field(default_factory=list)
    approval_policy: CardPolicy | None = None
    """Which approval policy applied, and where it is recorded (section 9)."""
    serving: ServingSection = field(default_factory=ServingSection)
    """Where the version serves or served, bound to which model file, and its
    champion/challenger comparison (section 9; `reports.card._serving`)."""
    monitoring: MonitoringSection = field(default_factory=MonitoringSection)
    """Its monitoring per environment: the plan in force, the reports against their
    thresholds, breaches and their answers, the status as of `generated_at`
    (section 9; `reports.card._monitoring`)."""
    more: dict[str, str] = field(default_factory=dict)
    """For a long field shown in part (`reports.limits`): the line saying what was left
    out and where it is, by field ("params", "metrics", "datasets", "approvals", ...)."""

    def cited_entries(self) -> list[EntryRef]:
        """Every entry the card cites (evidence section plus extra sections), by seq."""
        seen: dict[int, EntryRef] = {}
        for ref in [*self.evidence.cited, *(c for s in self.extra_sections for c in s.cited)]:
            seen.setdefault(ref.seq, ref)
        return sorted(seen.values(), key=lambda r: r.seq)
