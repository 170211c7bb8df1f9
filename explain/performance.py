"""Discrimination and calibration of a credit score: AUC, Gini, KS, Brier, deciles, ROC.

`y_score` is the model's probability of good risk (class 1) and `threshold` the decision
cut-off (approve at or above it). A recalibration can pass the report of the model before
it as `before=`: the new report then carries both sets of headline metrics and the change.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve

from explain.checks import as_binary, as_probability, same_length
from explain.errors import InvalidParameter, SingleClassTarget
from explain.results import EvaluationResult, OptionalFloat, csv_bytes, json_bytes, library_versions

MAX_ROC_POINTS = 200
N_CALIBRATION_BINS = 10
_HEADLINE = ("auc", "gini", "ks", "brier")


class PerformanceMetrics(BaseModel):
    """Headline metrics of one score on one sample."""

    model_config = ConfigDict(frozen=True)

    n: int
    n_good: int = Field(description="applicants with y_true = 1")
    auc: float = Field(description="area under the ROC curve")
    gini: float = Field(description="2 x AUC - 1 (accuracy ratio)")
    ks: float = Field(description="Kolmogorov-Smirnov: max |TPR - FPR| over cut-offs")
    ks_threshold: OptionalFloat = Field(description="the cut-off where KS is reached")
    brier: float = Field(description="mean squared error of the probability")


class ConfusionAtThreshold(BaseModel):
    """Decisions at the cut-off (approve when score >= threshold) against outcomes."""

    model_config = ConfigDict(frozen=True)

    threshold: float
    tp: int = Field(description="good applicants approved")
    fp: int = Field(description="bad applicants approved")
    fn: int = Field(description="good applicants declined")
    tn: int = Field(description="bad applicants declined")
    approval_rate: float
    accuracy: float
    true_positive_rate: OptionalFloat
    false_positive_rate: OptionalFloat
    precision: OptionalFloat


class CalibrationBin(BaseModel):
    """One score decile: predicted against observed good rate."""

    model_config = ConfigDict(frozen=True)

    decile: int = Field(description="1 = lowest scores")
    n: int
    min_score: float
    max_score: float
    mean_score: float
    observed_good_rate: float


class Interval(BaseModel):
    """A bootstrap percentile confidence interval of a headline metric."""

    model_config = ConfigDict(frozen=True)

    ci_low: float
    ci_high: float


class PerformanceReport(EvaluationResult):
    """Performance of a score on a labelled sample."""

    evaluation: Literal["performance"] = "performance"
    metrics: PerformanceMetrics
    confusion: ConfusionAtThreshold
    calibration: list[CalibrationBin]
    roc_false_positive_rate: list[float] = Field(description=f"<= {MAX_ROC_POINTS} points")
    roc_true_positive_rate: list[float]
    roc_thresholds: list[OptionalFloat] = Field(description="None for the (inf) first point")
    before: PerformanceMetrics | None = Field(
        default=None, description="metrics of the model this one replaces (recalibration)"
    )
    change: dict[str, OptionalFloat] | None = Field(
        default=None, description="metrics minus before's, for auc, gini, ks, brier"
    )
    intervals: dict[str, Interval] | None = Field(
        default=None, description="bootstrap confidence intervals of auc, gini, ks, brier"
    )
    interval_confidence: float | None = None
    n_bootstrap: int = 0

    def to_ledger(self) -> tuple[dict[str, Any], dict[str, bytes]]:
        included = {
            "evaluation",
            "metrics",
            "confusion",
            "calibration",
            "before",
            "change",
            "library_versions",
        }
        if self.intervals is not None:
            included |= {"intervals", "interval_confidence", "n_bootstrap"}
        summary = self.model_dump(include=included)
        roc = {
            "false_positive_rate": self.roc_false_positive_rate,
            "true_positive_rate": self.roc_true_positive_rate,
            "thresholds": self.roc_thresholds,
        }
        calibration = csv_bytes(
            list(CalibrationBin.model_fields),
            ([getattr(b, f) for f in CalibrationBin.model_fields] for b in self.calibration),
        )
        return summary, {"roc_curve.json": json_bytes(roc), "calibration.csv": calibration}


def _downsample(length: int, limit: int) -> np.ndarray:
    if length <= limit:
        return np.arange(length)
    return np.unique(np.round(np.linspace(0, length - 1, limit)).astype(int))


def _calibration(truth: np.ndarray, score: np.ndarray) -> list[CalibrationBin]:
    order = np.argsort(score, kind="stable")
    decile = np.empty(len(score), dtype=np.int64)
    decile[order] = np.arange(len(score)) * N_CALIBRATION_BINS // len(score)
    bins = []
    for d in range(N_CALIBRATION_BINS):
        members = decile == d
        if not members.any():
            continue
        s = score[members]
        bins.append(
            CalibrationBin(
                decile=d + 1,
                n=int(members.sum()),
                min_score=float(s.min()),
                max_score=float(s.max()),
                mean_score=float(s.mean()),
                observed_good_rate=float(truth[members].mean()),
            )
        )
    return bins


def _confusion(truth: np.ndarray, score: np.ndarray, threshold: float) -> ConfusionAtThreshold:
    approved = score >= threshold
    good = truth == 1
    tp, fp = int((approved & good).sum()), int((approved & ~good).sum())
    fn, tn = int((~approved & good).sum()), int((~approved & ~good).sum())

    def rate(a: int, b: int) -> float | None:
        return a / (a + b) if a + b else None

    return ConfusionAtThreshold(
        threshold=threshold,
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        approval_rate=float(approved.mean()),
        accuracy=(tp + tn) / len(truth),
        true_positive_rate=rate(tp, fn),
        false_positive_rate=rate(fp, tn),
        precision=rate(tp, fp),
    )


def performance_metrics(truth: np.ndarray, score: np.ndarray) -> PerformanceMetrics:
    """AUC, Gini, KS and Brier of `score` against 0/1 `truth` (both classes present)."""
    fpr, tpr, thresholds = roc_curve(truth, score)
    gap = np.abs(tpr - fpr)
    best = int(np.argmax(gap))
    auc = float(roc_auc_score(truth, score))
    return PerformanceMetrics(
        n=len(truth),
        n_good=int(truth.sum()),
        auc=auc,
        gini=2.0 * auc - 1.0,
        ks=float(gap[best]),
        ks_threshold=float(thresholds[best]),
        brier=float(brier_score_loss(truth, score)),
    )


def performance_report(
    y_true: Any,
    y_score: Any,
    *,
    threshold: float,
    before: PerformanceReport | PerformanceMetrics | None = None,
    n_bootstrap: int = 0,
    confidence: float = 0.95,
    seed: int = 0,
) -> PerformanceReport:
    """Performance of probabilities `y_score` of good risk against outcomes `y_true` (1 = good).

    With `n_bootstrap` > 0, the headline metrics get percentile confidence intervals from
    that many row resamples (seeded: the same data gives the same intervals)."""
    if not 0.0 <= threshold <= 1.0:
        raise InvalidParameter(f"threshold={threshold} must be a probability in [0, 1]")
    if n_bootstrap < 0 or not 0.0 < confidence < 1.0:
        raise InvalidParameter("n_bootstrap must be >= 0 and confidence in (0, 1)")
    truth = as_binary(y_true, "y_true")
    score = as_probability(y_score, "y_score")
    same_length(y_true=truth, y_score=score)
    if truth.min() == truth.max():
        raise SingleClassTarget("y_true", int(truth[0]))
    metrics = performance_metrics(truth, score)
    fpr, tpr, thresholds = roc_curve(truth, score)
    keep = _downsample(len(fpr), MAX_ROC_POINTS)
    previous = before.metrics if isinstance(before, PerformanceReport) else before
    change = None
    if previous is not None:
        change = {m: getattr(metrics, m) - getattr(previous, m) for m in _HEADLINE}
    return PerformanceReport(
        library_versions=library_versions("sklearn"),
        metrics=metrics,
        confusion=_confusion(truth, score, threshold),
        calibration=_calibration(truth, score),
        roc_false_positive_rate=fpr[keep].tolist(),
        roc_true_positive_rate=tpr[keep].tolist(),
        roc_thresholds=[float(t) if np.isfinite(t) else None for t in thresholds[keep]],
        before=previous,
        change=change,
        intervals=_bootstrap(truth, score, n_bootstrap, confidence, seed) if n_bootstrap else None,
        interval_confidence=confidence if n_bootstrap else None,
        n_bootstrap=n_bootstrap,
    )


def _bootstrap(
    truth: np.ndarray, score: np.ndarray, n: int, confidence: float, seed: int
) -> dict[str, Interval]:
    """Percentile intervals of the headline metrics over `n` row resamples (a resample
    holding one class only is skipped: AUC and KS are undefined there)."""
    rng = np.random.default_rng(seed)
    samples: dict[str, list[float]] = {m: [] for m in _HEADLINE}
    for _ in range(n):
        rows = rng.integers(0, len(truth), len(truth))
        if truth[rows].min() == truth[rows].max():
            continue
        metrics = performance_metrics(truth[rows], score[rows])
        for name in _HEADLINE:
            samples[name].append(getattr(metrics, name))
    tail = (1.0 - confidence) / 2.0 * 100.0
    return {
        name: Interval(
            ci_low=float(np.percentile(values, tail)),
            ci_high=float(np.percentile(values, 100.0 - tail)),
        )
        for name, values in samples.items()
        if values
    }
