"""Kind-specific payload models: what each statement kind must and may carry.

Payloads are validated, never rewritten: the ledger stores (and the actor signs) the JSON
the actor sent, so a validated payload is checked against these models and kept as is.
Unknown fields are refused so that a typo (`metircs`) is an error, not silent data loss;
`tags` is the place for free-form labels.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from ledger.errors import InvalidStatement, InvalidTimeBound
from ledger.log.kinds import Kind
from ledger.log.time_bounds import time_bound

Digest = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
"""A lowercase hex SHA-256 digest (artifact digests, dataset fingerprints, entry hashes)."""

ShortText = Annotated[str, StringConstraints(max_length=500)]
Scalar = str | int | float | bool | None
FeatureName = Annotated[str, StringConstraints(min_length=1, max_length=200)]


def _on_the_calendar(value: str) -> str:
    try:
        time_bound(value, "the period", end=False)
    except InvalidTimeBound as exc:
        raise ValueError(exc.message) from None
    return value


DateOrTime = Annotated[
    str,
    StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z)?$"),
    AfterValidator(_on_the_calendar),
]
"""A day (2026-11-30) or an RFC 3339 UTC time (2026-11-30T12:00:00Z) that exists on the
calendar (`ledger.time_bounds`: no 30 February, no month 13)."""

_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]|^\.{1,2}$")


class Payload(BaseModel):
    """Base of every payload model: strict about unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


ArtifactRole = Literal[
    "model", "explanation-background", "document", "table", "chart", "data", "other"
]
"""The roles an artifact can have; `model` is the one rules read. `explanation-background`
marks a run's reference sample for SHAP reason codes (`explain.explanation_background`): a
scorer loads it back so that an applicant's reasons depend on the recorded model alone."""

EXPLANATION_BACKGROUND_ROLE = "explanation-background"

DEFAULT_ENVIRONMENT = "production"
"""The environment a promotion goes to when its payload names none."""


def model_files(run_payload: Mapping[str, Any]) -> list[str]:
    """The digests of a run's model files: its artifacts with role `model`, the bytes a
    promotion binds a deployment to. Part of the record format because a serving answer's
    checker (`ledger.log.serving_answer`, and the client through it) reads it too."""
    return [
        str(a["sha256"])
        for a in run_payload.get("artifacts", ())
        if isinstance(a, Mapping) and a.get("role") == "model"
    ]


class ModelSerialization(Payload):
    """How a model file was made from the model object (`Run.log_model(model)`): its
    flavour, the file format, and the library and version that wrote it, so that a reader
    knows what loads it and whether loading runs code (pickled formats do)."""

    flavour: Literal["sklearn", "xgboost", "lightgbm", "python"]
    format: Literal[
        "joblib",
        "pickle",
        "xgboost-ubj",
        "lightgbm-text",
        "xgboost-sklearn-joblib",
        "lightgbm-sklearn-joblib",
    ]
    library: ShortText | None = None
    library_version: ShortText | None = None


class ArtifactRef(Payload):
    """A file the entry cites, by SHA-256 digest.

    `stored` is true when the bytes are in the ledger's artifact store; verification then
    re-hashes them. A digest-only reference (bytes kept elsewhere) has `stored` false.
    """

    name: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    sha256: Digest
    size: int | None = Field(default=None, ge=0)
    media_type: ShortText | None = None
    stored: bool = False
    role: ArtifactRole | None = None
    """What the file is to the entry: `model` marks a run's model file, the bytes a
    promotion binds the deployment to (`DeploymentPayload.model_sha256`)."""
    serialization: ModelSerialization | None = None
    """For a model file logged from the model object: its flavour and format."""

    @field_validator("name")
    @classmethod
    def _name_is_a_plain_file_name(cls, value: str) -> str:
        if _UNSAFE_NAME.search(value):
            raise ValueError(
                "artifact name must be a plain file name: no '/', '\\', control characters, "
                "'.' or '..'"
            )
        return value


FingerprintScheme = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9.-]{0,62}/[0-9]{1,4}$")
]
"""How a dataset's `sha256` was computed, `name/version` (docs/fingerprint.md):
`govledger-columns/1` (a data frame's column values and types), `govledger-numpy/1` (an
array's dtype, shape and bytes), `file-bytes/1` (a file's bytes)."""

CSV_TEXT_FINGERPRINT = "csv-text/1"
"""The scheme a data frame's fingerprint without a `fingerprint` field was made by: SHA-256
of `frame.to_csv(index=False)` in UTF-8 (the client before `govledger-columns/1`)."""


class DatasetRef(Payload):
    """A dataset fingerprint: what data, how many rows, and the SHA-256 of its bytes.

    `fingerprint` names the scheme the digest was computed by; entries written before it
    existed have none, and their digests are read as the older client made them (a data
    frame's CSV text, `CSV_TEXT_FINGERPRINT`; an array's or a file's bytes), so they still
    verify and render as they did."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    rows: int = Field(ge=0)
    sha256: Digest
    role: Literal["training", "validation", "test", "evaluation", "monitoring", "other"] = (
        "training"
    )
    columns: list[Annotated[str, StringConstraints(max_length=200)]] | None = None
    fingerprint: FingerprintScheme | None = None


def fingerprint_scheme(dataset: Mapping[str, Any]) -> str:
    """The scheme a recorded dataset's digest was made by, old entries included: the
    recorded `fingerprint`, else `csv-text/1` for a data frame (columns recorded) and
    `bytes` for an array or a file (the older client recorded no columns for those)."""
    recorded = dataset.get("fingerprint")
    if isinstance(recorded, str) and recorded:
        return recorded
    return CSV_TEXT_FINGERPRINT if dataset.get("columns") is not None else "bytes"


class ModelRegisteredPayload(Payload):
    """A model enters the inventory (SR 26-2: owner, users, use, tier, validation status)."""

    description: Annotated[str, StringConstraints(max_length=5000)] = ""
    decision: Annotated[str, StringConstraints(max_length=2000)] = ""
    owner: ShortText | None = None
    users: list[ShortText] = []
    intended_use: Annotated[str, StringConstraints(max_length=5000)] = ""
    out_of_scope_uses: list[Annotated[str, StringConstraints(max_length=2000)]] = []
    materiality_tier: ShortText | None = None
    is_model: bool = True
    validation_status: ShortText | None = None
    next_review: ShortText | None = None
    tags: dict[str, ShortText] = {}


ENVIRONMENT_SCHEME: Literal["govledger-environment/1"] = "govledger-environment/1"
PackageName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
SeedName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
MAX_SAFE_INTEGER = 2**53 - 1
"""The largest integer every JSON reader keeps exactly (RFC 8785 section 3.2.2.3)."""


class PythonRuntime(Payload):
    """The interpreter a run trained in (`sys.version_info`, `platform.python_implementation`)."""

    version: ShortText
    implementation: ShortText


class PlatformInfo(Payload):
    """The operating system and CPU architecture (`platform.system`, `.release`, `.machine`)."""

    system: ShortText
    release: ShortText = ""
    machine: ShortText


class LockFile(Payload):
    """A lock file the run declared its environment by: its file name and SHA-256."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    sha256: Digest
    format: Literal["toml", "json", "requirements"]


class GitState(Payload):
    """The git checkout the run's code came from: HEAD, whether the work tree differed from
    it (`git status --porcelain` not empty), and then the SHA-256 of `git diff HEAD --binary`
    (untracked files are counted as dirt but are not in that diff)."""

    revision: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{40}([0-9a-f]{24})?$")]
    dirty: bool
    diff_sha256: Digest | None = None

    @model_validator(mode="after")
    def _diff_only_when_dirty(self) -> GitState:
        if self.diff_sha256 is not None and not self.dirty:
            raise ValueError("a clean work tree has no diff_sha256")
        return self


class RunEnvironment(Payload):
    """What a run was trained with, captured by the client unless switched off
    (`LedgerClient.run(..., capture_environment=False)`); docs/architecture.md, "What a run
    records of its environment". `packages` (canonical distribution name -> version) or
    `lock_file`; `git` is None when the code was not in a git checkout or git was not found.
    Nothing here names a person, a host or a path."""

    scheme: Literal["govledger-environment/1"] = ENVIRONMENT_SCHEME
    python: PythonRuntime
    platform: PlatformInfo
    packages: dict[PackageName, ShortText] | None = Field(default=None, max_length=10_000)
    lock_file: LockFile | None = None
    git: GitState | None = None


MAX_SERIES = 100
"""Metric series (training curves) one run may carry."""
MAX_SERIES_POINTS = 5_000
"""Points in one series: an epoch or boosting round each is a few hundred to a few thousand;
5,000 points with timestamps are about 300 KB of the 1 MiB a statement may hold."""
MetricName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Step = Annotated[int, Field(strict=True, ge=0, le=MAX_SAFE_INTEGER)]
SeriesPoint = tuple[Step, float] | tuple[Step, float, DateOrTime]
"""One point of a training curve: (step, value) or (step, value, the time it was logged)."""


class RunPayload(Payload):
    """A training run: parameters, metrics, data fingerprints, code revision, artifacts, the
    environment it ran in and the random seeds it declared (both absent in older runs)."""

    run_id: ShortText | None = None
    algorithm: ShortText | None = None
    params: dict[str, Scalar] = {}
    metrics: dict[str, float | None] = {}
    tags: dict[str, ShortText] = {}
    datasets: list[DatasetRef] = []
    code_revision: ShortText | None = None
    artifacts: list[ArtifactRef] = []
    parent_run: Digest | None = None
    features: list[FeatureName] | None = Field(default=None, max_length=5000)
    """The input features the model scores: what a reason-code catalogue may name
    (`ledger.catalogue`; without it, the training datasets' columns are used)."""
    environment: RunEnvironment | None = None
    seeds: dict[SeedName, int | ShortText] = Field(default={}, max_length=1000)
    """Random seeds the run declared (`Run.log_seed`), by what they seed; an integer beyond
    2**53 - 1 is recorded as its decimal string, which JSON keeps exactly."""
    metric_series: dict[
        MetricName, Annotated[list[SeriesPoint], Field(min_length=1, max_length=MAX_SERIES_POINTS)]
    ] = Field(default={}, max_length=MAX_SERIES)
    """Metrics logged with a step (`Run.log_metric(name, value, step=N)`), point by point in
    the order logged; `metrics` holds each one's value at its last step, so a reader that
    knows no series reads the run as before."""
    allow_unregistered: bool = False
    """The user asked to log this run although its model is not registered (the inventory
    rule, `ledger.governance` `check_run_registered`)."""

    @field_validator("seeds")
    @classmethod
    def _seeds_are_exact(cls, value: dict[str, int | str]) -> dict[str, int | str]:
        for name, seed in value.items():
            if isinstance(seed, bool) or (isinstance(seed, int) and abs(seed) > MAX_SAFE_INTEGER):
                raise ValueError(
                    f"seed {name!r} must be an integer up to 2**53 - 1 or its decimal string"
                )
        return value


class RecalibrationPayload(RunPayload):
    """A recalibration: a new version derived from a parent run, with before/after metrics.

    `breaches` names the monitoring reports (`monitoring.reported`) whose breach this
    recalibration answers, so the lifecycle shows why the model changed."""

    parent_run: Digest
    metrics_before: dict[str, float | None] = {}
    breaches: list[Digest] = Field(default=[], max_length=100)


class EvaluationPayload(Payload):
    """Explainer or metric results (as produced by `explain/`) for one model version.

    Large tables are artifacts; `summary` holds the headline numbers the card cites.
    """

    evaluation: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    summary: dict[str, Any] = {}
    datasets: list[DatasetRef] = []
    artifacts: list[ArtifactRef] = []
    library_versions: dict[str, ShortText] = {}
    run: Digest | None = None
    compared_with: Digest | None = None
    """A comparison's other side: the run entry_hash of the version this one was compared
    with on the same sample (the serving champion, for a `champion_challenger`
    evaluation); cited like a parent run, so it must be a run of the same model."""


class DecisionPayload(Payload):
    """An approval or rejection, signed by the approver over the entry it decides on.

    `run` is the entry_hash of the version's run entry: the signature binds the decision to
    the exact evidence reviewed, so it cannot be moved to another run. `subject` generalises
    it: the entry_hash of what is decided, the version's run or one of its
    `catalogue.recorded` entries. Exactly one of the two is given; `run` stays for the
    decisions already in ledgers.
    """

    role: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    run: Digest | None = None
    subject: Digest | None = None
    evidence: list[Digest] = []
    conditions: list[Annotated[str, StringConstraints(max_length=2000)]] = []

    @model_validator(mode="after")
    def _one_subject(self) -> DecisionPayload:
        if (self.run is None) == (self.subject is None):
            raise ValueError(
                "name what is decided: either run (the version's run entry_hash) or subject "
                "(the entry_hash of the run or of a catalogue.recorded entry), not both"
            )
        return self

    @property
    def decided(self) -> str:
        """The entry_hash (hex) of the entry this decision is about."""
        return str(self.subject or self.run)


EnvironmentName = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
]
"""An environment's name (production, staging, shadow...): lowercase, as configured."""


class DeploymentPayload(Payload):
    """A version promoted to an environment, bound to one model file.

    `model_sha256` is the SHA-256 of the model file the approvals covered: an artifact with
    role `model` of the version's run (admission refuses a promotion that names none, or
    a digest the run does not cite). A promotion into an environment that serves one
    version at a time replaces the version serving there (`ledger.governance._serving`).
    A `rollback` promotes an earlier version that served there before and is still
    approved; the policy says whether it needs its approvals anew. `replaces`, when given,
    is the promotion serving there now (a compare-and-swap: refused if another promotion
    got there first)."""

    environment: EnvironmentName = DEFAULT_ENVIRONMENT
    approvals: list[Digest] = []
    model_sha256: Digest | None = None
    rollback: bool = False
    replaces: Digest | None = None


class ServingCheckedPayload(Payload):
    """A scoring host checked its model file against what serves in an environment
    (`govledger verify-model --record`): which file, on which host, and the answer."""

    environment: EnvironmentName
    model_sha256: Digest
    host: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    outcome: Literal["accepted", "refused"]
    promotion: Digest | None = None
    """The promotion serving when the file was accepted (absent when refused and nothing
    serves)."""
    tree_size: int = Field(ge=0)
    """The size of the log the answer was proven against."""
    detail: Annotated[str, StringConstraints(max_length=2000)] = ""


class RetirementPayload(Payload):
    """A model or version leaves service."""

    replacement: ShortText | None = None


class PasskeyPayload(Payload):
    """What verifying a passkey's assertions needs besides its public key (W3C Web
    Authentication Level 3, section 7.2): the algorithm, the relying party and the origins."""

    credential_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{16,1366}$")]
    """The credential id the browser names the passkey by, base64url without padding."""
    algorithm: Literal["ES256", "EdDSA"]
    rp_id: Annotated[str, StringConstraints(min_length=1, max_length=253)]
    origins: Annotated[
        list[Annotated[str, StringConstraints(pattern=r"^https?://[^/\s]{1,260}$")]],
        Field(min_length=1, max_length=8),
    ]
    label: Annotated[str, StringConstraints(max_length=100)] = ""
    """The approver's name for the authenticator ("laptop", "security key")."""


class KeyRegisteredPayload(Payload):
    """An actor's public key, self-signed by that key (proof of possession).

    `ed25519`: a key file of the CLI, raw 32 bytes in standard base64. `webauthn`: a passkey,
    its DER SubjectPublicKeyInfo in standard base64 (`ledger.log.webauthn`), registered by an
    assertion over this very statement, with the `passkey` fields its assertions are checked
    against."""

    algorithm: Literal["ed25519", "webauthn"] = "ed25519"
    key_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
    public_key: Annotated[str, StringConstraints(min_length=44, max_length=200)]
    passkey: PasskeyPayload | None = None

    @model_validator(mode="after")
    def _passkey_iff_webauthn(self) -> KeyRegisteredPayload:
        if self.algorithm == "ed25519" and (self.passkey is not None or len(self.public_key) != 44):
            raise ValueError("an ed25519 key is 44 characters of base64 and has no passkey fields")
        if self.algorithm == "webauthn" and self.passkey is None:
            raise ValueError("a webauthn key needs its passkey fields (algorithm, rp_id, origins)")
        return self


class KeyRevokedPayload(Payload):
    """A key stops being valid for new statements from this entry on."""

    key_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]


class RequestRefusedPayload(Payload):
    """A refused request worth keeping (four-eyes attempts, policy violations)."""

    attempted_kind: ShortText
    problem: ShortText
    detail: Annotated[str, StringConstraints(max_length=2000)] = ""


class NotePayload(Payload):
    """Free text, optionally citing entries and attaching documents.

    A regulatory document (risk-management file, declaration of conformity, post-market
    monitoring plan...) is a note with its file as an artifact and `tags.document` naming
    it, which the regime checklists (`reports/regimes`) look for."""

    text: Annotated[str, StringConstraints(max_length=20000)] = ""
    refers_to: list[Digest] = []
    tags: dict[str, ShortText] = {}
    artifacts: list[ArtifactRef] = []


class ReasonEntry(Payload):
    """One catalogue line: a scored feature (optionally some of its values) -> a reason.

    The shape of `explain.reason_catalogue.CatalogueEntry`, so that a recorded catalogue is
    the catalogue the reason codes are computed with."""

    feature: FeatureName
    values: list[Scalar] | None = Field(default=None, max_length=1000)
    code: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    statement: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class CataloguePayload(Payload):
    """A version of a model version's adverse-action reason catalogue (Regulation B).

    Admission refuses an entry whose feature the version does not score (ledger.catalogue);
    it is in force once approved like a run (decisions with `subject` = this entry)."""

    catalogue_version: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    entries: list[ReasonEntry] = Field(min_length=1, max_length=5000)
    supersedes: Digest | None = None
    tags: dict[str, ShortText] = {}

    @model_validator(mode="after")
    def _one_general_entry_per_feature(self) -> CataloguePayload:
        general = [e.feature for e in self.entries if e.values is None]
        repeated = sorted({f for f in general if general.count(f) > 1})
        if repeated:
            raise ValueError(f"more than one value-independent entry for {', '.join(repeated)}")
        return self


class DecisionScope(Payload):
    """Which automated decisions an oversight record is about: ids and/or a period."""

    application_ids: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        default=[], max_length=10000
    )
    since: DateOrTime | None = None
    until: DateOrTime | None = None


class OversightPayload(Payload):
    """A human oversight record (EU AI Act Art. 14; rules in ledger.oversight).

    `override` names the decisions it overrides (`decisions`) and the human `outcome`;
    `measures` names who is assigned and the procedure; `stop` and `resume` may name the
    decisions affected. `refers_to` cites entries (a resume cites the stop it lifts)."""

    action: Literal["measures", "override", "stop", "resume"]
    decisions: DecisionScope | None = None
    outcome: ShortText | None = None
    assigned_to: list[ShortText] = []
    capabilities: list[Literal["understand", "interpret", "override", "stop"]] = []
    procedure: Annotated[str, StringConstraints(max_length=20000)] = ""
    refers_to: list[Digest] = []
    tags: dict[str, ShortText] = {}

    @model_validator(mode="after")
    def _says_what_it_covers(self) -> OversightPayload:
        if self.action == "override":
            scope = self.decisions
            if scope is None or not (scope.application_ids or scope.since or scope.until):
                raise ValueError(
                    "an override must name the decisions it overrides: "
                    "decisions.application_ids or a period (decisions.since/until)"
                )
            if not self.outcome:
                raise ValueError("an override must state the human outcome (outcome)")
        if self.action == "measures" and not self.assigned_to:
            raise ValueError("oversight measures must name who is assigned (assigned_to)")
        return self


MeasureName = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[a-z0-9_]+(:[^\x00-\x1f]+)?$")
]
"""A monitored measure: `score_psi`, `approval_rate`, `default_rate`, `auc`, `ks`, `brier`,
or a measure of one feature or group after a colon (`csi:age`, `four_fifths:sex=female`)."""


class Threshold(Payload):
    """When a measure is amber and when red, and which way is worse.

    `higher_is_worse` (PSI, default rate, Brier): amber at or above `amber`, red at or
    above `red`, so red >= amber; `lower_is_worse` (AUC, KS, a four-fifths ratio): amber at
    or below `amber`, red at or below `red`, so red <= amber."""

    amber: float
    red: float
    direction: Literal["higher_is_worse", "lower_is_worse"] = "higher_is_worse"

    @model_validator(mode="after")
    def _red_beyond_amber(self) -> Threshold:
        worse = (
            self.red >= self.amber
            if self.direction == "higher_is_worse"
            else self.red <= self.amber
        )
        if not worse:
            way = "at or above" if self.direction == "higher_is_worse" else "at or below"
            raise ValueError(
                f"thresholds out of order: with {self.direction} the red threshold must be "
                f"{way} the amber one (amber {self.amber}, red {self.red})"
            )
        return self

    def status(self, value: float | None) -> str | None:
        """green, amber or red for a value (None: not measured)."""
        if value is None:
            return None
        if self.direction == "higher_is_worse":
            return "red" if value >= self.red else "amber" if value >= self.amber else "green"
        return "red" if value <= self.red else "amber" if value <= self.amber else "green"


Cadence = Literal["weekly", "monthly", "quarterly"]
CADENCE_DAYS: dict[str, int] = {"weekly": 7, "monthly": 31, "quarterly": 92}
"""The longest period between two reports each cadence allows (a month may have 31 days)."""


class Period(Payload):
    """A period of decisions or outcomes: first and last day (or time), both included."""

    start: DateOrTime
    end: DateOrTime

    @model_validator(mode="after")
    def _in_order(self) -> Period:
        if self.end[:10] < self.start[:10] or (
            len(self.end) == len(self.start) and self.end < self.start
        ):
            raise ValueError(f"the period ends ({self.end}) before it starts ({self.start})")
        return self


class MonitoringPlanPayload(Payload):
    """What production monitoring of a version measures, against which reference, how often,
    and who must answer a breach (SR 26-2 ongoing monitoring; EU AI Act Art. 72 post-market
    monitoring plan). In force once approved like a model change."""

    environment: EnvironmentName = "production"
    measures: dict[MeasureName, Threshold] = Field(min_length=1, max_length=500)
    features: list[FeatureName] = Field(min_length=1, max_length=5000)
    """The columns every monitored sample must have (a sample with others is refused)."""
    reference: DatasetRef
    """The reference sample (its fingerprint) the shifts are measured against."""
    artifacts: list[ArtifactRef] = []
    """The reference profile (bin edges and shares) and any plan document."""
    cadence: Cadence = "monthly"
    responders: list[RoleName] = Field(min_length=1, max_length=10)
    """The roles that must answer a breach (one of them records the response)."""
    response_days: int = Field(default=30, ge=1, le=366)
    """How many days after a breach is reported its response is due."""
    supersedes: Digest | None = None
    tags: dict[str, ShortText] = {}


class MeasureValue(Payload):
    """A measure's value in a report, its interval when it has one, and its status under
    the plan's thresholds (admission checks it is the status the thresholds give)."""

    value: float | None
    status: Literal["green", "amber", "red"] | None = None
    ci_low: float | None = None
    ci_high: float | None = None


class MonitoringReportPayload(Payload):
    """One period's measures under a plan. `period` is when the decisions were made;
    `outcome_window`, for measures of matured outcomes (default rate, AUC...), is when the
    outcomes were observed, so a report on outcomes names both."""

    plan: Digest
    environment: EnvironmentName = "production"
    period: Period
    outcome_window: Period | None = None
    rows: int = Field(ge=1)
    measures: dict[MeasureName, MeasureValue] = Field(min_length=1, max_length=500)
    datasets: list[DatasetRef] = []
    artifacts: list[ArtifactRef] = []
    library_versions: dict[str, ShortText] = {}


class MonitoringResponsePayload(Payload):
    """The answer to a breach (a report with a red measure) by a role the plan names:
    `accept` until `review_by`, `recalibrate` citing the recalibration run that links the
    breach, or `stop` citing the oversight stop (`refers_to`)."""

    report: Digest
    role: RoleName
    action: Literal["accept", "recalibrate", "stop"]
    review_by: DateOrTime | None = None
    refers_to: list[Digest] = Field(default=[], max_length=20)

    @model_validator(mode="after")
    def _says_what_follows(self) -> MonitoringResponsePayload:
        if self.action == "accept" and self.review_by is None:
            raise ValueError("accepting a breach needs a review date (review_by)")
        if self.action in ("recalibrate", "stop") and not self.refers_to:
            what = (
                "the recalibration's run" if self.action == "recalibrate" else "the oversight stop"
            )
            raise ValueError(f"a {self.action} response must cite {what} (refers_to)")
        return self


UserName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
RoleName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Initial = Literal["bootstrap", "migrated"] | None
"""Marks the ledger's initial access set and policy: `bootstrap` for what the operator
recorded before any admin existed, `migrated` for what an upgrade carried over from the
tables of an older release. Such entries are the ledger's own (actor `govledger`), and are
admitted only while no admin is in force (`ledger.governance._rules`)."""
Scope = Annotated[str, StringConstraints(min_length=1, max_length=64)]
"""A materiality tier or an environment a policy applies to; `*` for any."""


class AccessUserCreatedPayload(Payload):
    """A user enters the access set; `team` is what independence rules compare."""

    user: UserName
    team: ShortText | None = None
    initial: Initial = None


class AccessGrantedPayload(Payload):
    """A role granted to a user (privileged roles wait for a second admin's confirmation)."""

    user: UserName
    role: RoleName
    initial: Initial = None


class AccessConfirmedPayload(Payload):
    """A second admin confirms a pending grant: `grant` is its entry_hash."""

    grant: Digest


class AccessRevokedPayload(Payload):
    """A role taken from a user (or a pending grant withdrawn)."""

    user: UserName
    role: RoleName


class AccessKeyIssuedPayload(Payload):
    """An API key issued to a user: its id and SHA-256 of its secret (the secret never)."""

    user: UserName
    key_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]
    secret_sha256: Digest
    initial: Initial = None


class AccessKeyRevokedPayload(Payload):
    """An API key that stops authenticating from this entry on."""

    user: UserName
    key_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]


class AccessFederatedPayload(Payload):
    """A role granted through an identity provider's claim (OpenID Connect Core 1.0 section 2):
    which issuer, which claim with which value, the role and the govledger user it names.
    Only what an operator's mapping and an actor's name already hold: no email, no subject."""

    issuer: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    claim: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    value: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    role: RoleName
    user: UserName


EvidenceName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
"""An evaluation name or a regime id a policy requires (lowercase, as they are recorded)."""


class PolicyProposedPayload(Payload):
    """An approval policy for deployments of models of `tier` to `environment`.

    `required` counts distinct approvers per role (each at least 1); with
    `independent_validation`, a validator of the builder's team does not count (SR 26-2:
    validation independent of development). In force once approved (`policy.approved`)."""

    tier: Scope = "*"
    environment: Scope = "*"
    required: dict[RoleName, Annotated[int, Field(ge=1, le=100)]]
    independent_validation: bool = False
    monitoring_plan: bool = False
    """A version is promoted only with a monitoring plan in force for that environment."""
    champion_comparison: bool = False
    """A challenger replaces the version serving in the environment only after a
    `champion_challenger` evaluation against it, cited as evidence by a counted validator
    approval (`ledger.governance._serving`)."""
    rollback_approvals: bool = False
    """A rollback needs the policy's approvals anew (default: it needs none, the version
    was approved when it first served)."""
    required_evaluations: Annotated[list[EvidenceName], Field(max_length=32)] = []
    """Evaluations (their `evaluation` name: performance, fairness...) a version must have
    recorded before it is promoted (`ledger.governance._evidence`)."""
    required_regimes: Annotated[list[EvidenceName], Field(max_length=32)] = []
    """Regime checklists (reports/regulatory: eu-ai-act, reg-b, sr-26-2) that must have no
    gap at the time of the promotion (items met only in operation excepted)."""
    reviewed_catalogue: bool = False
    """A version is promoted only with a reason catalogue approved under the policy."""
    initial: Initial = None

    @field_validator("required")
    @classmethod
    def _some_approval(cls, value: dict[str, int]) -> dict[str, int]:
        if not value:
            raise ValueError("a policy must require at least one approval")
        return value


class PolicyApprovedPayload(Payload):
    """The approval that puts a proposed policy in force: `policy` is its entry_hash."""

    policy: Digest


class DecisionOutcomes(Payload):
    """How many decisions of a batch approve, decline and refer."""

    approve: int = Field(ge=0)
    decline: int = Field(ge=0)
    refer: int = Field(ge=0)


LegalBasis = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"\S")]
"""Why details may be erased or purged, citing the law: "GDPR Art. 17(1)(a)"."""
Moment = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")]
"""A moment in the ledger's own RFC 3339 form: UTC, microseconds (`ledger.log.timestamps`)."""
DecisionId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
"""A scoring service's own decision id (`ledger.log.scoring.REFERENCE`)."""


class ScoringBatchPayload(Payload):
    """One batch of scoring decisions of the statement's model version (`ledger.log.scoring`):
    the RFC 9162 root over their leaves, the count, the time range and the outcomes. No
    decision id and no applicant data: those stay in the erasable detail store. `catalogue`
    is the reason catalogue in force that the decisions' reasons come from (None when no
    decision gives a reason)."""

    environment: EnvironmentName
    count: int = Field(ge=1)
    first_decided_at: Moment
    last_decided_at: Moment
    root: Digest
    outcomes: DecisionOutcomes
    leaf_format: Literal["govledger/scoring-decision/v1"]
    catalogue: Digest | None = None

    @model_validator(mode="after")
    def _counts_add_up(self) -> ScoringBatchPayload:
        o = self.outcomes
        if o.approve + o.decline + o.refer != self.count:
            raise ValueError("outcomes must add up to count")
        if self.last_decided_at < self.first_decided_at:
            raise ValueError("last_decided_at is before first_decided_at")
        return self


class ScoringErasedPayload(Payload):
    """The details of these decisions are erased on a recorded request; their leaves stay."""

    decision_ids: list[DecisionId] = Field(min_length=1, max_length=10_000)
    legal_basis: LegalBasis


class ScoringPurgedPayload(Payload):
    """The details of every decision of the batches decided wholly before `before` are
    purged: the retention period (12 CFR 1002.12(b): 25 months) ran out."""

    before: Moment
    legal_basis: LegalBasis


ClaimedTime = Annotated[
    str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
]
"""An RFC 3339 UTC time another system claims (an MLflow run's start, a version's
creation): kept in the payload as the source's claim, never as the entry's `recorded_at`."""

SourceText = Annotated[str, StringConstraints(max_length=8000)]
"""A value as MLflow keeps it (params up to 6,000 characters, tags up to 8,000)."""
SourceKey = Annotated[str, StringConstraints(min_length=1, max_length=250)]


class ImportSource(Payload):
    """Where an imported record came from: the system, its server, and the record's ids
    there (an experiment and a run, or a registered model and a version)."""

    system: Literal["mlflow"]
    server: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    experiment_id: ShortText | None = None
    experiment: ShortText | None = None
    run_id: ShortText | None = None
    registered_model: ShortText | None = None
    model_version: ShortText | None = None


class ImportedMetric(Payload):
    """A metric's latest value as the source reports it, with its step and claimed time."""

    value: float
    step: int = 0
    timestamp: ClaimedTime | None = None


class ImportedArtifact(Payload):
    """A file the source lists for a run: its path and size. MLflow's artifact listing
    gives no digest, so `sha256` is given only when the importer downloaded and hashed the
    bytes (`govledger import-mlflow --hash-artifacts`, through the server's artifact proxy)."""

    path: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    size: int | None = Field(default=None, ge=0)
    sha256: Digest | None = None


class ImportedDataset(Payload):
    """A dataset input of a run as MLflow records it (name, MLflow's own digest, source)."""

    name: ShortText
    digest: ShortText = ""
    source_type: ShortText = ""
    context: ShortText = ""


class RunImportedPayload(Payload):
    """An MLflow run as its tracking server reported it at import.

    Every time is the source's claim. `parent_run_id` is MLflow's `mlflow.parentRunId` tag
    (the parent's run id on the same server), not a citation of an entry."""

    source: ImportSource
    run_name: ShortText = ""
    status: ShortText = ""
    user_id: ShortText = ""
    start_time: ClaimedTime | None = None
    end_time: ClaimedTime | None = None
    params: dict[SourceKey, SourceText] = {}
    metrics: dict[SourceKey, ImportedMetric] = {}
    tags: dict[SourceKey, SourceText] = {}
    parent_run_id: ShortText | None = None
    artifacts: list[ImportedArtifact] = Field(default=[], max_length=10_000)
    datasets: list[ImportedDataset] = []

    @model_validator(mode="after")
    def _names_its_run(self) -> RunImportedPayload:
        if not self.source.run_id or not self.source.experiment_id:
            raise ValueError("an imported run's source names its experiment_id and run_id")
        return self


class RegistryImportedPayload(Payload):
    """A registered model version as MLflow's registry reported it at import.

    `current_stage` and `aliases` are the registry's labels at that moment; a stage of
    Production is what MLflow said, never an approval or a deployment here. Open-source
    MLflow reports no history of stage transitions, only the current stage and when the
    version last changed, so each import that finds a change records the new state."""

    source: ImportSource
    run_id: ShortText | None = None
    source_uri: Annotated[str, StringConstraints(max_length=2000)] = ""
    status: ShortText = ""
    current_stage: ShortText = ""
    aliases: list[ShortText] = []
    creation_time: ClaimedTime | None = None
    last_updated_time: ClaimedTime | None = None
    user_id: ShortText = ""
    description: Annotated[str, StringConstraints(max_length=5000)] = ""
    tags: dict[SourceKey, SourceText] = {}

    @model_validator(mode="after")
    def _names_its_version(self) -> RegistryImportedPayload:
        if not self.source.registered_model or not self.source.model_version:
            raise ValueError(
                "an imported registry state's source names its registered_model and model_version"
            )
        return self


PAYLOAD_MODELS: dict[Kind, type[Payload]] = {
    Kind.MODEL_REGISTERED: ModelRegisteredPayload,
    Kind.RUN_TRAINING: RunPayload,
    Kind.RUN_RECALIBRATION: RecalibrationPayload,
    Kind.EVALUATION_RECORDED: EvaluationPayload,
    Kind.APPROVAL_GRANTED: DecisionPayload,
    Kind.APPROVAL_REJECTED: DecisionPayload,
    Kind.DEPLOYMENT_PROMOTED: DeploymentPayload,
    Kind.SERVING_CHECKED: ServingCheckedPayload,
    Kind.MONITORING_PLAN: MonitoringPlanPayload,
    Kind.MONITORING_REPORTED: MonitoringReportPayload,
    Kind.MONITORING_RESPONDED: MonitoringResponsePayload,
    Kind.MODEL_RETIRED: RetirementPayload,
    Kind.KEY_REGISTERED: KeyRegisteredPayload,
    Kind.KEY_REVOKED: KeyRevokedPayload,
    Kind.REQUEST_REFUSED: RequestRefusedPayload,
    Kind.NOTE: NotePayload,
    Kind.CATALOGUE_RECORDED: CataloguePayload,
    Kind.OVERSIGHT_RECORDED: OversightPayload,
    Kind.ACCESS_USER_CREATED: AccessUserCreatedPayload,
    Kind.ACCESS_GRANTED: AccessGrantedPayload,
    Kind.ACCESS_CONFIRMED: AccessConfirmedPayload,
    Kind.ACCESS_REVOKED: AccessRevokedPayload,
    Kind.ACCESS_KEY_ISSUED: AccessKeyIssuedPayload,
    Kind.ACCESS_KEY_REVOKED: AccessKeyRevokedPayload,
    Kind.ACCESS_FEDERATED: AccessFederatedPayload,
    Kind.POLICY_PROPOSED: PolicyProposedPayload,
    Kind.POLICY_APPROVED: PolicyApprovedPayload,
    Kind.SCORING_BATCH: ScoringBatchPayload,
    Kind.SCORING_ERASED: ScoringErasedPayload,
    Kind.SCORING_PURGED: ScoringPurgedPayload,
    Kind.RUN_IMPORTED: RunImportedPayload,
    Kind.REGISTRY_IMPORTED: RegistryImportedPayload,
}


def validate_payload(kind: Kind, payload: dict[str, Any]) -> Payload:
    """Validate a payload for its kind; raise InvalidStatement naming each bad field."""
    model = PAYLOAD_MODELS[kind]
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        problems = "; ".join(
            f"payload.{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}"
            for err in exc.errors(include_url=False)
        )
        raise InvalidStatement(f"{kind.value} payload is invalid: {problems}") from None
