"""Fixtures for the explainer tests: small real data and small real models.

Data and models are session-scoped and kept small (hundreds to a few thousand rows, tens of
trees) so the whole explain suite runs in well under a minute on two cores.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from explain.data import CreditData, load_german_credit
from explain.explanation_background import ExplanationBackground
from explain.synthetic import FEATURES, generate_applicants


@pytest.fixture(scope="session")
def german() -> CreditData:
    return load_german_credit()


@pytest.fixture(scope="session")
def german_lightgbm(german: CreditData) -> Any:
    import lightgbm

    return lightgbm.LGBMClassifier(n_estimators=40, min_child_samples=10, verbose=-1).fit(
        german.X, german.y
    )


@pytest.fixture(scope="session")
def german_logistic(german: CreditData) -> Any:
    """One-hot + scaling + logistic regression: a Pipeline over the original columns."""
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    categorical = [
        c for c in german.X.columns if isinstance(german.X[c].dtype, pd.CategoricalDtype)
    ]
    numeric = [c for c in german.X.columns if c not in categorical]
    preprocess = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), categorical), (StandardScaler(), numeric)
    )
    return make_pipeline(preprocess, LogisticRegression(max_iter=1000)).fit(german.X, german.y)


@pytest.fixture(scope="session")
def german_background(german: CreditData) -> ExplanationBackground:
    """The German credit models' explanation background: every one of the 1,000 rows."""
    return ExplanationBackground.from_training(german.X)


@pytest.fixture(scope="session")
def applicants() -> pd.DataFrame:
    return generate_applicants(2000, seed=7, bias=1.0)


@pytest.fixture(scope="session")
def applicant_features(applicants: pd.DataFrame) -> pd.DataFrame:
    return applicants[list(FEATURES)]


@pytest.fixture(scope="session")
def numeric_lightgbm(applicants: pd.DataFrame, applicant_features: pd.DataFrame) -> Any:
    import lightgbm

    return lightgbm.LGBMClassifier(n_estimators=40, verbose=-1).fit(
        applicant_features, applicants["good"]
    )


@pytest.fixture(scope="session")
def fit_on_applicants(
    applicants: pd.DataFrame, applicant_features: pd.DataFrame
) -> Callable[[Any], Any]:
    """Factory: fit any classifier on the synthetic applicants (quietly)."""

    def fit(model: Any) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return model.fit(applicant_features, applicants["good"])

    return fit


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
