"""Bad input fails with an `ExplainError` that names the column or the problem."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from explain import errors
from explain.contributions import shap_contributions
from explain.data import GERMAN_CREDIT_REASONS
from explain.fairness import fairness_report
from explain.performance import performance_report
from explain.reason_codes import reason_codes


@pytest.fixture(scope="module")
def sensitive() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {"sex": rng.choice(["female", "male"], 200), "age": rng.integers(18, 80, 200)}
    )


@pytest.fixture(scope="module")
def outcomes() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return rng.integers(0, 2, 200), rng.integers(0, 2, 200)


def test_every_error_is_an_explain_error_and_a_value_error() -> None:
    for name in errors.__all__ if hasattr(errors, "__all__") else dir(errors):
        item = getattr(errors, name)
        if isinstance(item, type) and issubclass(item, Exception):
            assert issubclass(item, errors.ExplainError) and issubclass(item, ValueError)


def test_missing_sensitive_column_is_named(outcomes: Any, sensitive: pd.DataFrame) -> None:
    with pytest.raises(errors.MissingColumn, match="'race'"):
        fairness_report(*outcomes, sensitive, columns=["sex", "race"])


def test_missing_model_feature_is_named(german_lightgbm: Any, german: Any) -> None:
    with pytest.raises(errors.MissingColumn, match=r"'duration'.*trained"):
        shap_contributions(german_lightgbm, german.X.drop(columns="duration"))


@pytest.mark.parametrize("target", [[0, 1, 2] * 10, ["good", "bad"] * 15, [0.0, np.nan] * 15])
def test_target_that_is_not_zero_one_is_refused(target: list[Any]) -> None:
    with pytest.raises(errors.TargetNotBinary, match="y_true must hold only 0 and 1"):
        performance_report(target, np.linspace(0, 1, len(target)), threshold=0.5)


def test_decisions_that_are_not_zero_one_are_refused(
    outcomes: Any, sensitive: pd.DataFrame
) -> None:
    with pytest.raises(errors.TargetNotBinary, match="y_pred"):
        fairness_report(outcomes[0], np.full(200, 0.7), sensitive)


def test_scores_outside_zero_one_are_refused() -> None:
    with pytest.raises(errors.ScoreNotProbability, match="range from -1"):
        performance_report([0, 1, 1], [-1.0, 0.5, 2.0], threshold=0.5)


def test_empty_category_is_an_empty_group_error(outcomes: Any, sensitive: pd.DataFrame) -> None:
    declared = sensitive.assign(
        sex=pd.Categorical(sensitive["sex"], categories=["female", "male", "other"])
    )
    with pytest.raises(errors.EmptyGroup, match="'other' of sensitive column 'sex'"):
        fairness_report(*outcomes, declared, n_bootstrap=0)
    report = fairness_report(*outcomes, declared, n_bootstrap=0, allow_empty_groups=True)
    assert report.partitions[0].empty_groups == ["other"]


def test_empty_age_band_is_an_empty_group_error(outcomes: Any, sensitive: pd.DataFrame) -> None:
    young = sensitive.assign(age=np.clip(sensitive["age"], 18, 59))
    with pytest.raises(errors.EmptyGroup, match="'60\\+' of sensitive column 'age'"):
        fairness_report(*outcomes, young, n_bootstrap=0)


def test_missing_sensitive_value_must_be_labelled(outcomes: Any, sensitive: pd.DataFrame) -> None:
    holes = sensitive.assign(sex=sensitive["sex"].where(np.arange(200) % 50 != 0))
    with pytest.raises(errors.MissingSensitiveValue, match="'sex' has 4 missing"):
        fairness_report(*outcomes, holes)


def test_continuous_sensitive_column_needs_cut_points(
    outcomes: Any, sensitive: pd.DataFrame
) -> None:
    with pytest.raises(errors.ContinuousSensitiveFeature, match="bands=\\{'age'"):
        fairness_report(*outcomes, sensitive, bands={})


def test_lengths_must_agree(outcomes: Any, sensitive: pd.DataFrame) -> None:
    with pytest.raises(errors.LengthMismatch, match="sensitive=199"):
        fairness_report(*outcomes, sensitive.iloc[:199])


def test_model_without_probabilities_is_refused(
    german: Any, fit_on_applicants: Any, applicant_features: pd.DataFrame
) -> None:
    from sklearn.svm import LinearSVC

    model = fit_on_applicants(LinearSVC())
    with pytest.raises(errors.CannotPredictProbabilities, match="LinearSVC"):
        shap_contributions(model, applicant_features.head(5))
    with pytest.raises(errors.CannotPredictProbabilities):
        reason_codes(model, applicant_features.head(5), catalogue={}, threshold=0.5)


def test_unfitted_model_is_refused(applicant_features: pd.DataFrame) -> None:
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(errors.ModelNotFitted, match="fit"):
        shap_contributions(LogisticRegression(), applicant_features.head(5))


def test_nan_the_model_cannot_take_names_the_column(
    fit_on_applicants: Any, applicant_features: pd.DataFrame, numeric_lightgbm: Any
) -> None:
    from sklearn.linear_model import LogisticRegression

    model = fit_on_applicants(LogisticRegression(max_iter=200))
    holes = applicant_features.head(20).copy()
    holes.loc[holes.index[3], "income"] = np.nan
    with pytest.raises(errors.NonFiniteFeatures, match=r"'income'.*missing values"):
        shap_contributions(model, holes)
    assert shap_contributions(numeric_lightgbm, holes).values.shape == (20, 20)


def test_infinite_feature_values_are_refused_for_every_model(
    numeric_lightgbm: Any, applicant_features: pd.DataFrame
) -> None:
    bad = applicant_features.head(10).copy()
    bad.loc[bad.index[0], "debt_to_income"] = np.inf
    with pytest.raises(errors.NonFiniteFeatures, match=r"'debt_to_income'.*infinite"):
        shap_contributions(numeric_lightgbm, bad)


def test_features_must_be_a_named_frame(
    numeric_lightgbm: Any, applicant_features: pd.DataFrame
) -> None:
    with pytest.raises(errors.InvalidParameter, match="DataFrame"):
        shap_contributions(numeric_lightgbm, applicant_features.to_numpy())


def test_no_rows_is_an_error(german_lightgbm: Any, german: Any) -> None:
    with pytest.raises(errors.EmptyInput, match="X has no rows"):
        reason_codes(
            german_lightgbm, german.X.head(0), catalogue=GERMAN_CREDIT_REASONS, threshold=0.5
        )


def test_nan_is_accepted_when_the_pipeline_imputes_it(
    fit_on_applicants: Any, applicant_features: pd.DataFrame
) -> None:
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = fit_on_applicants(make_pipeline(SimpleImputer(), LogisticRegression(max_iter=300)))
    holes = applicant_features.head(20).copy()
    holes.loc[holes.index[3], "income"] = np.nan
    result = shap_contributions(model, holes, background=applicant_features.iloc[100:200])
    assert result.engine == "shap-linear" and result.max_additivity_error < 1e-9
