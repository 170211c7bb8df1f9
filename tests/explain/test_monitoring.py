"""Monitoring a production period: hand-computed measures, thresholds, and every bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from explain.delong import delong_covariance
from explain.errors import (
    ColumnsDiffer,
    DatasetNotFound,
    EmptyInput,
    InvalidParameter,
    MissingColumn,
    OutcomesMismatch,
    SingleClassTarget,
)
from explain.monitoring import MonitoringReport, monitor
from explain.monitoring_reference import ReferenceProfile, reference_profile
from explain.monitoring_sources import Period
from explain.monitoring_thresholds import Threshold
from explain.performance import performance_metrics
from explain.results import EvaluationResult
from explain.sample_fingerprint import fingerprint_sample
from explain.score_grid import grid_counts, grid_metrics, ks_interval
from ledger.log.payloads import MonitoringReportPayload
from ledger.log.payloads import Period as LedgerPeriod

PERIOD = ("2026-01-01", "2026-01-31")
WINDOW = ("2026-02-01", "2027-01-31")  # when the outcomes of January's decisions matured

# Reference: 4 applicants, 2 bins (cut at the median). Period: 4 applicants.
REF_SCORES = [0.2, 0.4, 0.6, 0.8]
REF_INPUTS = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "c": ["a", "a", "b", "b"]})
SCORES = np.array([0.3, 0.7, 0.9, 0.95])
INPUTS = pd.DataFrame({"x": [1.0, 1.0, 5.0, np.nan], "c": ["a", "z", "z", None]})
OUTCOMES = np.array([0, 1, 0, 1])  # 1 = good, 0 = default


@pytest.fixture
def profile() -> ReferenceProfile:
    return reference_profile(REF_SCORES, REF_INPUTS, n_bins=2)


def _term(actual: float, expected: float) -> float:
    a, e = max(actual, 1e-4), max(expected, 1e-4)
    return (a - e) * math.log(a / e)


def _measures(report: MonitoringReport) -> dict[str, Any]:
    return {m.name: m for m in report.measures}


def test_the_profile_fixes_the_bins_and_shares_of_the_reference(
    profile: ReferenceProfile,
) -> None:
    assert profile.score.edges == [0.5]
    assert profile.score.counts == [2, 2, 0]
    x, c = profile.features
    assert (x.kind, x.edges, x.counts) == ("numeric", [2.5], [2, 2, 0])
    assert (c.kind, c.labels, c.counts) == (
        "categorical",
        ["a", "b", "<other>", "<missing>"],
        [2, 2, 0, 0],
    )
    assert profile.sample_fingerprint == fingerprint_sample(REF_INPUTS)
    assert ReferenceProfile.model_validate_json(profile.model_dump_json()) == profile


def test_psi_csi_and_approval_rate_are_the_hand_computed_values(
    profile: ReferenceProfile,
) -> None:
    report = monitor(profile, SCORES, INPUTS, period=PERIOD, cut_off=0.7)
    measures = _measures(report)
    # score: 1 of 4 below the reference median 0.5, 3 above; the reference had 2 and 2
    assert measures["score_psi"].value == pytest.approx(0.25 * math.log(3))
    # x: bins [-inf, 2.5) 2/4, [2.5, inf) 1/4, missing 1/4 against 2/4, 2/4, 0
    expected_x = _term(0.5, 0.5) + _term(0.25, 0.5) + _term(0.25, 0.0)
    assert measures["csi:x"].value == pytest.approx(expected_x)
    # c: a 1/4, b 0, unseen "z" -> other 2/4, missing 1/4 against 2/4, 2/4, 0, 0
    expected_c = _term(0.25, 0.5) + _term(0.0, 0.5) + _term(0.5, 0.0) + _term(0.25, 0.0)
    assert measures["csi:c"].value == pytest.approx(expected_c)
    assert measures["approval_rate"].value == 0.75  # 0.7 is at the cut-off: approved
    assert report.approved == 3 and report.n == 4 and report.outcomes is None
    assert "auc" not in measures and report.status is None


def test_outcome_measures_are_the_hand_computed_values(profile: ReferenceProfile) -> None:
    report = monitor(
        profile,
        SCORES,
        INPUTS,
        period=PERIOD,
        cut_off=0.7,
        outcomes=OUTCOMES,
        outcome_window=WINDOW,
    )
    measures = _measures(report)
    assert measures["default_rate"].value == 0.5
    # goods 0.7, 0.95 against bads 0.3, 0.9: 3 of 4 pairs ranked right
    assert measures["auc"].value == pytest.approx(0.75)
    # approve at >= 0.95: TPR 1/2, FPR 0; the first (highest) cut-off where KS is reached
    assert measures["ks"].value == pytest.approx(0.5)
    assert report.outcomes is not None and report.outcomes.ks_threshold == pytest.approx(0.95)
    assert measures["brier"].value == pytest.approx((0.09 + 0.09 + 0.81 + 0.0025) / 4)
    assert report.outcomes.outcome_window.model_dump() == {"start": WINDOW[0], "end": WINDOW[1]}
    assert report.outcomes.matched_by == "position"
    assert report.score_precision == 1e-6
    assert set(report.intervals) == {"approval_rate", "default_rate", "auc", "ks", "brier"}
    # Wilson score intervals of the rates, as scipy computes them
    for name, k in (("approval_rate", 3), ("default_rate", 2)):
        wilson = binomtest(k, 4).proportion_ci(confidence_level=0.95, method="wilson")
        assert (measures[name].ci_low, measures[name].ci_high) == pytest.approx(
            (wilson.low, wilson.high)
        )


def test_grid_metrics_equal_sklearn_on_the_rounded_scores_and_delong_on_rows() -> None:
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 2, 3000)
    score = np.clip(rng.normal(0.4 + 0.2 * truth, 0.2), 0, 1)
    score[:500] = np.round(score[:500], 2)  # many ties
    rounded = np.round(score, 6)
    metrics = grid_metrics(*grid_counts(score, truth))
    expected = performance_metrics(truth, rounded)
    assert metrics.auc == pytest.approx(expected.auc, abs=1e-12)
    assert metrics.ks == pytest.approx(expected.ks, abs=1e-12)
    assert metrics.ks_threshold == pytest.approx(expected.ks_threshold)
    assert metrics.brier == pytest.approx(expected.brier, abs=1e-12)
    _, covariance = delong_covariance(truth, rounded[None, :])
    assert metrics.auc_standard_error == pytest.approx(math.sqrt(covariance[0, 0]), rel=1e-9)


def test_the_ks_interval_is_the_dkw_bound_of_each_class() -> None:
    half = math.sqrt(math.log(4 / 0.05) / 2000) + math.sqrt(math.log(4 / 0.05) / 500)
    assert ks_interval(0.4, 1000, 250, 0.95) == pytest.approx((0.4 - half, 0.4 + half))
    assert ks_interval(0.5, 2, 2, 0.95) == (0.0, 1.0)  # clipped to KS's range


def test_selection_rates_and_the_four_fifths_screen_per_group(profile: ReferenceProfile) -> None:
    groups = pd.DataFrame({"sex": ["F", "F", "M", "M"]})
    report = monitor(
        profile, SCORES, INPUTS, period=PERIOD, cut_off=0.7, groups=groups, min_group_size=1
    )
    (screen,) = report.groups
    rates = {g.group: g.selection_rate.value for g in screen.groups}
    assert rates == {"F": 0.5, "M": 1.0}
    assert screen.reference_group == "M"
    assert screen.four_fifths_violations == ["F"]
    assert _measures(report)["min_impact_ratio"].value == 0.5


def test_statuses_follow_the_thresholds(profile: ReferenceProfile) -> None:
    thresholds = {
        "score_psi": {"amber": 0.1, "red": 0.25, "direction": "higher_is_worse"},
        "csi": {"amber": 0.1, "red": 100.0, "direction": "higher_is_worse"},
        "csi:x": {"amber": 50.0, "red": 100.0, "direction": "higher_is_worse"},
        "approval_rate": {"amber": 0.5, "red": 0.4, "direction": "lower_is_worse"},
        "auc": {"amber": 0.7, "red": 0.6, "direction": "lower_is_worse"},
    }
    report = monitor(profile, SCORES, INPUTS, period=PERIOD, cut_off=0.7, thresholds=thresholds)
    status = {m.name: m.status for m in report.measures}
    assert status == {
        "score_psi": "red",  # 0.275 >= 0.25
        "csi:x": "green",  # its own threshold overrides "csi"
        "csi:c": "amber",
        "approval_rate": "green",
    }
    assert report.status == "red" and report.red == ["score_psi"] and report.amber == ["csi:c"]
    assert report.not_measured == ["auc"]  # no outcomes this period


@pytest.mark.parametrize(
    ("direction", "value", "expected"),
    [
        ("higher_is_worse", 0.05, "green"),
        ("higher_is_worse", 0.1, "amber"),
        ("higher_is_worse", 0.25, "red"),
        ("lower_is_worse", 0.11, "green"),
        ("lower_is_worse", 0.1, "amber"),
        ("lower_is_worse", 0.04, "red"),
    ],
)
def test_a_level_reached_exactly_counts_as_reached(
    direction: Any, value: float, expected: str
) -> None:
    red = 0.25 if direction == "higher_is_worse" else 0.05
    assert Threshold(amber=0.1, red=red, direction=direction).status(value) == expected


@pytest.mark.parametrize(
    ("thresholds", "message"),
    [
        ({"auc": {"amber": 0.6, "red": 0.7, "direction": "lower_is_worse"}}, "out of order"),
        ({"score_psi": {"amber": 0.25, "red": 0.1, "direction": "higher_is_worse"}}, "above"),
        ({"score_psi": {"amber": 0.1, "red": 0.1, "direction": "higher_is_worse"}}, "order"),
        ({"gini": {"amber": 0.1, "red": 0.2, "direction": "higher_is_worse"}}, "unknown"),
        ({"csi:income": {"amber": 0.1, "red": 0.2, "direction": "higher_is_worse"}}, "income"),
        ({"ks": {"amber": 0.1, "red": 0.2, "direction": "up"}}, "direction"),
        ({"ks": {"amber": 0.1, "red": math.inf, "direction": "higher_is_worse"}}, "finite"),
    ],
)
def test_bad_thresholds_are_refused(
    profile: ReferenceProfile, thresholds: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidParameter, match=message):
        monitor(profile, SCORES, INPUTS, period=PERIOD, cut_off=0.7, thresholds=thresholds)


def test_columns_that_differ_from_the_reference_are_named(profile: ReferenceProfile) -> None:
    renamed = INPUTS.rename(columns={"x": "x_new"}).assign(extra=1)
    with pytest.raises(ColumnsDiffer, match=r"lacks 'x'.*'x_new', 'extra'") as caught:
        monitor(profile, SCORES, renamed, period=PERIOD, cut_off=0.7)
    assert caught.value.missing == ["x"] and caught.value.extra == ["x_new", "extra"]


def test_an_empty_sample_is_refused(profile: ReferenceProfile) -> None:
    with pytest.raises(EmptyInput):
        monitor(profile, [], INPUTS.iloc[:0], period=PERIOD, cut_off=0.7)


@pytest.mark.parametrize(
    ("period", "message"),
    [
        (("2026-02-01", "2026-01-01"), "after it ends"),
        (("Jan", "Feb"), "ISO 8601"),
        (("2026-01-01T00:00:00", "2026-01-31"), "without a zone"),
    ],
)
def test_a_bad_period_is_refused(
    profile: ReferenceProfile, period: tuple[str, str], message: str
) -> None:
    with pytest.raises(InvalidParameter, match=message):
        monitor(profile, SCORES, INPUTS, period=period, cut_off=0.7)


def test_outcomes_need_their_window_and_both_classes(profile: ReferenceProfile) -> None:
    with pytest.raises(InvalidParameter, match="outcome_window"):
        monitor(profile, SCORES, INPUTS, period=PERIOD, cut_off=0.7, outcomes=OUTCOMES)
    with pytest.raises(InvalidParameter, match="before the period's decisions begin"):
        monitor(profile, SCORES, INPUTS, period=PERIOD, cut_off=0.7, outcomes=OUTCOMES,
                outcome_window=("2025-01-01", "2025-12-31"))  # fmt: skip
    with pytest.raises(SingleClassTarget):
        monitor(
            profile,
            SCORES,
            INPUTS,
            period=PERIOD,
            cut_off=0.7,
            outcomes=[1, 1, 1, 1],
            outcome_window=WINDOW,
        )


def _by_id(profile: ReferenceProfile, outcomes: pd.Series, ids: list[str]) -> MonitoringReport:
    return monitor(
        profile,
        SCORES,
        INPUTS.assign(decision=ids),
        period=PERIOD,
        cut_off=0.7,
        outcomes=outcomes,
        outcome_window=WINDOW,
        ids="decision",
    )


def test_outcomes_matched_by_decision_id_ignore_their_order(profile: ReferenceProfile) -> None:
    ids = ["d1", "d2", "d3", "d4"]
    shuffled = pd.Series(OUTCOMES, index=ids).iloc[[3, 1, 0, 2]]
    report = _by_id(profile, shuffled, ids)
    assert report.outcomes is not None and report.outcomes.matched_by == "decision id"
    assert _measures(report)["auc"].value == pytest.approx(0.75)


@pytest.mark.parametrize(
    ("outcome_ids", "scored_ids", "message"),
    [
        (["d1", "d2", "d3", "d9"], ["d1", "d2", "d3", "d4"], "1 scored decision.*no outcome.*d4"),
        (["d1", "d2", "d3", "d4", "d5"], ["d1", "d2", "d3", "d4"], "1 outcome.*not scored"),
        (["d1", "d2", "d3", "d4"], ["d1", "d2", "d3", "d3"], "scored more than once"),
        (["d1", "d1", "d3", "d4"], ["d1", "d2", "d3", "d4"], "several outcomes"),
    ],
)
def test_outcomes_whose_ids_do_not_match_the_scored_rows_are_refused(
    profile: ReferenceProfile, outcome_ids: list[str], scored_ids: list[str], message: str
) -> None:
    values = [*OUTCOMES, 1][: len(outcome_ids)]
    with pytest.raises(OutcomesMismatch, match=message):
        _by_id(profile, pd.Series(values, index=outcome_ids), scored_ids)


def test_positional_outcomes_of_another_length_are_refused(profile: ReferenceProfile) -> None:
    with pytest.raises(ValueError, match="outcomes=3"):
        monitor(
            profile,
            SCORES,
            INPUTS,
            period=PERIOD,
            cut_off=0.7,
            outcomes=[0, 1, 1],
            outcome_window=WINDOW,
        )


def test_a_named_column_that_is_absent_is_refused(profile: ReferenceProfile) -> None:
    with pytest.raises(MissingColumn, match="'score'"):
        monitor(profile, "score", INPUTS, period=PERIOD, cut_off=0.7)


def test_a_dataset_path_that_does_not_exist_is_refused(
    profile: ReferenceProfile, tmp_path: Path
) -> None:
    with pytest.raises(DatasetNotFound, match="no Parquet dataset"):
        monitor(profile, "score", tmp_path / "missing", period=PERIOD, cut_off=0.7)


def test_the_report_goes_to_the_ledger_and_reads_back(profile: ReferenceProfile) -> None:
    report = monitor(
        profile,
        SCORES,
        INPUTS,
        period=PERIOD,
        cut_off=0.7,
        outcomes=OUTCOMES,
        outcome_window=WINDOW,
        groups=pd.DataFrame({"sex": ["F", "F", "M", "M"]}),
        min_group_size=1,
        thresholds={"auc": {"amber": 0.8, "red": 0.7, "direction": "lower_is_worse"}},
    )
    summary, artifacts = report.to_ledger()
    json.dumps(summary, allow_nan=False)
    assert summary["evaluation"] == "monitoring" and summary["status"] == "amber"
    assert summary["reference_fingerprint"] == profile.sample_fingerprint
    assert {m["name"] for m in summary["measures"]} >= {"score_psi", "auc", "min_impact_ratio"}
    assert artifacts["monitoring_bins.csv"].startswith(b"column,bin,expected_share")
    assert b"\nsex,F,2,1,0.5," in artifacts["monitoring_groups.csv"]
    assert EvaluationResult.model_validate_json(report.model_dump_json()) == report


def test_the_report_payload_is_the_ledgers_monitoring_report(profile: ReferenceProfile) -> None:
    """The conversion of explain's report into the ledger's payload, and one period shape."""
    assert set(Period.model_fields) == set(LedgerPeriod.model_fields)
    report = monitor(
        profile, SCORES, INPUTS, period=("2026-01-01T02:00:00+02:00", "2026-01-31"),
        cut_off=0.7, outcomes=OUTCOMES, outcome_window=WINDOW,
        thresholds={"auc": {"amber": 0.8, "red": 0.7, "direction": "lower_is_worse"},
                    "approval_rate": {"amber": 0.2, "red": 0.1, "direction": "lower_is_worse"}},
    )  # fmt: skip
    payload = report.report_payload()
    assert payload["period"] == {"start": "2026-01-01T00:00:00Z", "end": "2026-01-31"}
    recorded = MonitoringReportPayload.model_validate({"plan": "ab" * 32, **payload})
    assert recorded.period.model_dump() == report.period.model_dump()
    assert recorded.outcome_window is not None
    assert recorded.outcome_window.model_dump() == {"start": WINDOW[0], "end": WINDOW[1]}
    assert set(recorded.measures) == {"auc", "approval_rate"}  # what has a threshold
    assert recorded.measures["approval_rate"].ci_low is not None and recorded.rows == 4
    unthresholded = monitor(profile, SCORES, INPUTS, period=PERIOD, cut_off=0.7)
    with pytest.raises(InvalidParameter, match="the plan's thresholds"):
        unthresholded.report_payload()
