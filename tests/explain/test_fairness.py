"""Fairness report: fairlearn's numbers, the four-fifths screen, bootstrap intervals."""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import precision_score

from explain.fairness import FairnessReport, PartitionFairness, fairness_report
from explain.groups import band, band_labels
from explain.results import EvaluationResult
from explain.synthetic import generate_applicants


def _decisions(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male"], n, p=[0.4, 0.6])
    age = rng.integers(18, 80, n)
    y_true = rng.binomial(1, 0.7, n)
    y_pred = rng.binomial(1, np.where(sex == "female", 0.5, 0.7) * np.where(y_true, 1.0, 0.7))
    return y_true, y_pred, pd.DataFrame({"sex": sex, "age": age})


@pytest.fixture(scope="module")
def decisions() -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    return _decisions(3000, seed=3)


@pytest.fixture(scope="module")
def report(decisions: Any) -> FairnessReport:
    y_true, y_pred, sensitive = decisions
    return fairness_report(y_true, y_pred, sensitive, n_bootstrap=400, seed=0)


def _partition(report: FairnessReport, name: str) -> PartitionFairness:
    return next(p for p in report.partitions if p.name == name)


def _fairlearn_features(sensitive: pd.DataFrame, name: str) -> pd.DataFrame:
    codes, labels = band(sensitive["age"], (25, 40, 60))
    banded = pd.DataFrame({"sex": sensitive["sex"], "age": np.asarray(labels, dtype=object)[codes]})
    return banded[name.split(" & ")]


@pytest.mark.parametrize("name", ["sex", "age", "sex & age"])
def test_group_rates_and_disparities_equal_fairlearn(
    report: FairnessReport, decisions: Any, name: str
) -> None:
    y_true, y_pred, sensitive = decisions
    features = _fairlearn_features(sensitive, name)
    frame = MetricFrame(
        metrics={
            "selection_rate": selection_rate,
            "true_positive_rate": true_positive_rate,
            "false_positive_rate": false_positive_rate,
            "precision": precision_score,
        },
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=features,
    )
    ours = _partition(report, name)
    for group in ours.groups:
        key = tuple(group.attributes.values())
        expected = frame.by_group.loc[key if len(key) > 1 else key[0]]
        for metric in ("selection_rate", "true_positive_rate", "false_positive_rate", "precision"):
            assert getattr(group, metric).value == pytest.approx(expected[metric], abs=1e-12)
    args = {"y_true": y_true, "y_pred": y_pred, "sensitive_features": features}
    assert ours.demographic_parity_difference.value == pytest.approx(
        demographic_parity_difference(**args), abs=1e-12
    )
    assert ours.demographic_parity_ratio.value == pytest.approx(
        demographic_parity_ratio(**args), abs=1e-12
    )
    assert ours.equalized_odds_difference.value == pytest.approx(
        equalized_odds_difference(**args), abs=1e-12
    )
    assert ours.equalized_odds_ratio.value == pytest.approx(equalized_odds_ratio(**args), abs=1e-12)


def test_bootstrap_intervals_agree_with_fairlearn_row_bootstrap(decisions: Any) -> None:
    y_true, y_pred, sensitive = decisions
    ours = _partition(
        fairness_report(y_true, y_pred, sensitive[["sex"]], n_bootstrap=100, seed=1), "sex"
    )
    frame = MetricFrame(
        metrics=selection_rate,
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=sensitive["sex"],
        n_boot=100,
        ci_quantiles=[0.025, 0.975],
        random_state=1,
    )
    low, high = frame.difference_ci()
    # Same distribution, different random draws: agree within Monte Carlo error
    # (the interval half-width here is about 0.035).
    assert ours.demographic_parity_difference.ci_low == pytest.approx(low, abs=0.02)
    assert ours.demographic_parity_difference.ci_high == pytest.approx(high, abs=0.02)
    by_group_low, by_group_high = frame.by_group_ci
    for group in ours.groups:
        assert group.selection_rate.ci_low == pytest.approx(by_group_low[group.group], abs=0.02)
        assert group.selection_rate.ci_high == pytest.approx(by_group_high[group.group], abs=0.02)


def test_intervals_bracket_the_estimate_and_are_reproducible_for_a_seed(
    report: FairnessReport, decisions: Any
) -> None:
    for partition in report.partitions:
        gap = partition.demographic_parity_difference
        assert gap.ci_low is not None and gap.ci_high is not None
        assert gap.ci_low <= gap.value <= gap.ci_high
    y_true, y_pred, sensitive = decisions
    again = fairness_report(y_true, y_pred, sensitive, n_bootstrap=400, seed=0)
    other = fairness_report(y_true, y_pred, sensitive, n_bootstrap=400, seed=1)
    assert again == report
    assert (
        other.partitions[0].demographic_parity_difference
        != report.partitions[0].demographic_parity_difference
    )


def test_four_fifths_flags_groups_below_the_threshold_against_the_most_favoured(
    report: FairnessReport,
) -> None:
    sex = _partition(report, "sex")
    assert sex.reference_group == "male"
    female = next(g for g in sex.groups if g.group == "female")
    assert female.impact_ratio.value == pytest.approx(sex.demographic_parity_ratio.value)
    assert female.impact_ratio.value < 0.8 and female.four_fifths == "fail"
    assert sex.four_fifths_violations == ["female"]
    assert report.four_fifths_violated
    lenient = fairness_report(*_decisions(3000, seed=3), n_bootstrap=0, threshold=0.6)
    assert _partition(lenient, "sex").four_fifths_violations == []


def test_small_groups_are_flagged_not_reliable_and_left_out_of_comparisons() -> None:
    y_true = np.r_[np.ones(50), np.zeros(50), np.ones(10)].astype(int)
    y_pred = np.r_[np.ones(80), np.zeros(20), np.zeros(10)].astype(int)
    sensitive = pd.DataFrame({"region": ["a"] * 100 + ["b"] * 10})
    sensitive.loc[40:99, "region"] = "c"
    report = fairness_report(y_true, y_pred, sensitive, n_bootstrap=50)
    region = _partition(report, "region")
    small = next(g for g in region.groups if g.group == "b")
    assert small.n == 10 and not small.reliable and small.four_fifths == "not_reliable"
    assert region.unreliable_groups == ["b"]
    rates = {g.group: g.selection_rate.value for g in region.groups}
    assert rates["b"] == 0.0
    assert region.demographic_parity_difference.value == pytest.approx(rates["a"] - rates["c"])


def test_age_is_banded_at_default_cut_points() -> None:
    assert band_labels((25, 40, 60)) == ["<25", "25-40", "40-60", "60+"]
    codes, labels = band(pd.Series([18, 24, 25, 39, 40, 59, 60, 90], name="age"), (25, 40, 60))
    assert [labels[c] for c in codes] == [
        "<25",
        "<25",
        "25-40",
        "25-40",
        "40-60",
        "40-60",
        "60+",
        "60+",
    ]


def test_without_resamples_there_are_no_intervals(decisions: Any) -> None:
    report = fairness_report(*decisions, n_bootstrap=0)
    gap = report.partitions[0].demographic_parity_difference
    assert gap.value is not None and gap.ci_low is None and gap.ci_high is None


def test_synthetic_bias_shows_up_in_the_four_fifths_screen() -> None:
    fair = generate_applicants(20_000, seed=5, bias=0.0)
    biased = generate_applicants(20_000, seed=5, bias=2.0)
    outcome = {
        name: _partition(fairness_report(d["good"], d["good"], d[["sex"]], n_bootstrap=0), "sex")
        for name, d in (("fair", fair), ("biased", biased))
    }
    assert outcome["fair"].four_fifths_violations == []
    assert outcome["biased"].four_fifths_violations == ["female"]


def test_full_report_on_100000_rows_with_1000_resamples_is_fast() -> None:
    y_true, y_pred, sensitive = _decisions(100_000, seed=9)
    start = time.perf_counter()
    report = fairness_report(y_true, y_pred, sensitive, n_bootstrap=1000, seed=0)
    assert time.perf_counter() - start < 10.0
    assert [p.name for p in report.partitions] == ["sex", "age", "sex & age"]


def test_ledger_summary_is_small_json_and_the_tables_are_artifacts(
    report: FairnessReport,
) -> None:
    summary, artifacts = report.to_ledger()
    assert len(json.dumps(summary, allow_nan=False)) < 64 * 1024
    assert summary["four_fifths_violated"] is True
    assert {p["name"] for p in summary["partitions"]} == {"sex", "age", "sex & age"}
    groups = sum(len(p.groups) for p in report.partitions)
    assert artifacts["fairness_groups.csv"].count(b"\n") == groups + 1
    assert len(json.loads(artifacts["fairness_groups.json"])) == 3
    back = EvaluationResult.model_validate_json(report.model_dump_json())
    assert isinstance(back, FairnessReport) and back == report


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("abc"), st.sampled_from("xy"), st.booleans(), st.booleans()),
        min_size=1,
        max_size=80,
    )
)
def test_group_counts_and_rates_equal_a_direct_count(rows: list[tuple]) -> None:
    frame = pd.DataFrame(rows, columns=["g", "h", "truth", "decision"])
    report = fairness_report(
        frame["truth"], frame["decision"], frame[["g", "h"]], n_bootstrap=20, min_group_size=1
    )
    for partition in report.partitions:
        keys = partition.attributes
        for group in partition.groups:
            members = frame[(frame[keys] == pd.Series(group.attributes)).all(axis=1)]
            assert group.n == len(members)
            assert group.tp == int((members.truth & members.decision).sum())
            assert group.fp == int((~members.truth & members.decision).sum())
            assert group.selection_rate.value == pytest.approx(members.decision.mean())
