"""SHAP contributions agree with shap called directly, and always add up to the model."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shap

from explain.contributions import ADDITIVITY_TOLERANCE, check_additivity, shap_contributions
from explain.errors import AdditivityError, InvalidParameter
from explain.tree_shap import choose_engine, fasttreeshap_module


def _shap_tree_values(model: Any, X: pd.DataFrame) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = shap.TreeExplainer(model).shap_values(X)
    values = np.asarray(values)
    return values[:, :, 1] if values.ndim == 3 else values


def _tree_models() -> list[Any]:
    import lightgbm
    from sklearn.ensemble import (
        GradientBoostingClassifier,
        HistGradientBoostingClassifier,
        RandomForestClassifier,
    )

    models = [
        lightgbm.LGBMClassifier(n_estimators=30, verbose=-1),
        GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=0),
        HistGradientBoostingClassifier(max_iter=10, random_state=0),
        RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0),
    ]
    try:
        import xgboost

        models.append(xgboost.XGBClassifier(n_estimators=30, max_depth=4))
    except ImportError:
        pass
    return models


@pytest.mark.parametrize("model", _tree_models(), ids=lambda m: type(m).__name__)
def test_tree_contributions_match_shap_tree_explainer(
    model: Any, fit_on_applicants: Any, applicant_features: pd.DataFrame
) -> None:
    fitted = fit_on_applicants(model)
    X = applicant_features.head(400)
    ours = shap_contributions(fitted, X)
    reference = _shap_tree_values(fitted, X)
    # XGBoost evaluates in float32: shap reads XGBoost's float32 contributions.
    tolerance = 1e-5 if type(model).__name__ == "XGBClassifier" else 1e-6
    assert np.abs(ours.values - reference).max() < tolerance
    assert ours.max_additivity_error < 1e-5
    assert ours.features == list(X.columns)
    assert ours.row_ids == [str(i) for i in X.index]


@pytest.mark.skipif(fasttreeshap_module() is None, reason="fasttreeshap-fixed not installed")
@pytest.mark.parametrize("rows", [50, 400])
def test_fast_engine_equals_lightgbm_native_contributions_to_1e_6(
    rows: int, numeric_lightgbm: Any, applicant_features: pd.DataFrame
) -> None:
    X = applicant_features.head(rows)
    fast = shap_contributions(numeric_lightgbm, X, engine="fasttreeshap")
    native = shap_contributions(numeric_lightgbm, X, engine="native")
    assert fast.engine == "fasttreeshap" and native.engine == "native"
    assert np.abs(fast.values - native.values).max() < 1e-6
    assert fast.base_value == pytest.approx(native.base_value, abs=1e-9)


def test_lightgbm_with_categorical_splits_uses_the_native_engine(
    german_lightgbm: Any, german: Any
) -> None:
    ours = shap_contributions(german_lightgbm, german.X)
    assert ours.engine == "native"
    assert np.abs(ours.values - _shap_tree_values(german_lightgbm, german.X)).max() < 1e-6


def test_engine_that_cannot_read_the_model_is_refused(german_lightgbm: Any) -> None:
    with pytest.raises(InvalidParameter, match="fasttreeshap"):
        choose_engine(german_lightgbm, "fasttreeshap")


def test_linear_pipeline_is_explained_in_original_columns(
    german_logistic: Any, german: Any
) -> None:
    X = german.X
    ours = shap_contributions(german_logistic, X, background=X)
    assert ours.engine == "shap-linear" and ours.output_space == "log_odds"
    assert ours.features == list(X.columns)
    assert ours.max_additivity_error < 1e-9

    preprocess, linear = german_logistic[:-1], german_logistic[-1]
    transformed = preprocess.transform(X)
    transformed = transformed.toarray() if hasattr(transformed, "toarray") else transformed
    masker = shap.maskers.Independent(transformed, max_samples=len(transformed))
    reference = shap.LinearExplainer(linear, masker).shap_values(transformed)
    names = list(preprocess.get_feature_names_out())
    for index, column in enumerate(X.columns):
        own = [i for i, name in enumerate(names) if name.split("__", 1)[1].startswith(column)]
        summed = reference[:, own].sum(axis=1)
        np.testing.assert_allclose(ours.values[:, index], summed, atol=1e-9)


def test_model_agnostic_fallback_adds_up_to_the_probability(
    fit_on_applicants: Any, applicant_features: pd.DataFrame
) -> None:
    from sklearn.naive_bayes import GaussianNB

    model = fit_on_applicants(GaussianNB())
    X = applicant_features.head(3)
    background = applicant_features.iloc[100:120]
    ours = shap_contributions(model, X, background=background)
    assert ours.engine == "shap-kernel" and ours.output_space == "probability"
    probability = model.predict_proba(X)[:, 1]
    np.testing.assert_allclose(
        ours.base_value + ours.values.sum(axis=1), probability, atol=ADDITIVITY_TOLERANCE
    )


def test_additivity_failure_is_an_error_naming_the_row() -> None:
    values = np.array([[0.5, 0.25], [0.1, 0.1]])
    output = np.array([0.75, 0.3 + 1e-3])
    with pytest.raises(AdditivityError, match="row-b"):
        check_additivity(values, 0.0, output, engine="test", row_ids=["row-a", "row-b"])


def test_additivity_within_tolerance_is_accepted() -> None:
    values = np.array([[0.5, 0.25]])
    error = check_additivity(values, 0.0, np.array([0.75 + 1e-7]), engine="t", row_ids=["a"])
    assert error == pytest.approx(1e-7, rel=1e-3)
