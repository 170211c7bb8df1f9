"""Population stability index per feature and on the score."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explain.errors import MissingColumn
from explain.results import EvaluationResult
from explain.stability import StabilityReport, column_stability, psi_band, stability_report


def test_identical_samples_are_stable_with_zero_psi(rng: np.random.Generator) -> None:
    frame = pd.DataFrame(
        {"income": rng.normal(50, 10, 2000), "housing": rng.choice(["own", "rent"], 2000)}
    )
    report = stability_report(frame, frame.copy())
    assert all(c.psi == pytest.approx(0.0, abs=1e-12) for c in report.features)
    assert all(c.band == "stable" for c in report.features)


def test_shifted_numeric_feature_is_a_shift_and_ranked_first(rng: np.random.Generator) -> None:
    expected = pd.DataFrame({"income": rng.normal(50, 10, 5000), "age": rng.normal(40, 9, 5000)})
    actual = pd.DataFrame({"income": rng.normal(58, 10, 5000), "age": rng.normal(40, 9, 5000)})
    report = stability_report(expected, actual)
    assert report.features[0].column == "income" and report.features[0].band == "shift"
    assert report.features[1].band == "stable"
    assert len(report.features[0].bins) == 10


def test_categorical_psi_matches_the_formula() -> None:
    expected = pd.Series(["a"] * 50 + ["b"] * 50)
    actual = pd.Series(["a"] * 30 + ["b"] * 60 + ["c"] * 10)
    result = column_stability("x", expected, actual)
    floor = 1e-4
    terms = [
        (0.3 - 0.5) * math.log(0.3 / 0.5),
        (0.6 - 0.5) * math.log(0.6 / 0.5),
        (0.1 - floor) * math.log(0.1 / floor),
    ]
    assert result.kind == "categorical"
    assert result.psi == pytest.approx(sum(terms))
    assert [b.label for b in result.bins] == ["a", "b", "c"]


def test_missing_values_are_a_bin_of_their_own() -> None:
    expected = pd.Series([1.0, 2.0, 3.0, 4.0] * 25)
    actual = pd.Series([1.0, 2.0, np.nan, 4.0] * 25)
    result = column_stability("x", expected, actual)
    missing = next(b for b in result.bins if b.label == "<missing>")
    assert missing.actual_share == 0.25 and missing.expected_share == 0.0


def test_score_psi_is_reported_beside_the_features(rng: np.random.Generator) -> None:
    frame = pd.DataFrame({"x": rng.normal(size=1000)})
    report = stability_report(
        frame, frame, score_expected=rng.beta(5, 2, 1000), score_actual=rng.beta(2, 5, 1000)
    )
    assert report.score is not None and report.score.band == "shift"


def test_bands_follow_the_usual_cut_offs() -> None:
    assert [psi_band(v) for v in (0.0, 0.099, 0.1, 0.25, 0.2501)] == [
        "stable",
        "stable",
        "watch",
        "watch",
        "shift",
    ]


def test_a_column_missing_from_the_new_sample_is_named() -> None:
    expected = pd.DataFrame({"income": [1.0, 2.0], "age": [30, 40]})
    with pytest.raises(MissingColumn, match=r"'age'.*actual"):
        stability_report(expected, expected[["income"]])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.sampled_from("abcd"), min_size=1, max_size=60),
    st.lists(st.sampled_from("abcde"), min_size=1, max_size=60),
)
def test_categorical_psi_is_non_negative_and_symmetric(left: list[str], right: list[str]) -> None:
    forward = column_stability("x", pd.Series(left), pd.Series(right)).psi
    backward = column_stability("x", pd.Series(right), pd.Series(left)).psi
    assert forward >= 0.0
    assert forward == pytest.approx(backward, abs=1e-12)


def test_ledger_form_and_round_trip(rng: np.random.Generator) -> None:
    frame = pd.DataFrame({"x": rng.normal(size=500), "y": rng.choice(["p", "q"], 500)})
    report = stability_report(frame.iloc[:250], frame.iloc[250:])
    summary, artifacts = report.to_ledger()
    assert len(json.dumps(summary, allow_nan=False)) < 64 * 1024
    assert artifacts["psi_bins.csv"].startswith(b"column,bin,expected_share")
    back = EvaluationResult.model_validate_json(report.model_dump_json())
    assert isinstance(back, StabilityReport) and back == report
