"""Per-applicant SHAP contributions for any fitted binary classifier, checked for additivity.

The explainer follows the model: exact TreeSHAP for tree ensembles (LightGBM, XGBoost,
scikit-learn boosting and forests), LinearExplainer for linear and logistic models
(Pipelines included, in the original columns), and shap's KernelExplainer with a
background sample for anything else. Every result is checked: base value plus the row's
contributions must equal the model output within `ADDITIVITY_TOLERANCE`, or
`AdditivityError` is raised. Nothing is returned that does not add up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from explain.agnostic_shap import kernel_shap_values
from explain.checks import refuse_infinite, require_frame
from explain.errors import AdditivityError
from explain.linear_shap import linear_shap_values
from explain.model_kinds import (
    OutputSpace,
    linear_parts,
    model_features,
    positive_probability,
    refuse_unusable_values,
    require_fitted_binary,
    tree_family,
    tree_output_space,
    tree_raw_output,
)
from explain.tree_shap import TreeEngine, tree_shap_values

ADDITIVITY_TOLERANCE = 1e-6
"""Largest allowed |base + sum(contributions) - model output|, in output units."""

# XGBoost evaluates trees in float32: its own margin is only good to ~1e-7 relative.
_FLOAT32_RELATIVE = 4e-7
_DEFAULT_BACKGROUND_ROWS = 100


@dataclass(frozen=True)
class Contributions:
    """SHAP values of one batch of applicants (rows) over the model's features."""

    values: np.ndarray
    """(rows, features) contributions, in `output_space` units."""
    base_value: float
    features: list[str]
    row_ids: list[str]
    output_space: OutputSpace
    engine: str
    max_additivity_error: float


def _background(
    model: Any, X: pd.DataFrame, background: pd.DataFrame | None, rows: int | None, seed: int
) -> pd.DataFrame:
    if background is None:
        if rows is None or len(X) <= rows:
            return X
        return X.sample(n=rows, random_state=seed)
    background = model_features(model, require_frame(background, "background"))
    refuse_infinite(background)
    return background


def check_additivity(
    values: np.ndarray,
    base: float,
    output: np.ndarray,
    *,
    engine: str,
    row_ids: list[str],
    relative: float = 0.0,
) -> float:
    """Return the worst |base + sum - output|; raise `AdditivityError` past the tolerance."""
    error = np.abs(base + values.sum(axis=1) - output)
    allowed = ADDITIVITY_TOLERANCE + relative * np.abs(output)
    worst = int(np.argmax(error - allowed)) if len(error) else 0
    if len(error) and not np.all(error <= allowed):
        raise AdditivityError(engine, float(error[worst]), ADDITIVITY_TOLERANCE, row_ids[worst])
    return float(error.max()) if len(error) else 0.0


def shap_contributions(
    model: Any,
    X: pd.DataFrame,
    *,
    background: pd.DataFrame | None = None,
    engine: TreeEngine = "auto",
    seed: int = 0,
) -> Contributions:
    """SHAP contributions of each row of `X` to the model's score.

    `background` is used by linear models (its column means; default: X) and by the
    model-agnostic fallback (default: a seeded sample of 100 rows of X); tree models use
    the training cover stored in the trees. `engine` chooses the TreeSHAP implementation.
    """
    require_frame(X, "X")
    require_fitted_binary(model)
    X = model_features(model, X)
    refuse_unusable_values(model, X)
    row_ids = [str(i) for i in X.index]
    relative = 0.0
    space: OutputSpace
    if tree_family(model) is not None:
        values, base, name = tree_shap_values(model, X, engine=engine)
        output = tree_raw_output(model, X)
        space = tree_output_space(model)
        if tree_family(model) == "xgboost":
            relative = _FLOAT32_RELATIVE
    elif linear_parts(model) is not None:
        bg = _background(model, X, background, None, seed)
        values, base, name = linear_shap_values(model, X, bg)
        output = np.asarray(model.decision_function(X), dtype=np.float64)
        space = "log_odds"
    else:
        bg = _background(model, X, background, _DEFAULT_BACKGROUND_ROWS, seed)
        values, base, name = kernel_shap_values(model, X, bg, seed=seed)
        output = positive_probability(model, X)
        space = "probability"
    worst = check_additivity(values, base, output, engine=name, row_ids=row_ids, relative=relative)
    return Contributions(
        values=values,
        base_value=base,
        features=[str(c) for c in X.columns],
        row_ids=row_ids,
        output_space=space,
        engine=name,
        max_additivity_error=worst,
    )
