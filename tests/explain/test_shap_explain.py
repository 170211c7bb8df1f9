"""Global explanation: importance, direction, dependence data, ledger form."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from explain.results import EvaluationResult
from explain.shap_explain import Explanation, explain_model


@pytest.fixture(scope="module")
def explanation(numeric_lightgbm: Any, applicant_features: pd.DataFrame) -> Explanation:
    return explain_model(numeric_lightgbm, applicant_features.head(500), max_dependence_points=100)


def test_importance_is_mean_absolute_contribution_sorted_descending(
    explanation: Explanation,
) -> None:
    values = np.asarray(explanation.contributions)
    by_feature = dict(zip(explanation.features, np.abs(values).mean(axis=0), strict=True))
    importances = [i.mean_abs_shap for i in explanation.importance]
    assert importances == sorted(importances, reverse=True)
    for item in explanation.importance:
        assert item.mean_abs_shap == pytest.approx(by_feature[item.feature])


def test_direction_follows_how_the_feature_moves_the_score(explanation: Explanation) -> None:
    direction = {i.feature: i.direction for i in explanation.importance}
    assert direction["late_payments_12m"] == "negative"
    assert direction["income"] == "positive"


def test_contributions_add_up_to_the_margin(
    explanation: Explanation, numeric_lightgbm: Any, applicant_features: pd.DataFrame
) -> None:
    margin = numeric_lightgbm.predict(applicant_features.head(500), raw_score=True)
    total = explanation.base_value + np.asarray(explanation.contributions).sum(axis=1)
    np.testing.assert_allclose(total, margin, atol=1e-6)
    assert explanation.output_space == "log_odds"


def test_dependence_points_are_sampled_and_sorted_by_value(explanation: Explanation) -> None:
    for item in explanation.dependence:
        assert item.kind == "numeric"
        assert len(item.values) == len(item.shap) == 100
        assert item.values == sorted(item.values)


def test_categorical_features_get_per_category_means(german_lightgbm: Any, german: Any) -> None:
    result = explain_model(german_lightgbm, german.X)
    checking = next(d for d in result.dependence if d.feature == "checking_account")
    assert checking.kind == "categorical"
    assert set(checking.values) == {"little", "moderate", "not_known", "rich"}
    assert sum(checking.counts or []) == 1000
    importance = next(i for i in result.importance if i.feature == "checking_account")
    assert importance.direction == "categorical" and importance.correlation is None


def test_ledger_form_is_compact_json_with_the_values_as_an_artifact(
    explanation: Explanation,
) -> None:
    summary, artifacts = explanation.to_ledger()
    assert len(json.dumps(summary, allow_nan=False)) < 64 * 1024
    assert summary["engine"] == explanation.engine
    lines = artifacts["shap_values.csv"].decode().splitlines()
    assert lines[0].split(",") == ["row_id", *explanation.features]
    assert len(lines) == 501
    assert json.loads(artifacts["shap_dependence.json"])[0]["feature"]
    assert "lightgbm" in explanation.library_versions and "sklearn" in explanation.library_versions
    if explanation.engine == "fasttreeshap":
        assert "fasttreeshap_fixed" in explanation.library_versions


def test_explanation_round_trips_through_json(explanation: Explanation) -> None:
    back = EvaluationResult.model_validate_json(explanation.model_dump_json())
    assert isinstance(back, Explanation) and back == explanation
