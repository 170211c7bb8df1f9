"""Evaluation entries (as `explain/` records them) read into card sections, robustly.

Each reader takes an `evaluation.recorded` entry and returns its section: headline numbers
from the entry's summary, larger tables (ROC points, per-group confidence intervals,
example reason codes) from the stored artifacts whose digests the entry holds. A missing
key, an artifact that is not in the store or no longer hashes to its digest, or an unknown
key never fails the card: the section says what is missing, and unknown keys become
generic tables (`reports.tables`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledger.log.entries import Entry
from ledger.store import ArtifactStore
from reports.card._fairness_section import read_fairness
from reports.sections import (
    ArtifactReader,
    Estimate,
    SectionBase,
    number,
    section_fields,
)
from reports.tables import summary_tables

EXAMPLE_NOTICES = 5
MAX_METRIC_ROWS = 40
MAX_CALIBRATION_BINS = 20
MAX_ROC_POINTS = 1000
MAX_PSI_COLUMNS = 40
MAX_SHIFTED_NAMES = 20
"""Bounds on what a section shows of a long summary (see `reports.limits` for why): a
performance evaluation reports about ten metrics and ten deciles, a ROC curve is drawn
well with a thousand points, a stability table of 40 columns covers a credit model."""

# --- performance -------------------------------------------------------------------------

_METRIC_LABELS = {
    "auc": "AUC (area under the ROC curve)",
    "gini": "Gini (2 x AUC - 1)",
    "ks": "Kolmogorov-Smirnov (KS)",
    "ks_threshold": "Cut-off where KS is reached",
    "brier": "Brier score (lower is better)",
    "n": "Applicants evaluated",
    "n_good": "Good outcomes (y = 1)",
}
_PERFORMANCE_KEYS = {
    "evaluation",
    "metrics",
    "confusion",
    "calibration",
    "before",
    "change",
    "library_versions",
    "intervals",
    "interval_confidence",
    "n_bootstrap",
}


@dataclass
class MetricRow:
    key: str
    label: str
    value: Any
    before: Any = None
    change: float | None = None
    interval: Estimate | None = None
    """The bootstrap confidence interval, when the evaluation recorded one."""


@dataclass
class PerformanceSection(SectionBase):
    metrics: list[MetricRow] = field(default_factory=list)
    confusion: dict[str, Any] = field(default_factory=dict)
    calibration: list[dict[str, Any]] = field(default_factory=list)
    roc_fpr: list[float] = field(default_factory=list)
    roc_tpr: list[float] = field(default_factory=list)
    interval_note: str = ""

    def metric(self, key: str) -> float | None:
        """A headline metric by key (auc, gini, ks, brier...)."""
        return next((number(m.value) for m in self.metrics if m.key == key), None)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def read_performance(entry: Entry, store: ArtifactStore | None) -> PerformanceSection:
    section = PerformanceSection(**section_fields(entry, "performance evaluation"))
    s = section.summary
    metrics, before, change, intervals = (
        _object(s.get(k)) for k in ("metrics", "before", "change", "intervals")
    )
    order = list(_METRIC_LABELS)
    ranked = sorted(
        metrics.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)
    )
    if len(ranked) > MAX_METRIC_ROWS:
        section.notes.append(
            f"Showing {MAX_METRIC_ROWS} of {len(ranked):,} metrics; the others are in the "
            "entry (proven in evidence.json)."
        )
    for key, value in ranked[:MAX_METRIC_ROWS]:
        bounds = _object(intervals.get(key))
        interval = Estimate(
            number(value), number(bounds.get("ci_low")), number(bounds.get("ci_high"))
        )
        section.metrics.append(
            MetricRow(
                key,
                _METRIC_LABELS.get(key, key.replace("_", " ")),
                value,
                before.get(key),
                number(change.get(key)),
                interval if interval.low is not None and interval.high is not None else None,
            )
        )
    confidence = number(s.get("interval_confidence"))
    if intervals and confidence is not None:
        section.interval_note = (
            f"In brackets: {confidence:.0%} bootstrap percentile intervals over "
            f"{s.get('n_bootstrap')} resamples of the evaluated applicants."
        )
    if isinstance(s.get("confusion"), dict):
        section.confusion = dict(s["confusion"])
    if isinstance(s.get("calibration"), list):
        bins = [b for b in s["calibration"] if isinstance(b, dict)]
        section.calibration = bins[:MAX_CALIBRATION_BINS]
        if len(bins) > MAX_CALIBRATION_BINS:
            section.notes.append(
                f"Showing {MAX_CALIBRATION_BINS} of {len(bins):,} calibration bins; the others "
                "are in the entry (proven in evidence.json)."
            )
    roc = ArtifactReader(store, entry, section.notes).json("roc_curve.json")
    if isinstance(roc, dict):
        fpr = [number(v) for v in roc.get("false_positive_rate") or []]
        tpr = [number(v) for v in roc.get("true_positive_rate") or []]
        pairs = [(f, t) for f, t in zip(fpr, tpr, strict=False) if f is not None and t is not None]
        if len(pairs) > MAX_ROC_POINTS:  # evenly spaced points, the first and last kept
            step = (len(pairs) - 1) / (MAX_ROC_POINTS - 1)
            pairs = [pairs[round(i * step)] for i in range(MAX_ROC_POINTS)]
        section.roc_fpr = [p[0] for p in pairs]
        section.roc_tpr = [p[1] for p in pairs]
    section.extra = summary_tables(s, title="Further performance results", skip=_PERFORMANCE_KEYS)
    return section


# --- explanations and reason codes ----------------------------------------------------------


@dataclass
class ExplanationSection(SectionBase):
    importance: list[dict[str, Any]] = field(default_factory=list)


def read_explanation(entry: Entry, store: ArtifactStore | None) -> ExplanationSection:
    section = ExplanationSection(**section_fields(entry, "SHAP explanation"))
    s = section.summary
    section.importance = [
        i for i in s.get("importance") or [] if isinstance(i, dict) and "feature" in i
    ]
    section.extra = summary_tables(
        s, title="Explanation details", skip={"evaluation", "importance", "library_versions"}
    )
    return section


@dataclass
class Notice:
    row_id: str
    score: float | None
    reasons: list[dict[str, Any]]


@dataclass
class ReasonCodeSection(SectionBase):
    frequency: list[dict[str, Any]] = field(default_factory=list)
    examples: list[Notice] = field(default_factory=list)


def read_reason_codes(entry: Entry, store: ArtifactStore | None) -> ReasonCodeSection:
    section = ReasonCodeSection(**section_fields(entry, "adverse-action reason codes"))
    s = section.summary
    section.frequency = [f for f in s.get("reason_frequency") or [] if isinstance(f, dict)]
    top_k = int(number(s.get("top_k")) or 4)
    rows = ArtifactReader(store, entry, section.notes).csv_rows(
        "reason_codes.csv", EXAMPLE_NOTICES * top_k + 1
    )
    notices: dict[str, Notice] = {}
    for row in rows or []:
        row_id = row.get("row_id", "")
        if row_id not in notices:
            if len(notices) == EXAMPLE_NOTICES:
                break
            notices[row_id] = Notice(row_id, _float_text(row.get("score")), [])
        notices[row_id].reasons.append(row)
    section.examples = list(notices.values())
    section.extra = summary_tables(
        s,
        title="Reason code settings",
        skip={"evaluation", "reason_frequency", "library_versions"},
    )
    return section


def _float_text(text: str | None) -> float | None:
    try:
        return number(float(text or ""))
    except ValueError:
        return None


# --- stability -----------------------------------------------------------------------------


@dataclass
class StabilitySection(SectionBase):
    score: dict[str, Any] | None = None
    features: list[dict[str, Any]] = field(default_factory=list)
    shifted: list[str] = field(default_factory=list)


def read_stability(entry: Entry, store: ArtifactStore | None) -> StabilitySection:
    section = StabilitySection(**section_fields(entry, "stability (PSI) evaluation"))
    s = section.summary
    section.score = s.get("score") if isinstance(s.get("score"), dict) else None
    features = [
        f
        for f in s.get("features") or []
        if isinstance(f, dict) and number(f.get("psi")) is not None
    ]
    if len(features) > MAX_PSI_COLUMNS:
        section.notes.append(
            f"Showing the {MAX_PSI_COLUMNS} columns with the highest PSI of {len(features):,}; "
            "the others are in the entry (proven in evidence.json)."
        )
        features = sorted(features, key=lambda f: -(number(f.get("psi")) or 0.0))
    section.features = features[:MAX_PSI_COLUMNS]
    shifted = [str(c) for c in s.get("shifted") or []]
    section.shifted = shifted[:MAX_SHIFTED_NAMES]
    if len(shifted) > MAX_SHIFTED_NAMES:
        section.shifted.append(f"and {len(shifted) - MAX_SHIFTED_NAMES:,} more")
    section.extra = summary_tables(
        s,
        title="Stability settings",
        skip={"evaluation", "score", "features", "shifted", "library_versions"},
    )
    return section


# --- anything else -------------------------------------------------------------------------


@dataclass
class GenericEvaluation(SectionBase):
    evaluation: str = ""


def read_generic(entry: Entry, store: ArtifactStore | None) -> GenericEvaluation:
    name = str(entry.statement.payload.get("evaluation", "evaluation"))
    section = GenericEvaluation(**section_fields(entry, f"{name} evaluation"), evaluation=name)
    section.extra = summary_tables(
        section.summary,
        title=name.replace("_", " ").capitalize(),
        skip={"evaluation", "library_versions"},
    )
    return section


READERS = {
    "performance": read_performance,
    "explanation": read_explanation,
    "reason_codes": read_reason_codes,
    "fairness": read_fairness,
    "stability": read_stability,
}


def latest_by_kind(evaluations: list[Entry]) -> dict[str, Entry]:
    """The latest evaluation entry of each kind (a newer one supersedes an older one)."""
    latest: dict[str, Entry] = {}
    for entry in sorted(evaluations, key=lambda e: e.seq):
        latest[str(entry.statement.payload.get("evaluation", ""))] = entry
    return latest
