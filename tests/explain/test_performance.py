"""Performance report: the numbers scikit-learn and scipy give, in a ledger-ready shape."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from scipy.stats import ks_2samp
from sklearn.metrics import brier_score_loss, confusion_matrix, roc_auc_score

from explain.errors import SingleClassTarget
from explain.performance import MAX_ROC_POINTS, PerformanceReport, performance_report
from explain.results import EvaluationResult


@pytest.fixture(scope="module")
def scored() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(4)
    y_true = rng.binomial(1, 0.7, 5000)
    y_score = 1 / (1 + np.exp(-(rng.normal(size=5000) + 1.2 * (2 * y_true - 1))))
    return y_true, y_score


@pytest.fixture(scope="module")
def report(scored: tuple[np.ndarray, np.ndarray]) -> PerformanceReport:
    return performance_report(*scored, threshold=0.5)


def test_headline_metrics_equal_sklearn_and_scipy(report: PerformanceReport, scored: tuple) -> None:
    y_true, y_score = scored
    metrics = report.metrics
    assert metrics.auc == pytest.approx(roc_auc_score(y_true, y_score), abs=1e-12)
    assert metrics.gini == pytest.approx(2 * metrics.auc - 1, abs=1e-12)
    ks = ks_2samp(y_score[y_true == 1], y_score[y_true == 0]).statistic
    assert metrics.ks == pytest.approx(ks, abs=1e-12)
    assert metrics.brier == pytest.approx(brier_score_loss(y_true, y_score), abs=1e-12)
    assert metrics.n == 5000 and metrics.n_good == int(y_true.sum())


def test_confusion_matrix_at_the_threshold(report: PerformanceReport, scored: tuple) -> None:
    y_true, y_score = scored
    tn, fp, fn, tp = confusion_matrix(y_true, y_score >= 0.5).ravel()
    c = report.confusion
    assert (c.tn, c.fp, c.fn, c.tp) == (tn, fp, fn, tp)
    assert c.approval_rate == pytest.approx((tp + fp) / 5000)


def test_calibration_has_ten_equal_deciles_in_score_order(report: PerformanceReport) -> None:
    bins = report.calibration
    assert [b.decile for b in bins] == list(range(1, 11))
    assert all(b.n == 500 for b in bins)
    assert all(a.max_score <= b.min_score for a, b in itertools.pairwise(bins))
    assert bins[-1].observed_good_rate > bins[0].observed_good_rate


def test_roc_curve_is_downsampled_for_charts(report: PerformanceReport) -> None:
    assert 2 <= len(report.roc_false_positive_rate) <= MAX_ROC_POINTS
    assert report.roc_false_positive_rate[0] == 0.0 and report.roc_true_positive_rate[-1] == 1.0
    assert report.roc_thresholds[0] is None
    assert report.roc_false_positive_rate == sorted(report.roc_false_positive_rate)


def test_recalibration_report_carries_before_metrics_and_change(
    report: PerformanceReport, scored: tuple
) -> None:
    y_true, y_score = scored
    after = performance_report(
        y_true, np.clip(y_score * 0.9 + 0.05, 0, 1), threshold=0.5, before=report
    )
    assert after.before == report.metrics
    assert after.change is not None
    assert after.change["brier"] == pytest.approx(after.metrics.brier - report.metrics.brier)
    assert after.change["auc"] == pytest.approx(0.0, abs=1e-12)


def test_one_class_outcomes_are_refused() -> None:
    with pytest.raises(SingleClassTarget, match="only class 1"):
        performance_report(np.ones(10), np.linspace(0, 1, 10), threshold=0.5)


def test_ledger_form_and_round_trip(report: PerformanceReport) -> None:
    summary, artifacts = report.to_ledger()
    text = json.dumps(summary, allow_nan=False)
    assert len(text) < 64 * 1024 and summary["metrics"]["ks_threshold"] is not None
    assert set(artifacts) == {"roc_curve.json", "calibration.csv"}
    back = EvaluationResult.model_validate_json(report.model_dump_json())
    assert isinstance(back, PerformanceReport) and back == report
