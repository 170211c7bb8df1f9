"""Per-applicant SHAP contributions for any fitted binary classifier, checked for additivity.

The explainer follows the model: exact TreeSHAP for tree ensembles (LightGBM, XGBoost,
scikit-learn boosting and forests), LinearExplainer for linear and logistic models
(Pipelines included, in the original columns), and shap's KernelExplainer for anything
else. Every result is checked: base value plus the row's contributions must equal the model
output within `ADDITIVITY_TOLERANCE`, or `AdditivityError` is raised. Nothing is returned
that does not add up.

A row's contributions depend on that row, the model and the recorded explanation
background alone (`explain.explanation_background`), never on the other rows of the batch,
so an applicant explained alone gets what they get in a decision file:

- trees: path-dependent TreeSHAP measures against the training cover stored in the trees
  and needs no background (one, if given, is checked against the model's features); each
  engine computes a row on its own, bitwise alike alone and in a batch (FastTreeSHAP's v1,
  used below 256 rows, and v2 agree to ~1e-15);
- linear models: coefficient x (value - mean of the background), the background required;
- anything else: Kernel SHAP against a fixed 100 of the background's rows (a seeded draw
  from the background alone), each row explained with the generator reset to `seed`
  (`explain.agnostic_shap`).

Without a background a linear or model-agnostic model is refused (`MissingBackground`):
the batch is never used in its place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from explain.agnostic_shap import kernel_shap_values
from explain.checks import require_frame
from explain.errors import AdditivityError, MissingBackground
from explain.explanation_background import (
    BackgroundReference,
    ExplanationBackground,
    as_background,
)
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
KERNEL_BACKGROUND_ROWS = 100
"""Background rows Kernel SHAP compares with: each row costs ~(2 x features + 2048) x this
many predictions."""


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
    background: BackgroundReference | None = None
    """The background the values were measured against (None: path-dependent TreeSHAP)."""


def _kernel_rows(background: pd.DataFrame) -> pd.DataFrame:
    """A fixed `KERNEL_BACKGROUND_ROWS` of the background: a draw seeded by a constant, so
    it depends on the background alone."""
    if len(background) <= KERNEL_BACKGROUND_ROWS:
        return background
    rng = np.random.default_rng(0)
    keep = np.sort(rng.choice(len(background), size=KERNEL_BACKGROUND_ROWS, replace=False))
    return background.iloc[keep]


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
    background: ExplanationBackground | pd.DataFrame | None = None,
    engine: TreeEngine = "auto",
    seed: int = 0,
) -> Contributions:
    """SHAP contributions of each row of `X` to the model's score.

    `background` (the one recorded with the version's run; a DataFrame is taken whole) is
    required by linear models (its column means) and the model-agnostic fallback, and
    checked against the model's features by all; tree models measure against the training
    cover stored in the trees. `engine` chooses the TreeSHAP implementation.
    """
    require_frame(X, "X")
    require_fitted_binary(model)
    X = model_features(model, X)
    refuse_unusable_values(model, X)
    recorded = as_background(background)
    features = [str(c) for c in X.columns]
    bg = None if recorded is None else recorded.for_features(features)
    if bg is not None:
        refuse_unusable_values(model, bg)
    row_ids = [str(i) for i in X.index]
    relative = 0.0
    space: OutputSpace
    is_tree = tree_family(model) is not None
    if bg is None and not is_tree:
        raise MissingBackground(model)
    if is_tree:
        values, base, name = tree_shap_values(model, X, engine=engine)
        output = tree_raw_output(model, X)
        space = tree_output_space(model)
        if tree_family(model) == "xgboost":
            relative = _FLOAT32_RELATIVE
    elif linear_parts(model) is not None:
        assert bg is not None
        values, base, name = linear_shap_values(model, X, bg)
        output = np.asarray(model.decision_function(X), dtype=np.float64)
        space = "log_odds"
    else:
        assert bg is not None
        values, base, name = kernel_shap_values(model, X, _kernel_rows(bg), seed=seed)
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
        background=None if is_tree or recorded is None else recorded.reference(),
    )
