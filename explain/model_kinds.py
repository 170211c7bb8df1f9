"""What kind of model we were handed, and how to read its probability and raw output.

Explainers only ever see fitted binary classifiers with `predict_proba`: a credit decision
is a probability of good risk compared with a cut-off. Libraries are recognised by module
and class name, so nothing here imports LightGBM or XGBoost unless the model came from them.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.utils import get_tags
from sklearn.utils.validation import check_is_fitted

from explain.checks import columns_with_missing, refuse_infinite
from explain.errors import (
    CannotPredictProbabilities,
    ExplainError,
    MissingColumn,
    ModelNotFitted,
    NonFiniteFeatures,
    TargetNotBinary,
)

TreeFamily = Literal["lightgbm", "xgboost", "sklearn"]
OutputSpace = Literal["log_odds", "probability"]

_SKLEARN_BOOSTERS = {"GradientBoostingClassifier", "HistGradientBoostingClassifier"}
_SKLEARN_FORESTS = {"RandomForestClassifier", "ExtraTreesClassifier", "DecisionTreeClassifier"}


def _library(model: Any) -> str:
    return type(model).__module__.split(".")[0]


def tree_family(model: Any) -> TreeFamily | None:
    """The tree library of a tree-ensemble classifier, or None for other models."""
    library, name = _library(model), type(model).__name__
    if library == "lightgbm" and name == "LGBMClassifier":
        return "lightgbm"
    if library == "xgboost" and name == "XGBClassifier":
        return "xgboost"
    if library == "sklearn" and name in _SKLEARN_BOOSTERS | _SKLEARN_FORESTS:
        return "sklearn"
    return None


def tree_output_space(model: Any) -> OutputSpace:
    """Boosters explain the log-odds margin; sklearn forests explain the probability."""
    return "probability" if type(model).__name__ in _SKLEARN_FORESTS else "log_odds"


def tree_raw_output(model: Any, X: pd.DataFrame) -> np.ndarray:
    """The model output that tree SHAP values add up to (margin or probability)."""
    family = tree_family(model)
    if family == "lightgbm":
        return np.asarray(model.predict(X, raw_score=True), dtype=np.float64)
    if family == "xgboost":
        return np.asarray(model.predict(X, output_margin=True), dtype=np.float64)
    if type(model).__name__ in _SKLEARN_BOOSTERS:
        return np.asarray(model.decision_function(X), dtype=np.float64)
    return np.asarray(model.predict_proba(X)[:, 1], dtype=np.float64)


def linear_parts(model: Any) -> tuple[Pipeline | None, Any] | None:
    """(preprocessing, linear classifier) for a linear model or Pipeline ending in one."""
    final = model.steps[-1][1] if isinstance(model, Pipeline) else model
    is_linear = (
        type(final).__module__.startswith("sklearn.linear_model")
        and hasattr(final, "coef_")
        and hasattr(final, "decision_function")
    )
    if not is_linear:
        return None
    if isinstance(model, Pipeline) and len(model.steps) > 1:
        return model[:-1], final
    return None, final


def require_fitted_binary(model: Any) -> None:
    """Raise unless `model` is a fitted two-class classifier with predict_proba."""
    if not hasattr(model, "predict_proba"):
        raise CannotPredictProbabilities(model, "it has no predict_proba")
    try:
        check_is_fitted(model)
    except NotFittedError:
        raise ModelNotFitted(model) from None
    except TypeError:
        pass  # not a scikit-learn estimator; predict_proba will tell
    classes = getattr(model, "classes_", None)
    if classes is not None and len(classes) != 2:
        raise TargetNotBinary(f"the classes of model {type(model).__name__}", classes)


def positive_probability(model: Any, X: pd.DataFrame) -> np.ndarray:
    """P(class 1) for each row: the probability of good risk."""
    try:
        proba = np.asarray(model.predict_proba(X), dtype=np.float64)
    except NotFittedError:
        raise ModelNotFitted(model) from None
    except (AttributeError, NotImplementedError) as error:
        raise CannotPredictProbabilities(model, str(error)) from error
    if proba.ndim != 2 or proba.shape[1] != 2:
        raise TargetNotBinary(f"the output of model {type(model).__name__}", range(proba.shape[-1]))
    return proba[:, 1]


def model_features(model: Any, X: pd.DataFrame) -> pd.DataFrame:
    """`X` restricted to, and ordered as, the columns the model was trained on.

    Extra columns (for example the sensitive ones kept beside the features) are dropped;
    a missing one raises `MissingColumn`. A model trained without names takes X as it is.
    """
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        return X
    names = [str(n) for n in names]
    for name in names:
        if name not in X.columns:
            raise MissingColumn(
                name, where="the features X (the model was trained on it)", available=X.columns
            )
    return X if list(X.columns) == names else X[names]


def _accepts_missing(model: Any) -> bool:
    if _library(model) in {"lightgbm", "xgboost"}:
        return True
    try:
        return bool(get_tags(model).input_tags.allow_nan)
    except (AttributeError, TypeError):
        return False


def refuse_unusable_values(model: Any, X: pd.DataFrame) -> None:
    """Raise `NonFiniteFeatures` for infinity, or NaN the model cannot take.

    Whether a pipeline takes NaN depends on its steps (an imputer, a NaN-aware encoder),
    so when the model's tags do not promise it, a few rows with NaN are tried.
    """
    refuse_infinite(X)
    missing = columns_with_missing(X)
    if not missing or _accepts_missing(model):
        return
    rows = X[X[missing].isna().any(axis=1)].head(5)
    try:
        model.predict_proba(rows)
    except ExplainError:
        raise
    except ValueError as error:
        raise NonFiniteFeatures(missing, "missing values (NaN)") from error
